"""The README's client example, runnable against a running stack (``make run``):

    .venv/bin/python -m frugalflow.client.example --tenant acme "What is the capital of France?"

Reads ``KAFKA_BOOTSTRAP_SERVERS`` / ``FRUGALFLOW_TOPIC_PREFIX`` like the worker does.
Asks one question and waits for the answer (``complete``), submits two batch-priority
requests and reads their answers (``submit`` + ``answers``), and prints what each cost
and saved. Exit code 0 when every answer came, 1 on a timeout, 2 on an invalid request.
"""

from __future__ import annotations

import argparse
import asyncio
import sys

from frugalflow.client import AnswerTimeout, ClientConfig, FrugalFlowClient, InvalidRequest


async def run(question: str, tenant: str, timeout_s: float) -> int:
    config = ClientConfig.from_env("readme-example", timeout_s=timeout_s)
    async with FrugalFlowClient(config) as client:
        try:
            answer = await client.complete(question, tenant_id=tenant, use_case="faq")
        except InvalidRequest as exc:  # exc.reason is intake's code, e.g. "invalid_field"
            print(f"invalid request: {exc}", file=sys.stderr)
            return 2
        except AnswerTimeout as exc:  # exc.request_id: the answer can still be awaited
            print(str(exc), file=sys.stderr)
            return 1
        print(f"{answer.status} via {answer.path} ({answer.model}): {answer.content}")
        print(f"  cost ${answer.cost_usd}, saved ${answer.savings_usd}")

        ids = {
            await client.submit(f"Summarise point {i} of the report.", tenant_id=tenant)
            for i in (1, 2)
        }
        try:
            async with asyncio.timeout(timeout_s):
                async for later in client.answers():
                    print(f"{later.request_id}: {later.status} via {later.path}, "
                          f"cost ${later.cost_usd}")  # fmt: skip
                    ids.discard(later.request_id)
                    if not ids:
                        break
        except TimeoutError:
            print(f"no answer yet for {sorted(ids)}", file=sys.stderr)
            return 1
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m frugalflow.client.example")
    parser.add_argument("question")
    parser.add_argument("--tenant", default="acme")
    parser.add_argument("--timeout", type=float, default=120.0)
    args = parser.parse_args(argv)
    return asyncio.run(run(args.question, args.tenant, args.timeout))


if __name__ == "__main__":
    sys.exit(main())
