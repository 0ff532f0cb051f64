"""Personal data never reaches a provider: under the default policy it is redacted first.

Requests carry an e-mail address, a phone number, a payment card number (valid Luhn), an
IBAN (valid checksum) and API-key-like secrets, in the user's message, an earlier turn and
the system prompt, on the immediate and the Batch API paths of two providers. The
emulator's capture holds every body it received, OpenAI batch input files included; none
may contain any of them, in any spacing. Each request also carries a harmless marker, and
every answered request's marker must be in the capture: proof that its egress was seen.
"""

from __future__ import annotations

import json
import re
import secrets

from tests.integration.harness import Deployment, request
from tests.reliability.support import EmulatorControl, answers_for, group_by_request

TOKEN = secrets.token_hex(4)
PII = {
    "email": f"jane.doe.{TOKEN}@example.org",
    "phone": "+49 151 2345 6789",
    "card": "4111 1111 1111 1111",
    "iban": "DE89 3704 0044 0532 0130 00",
    "openai-like key": f"sk-proj-{secrets.token_urlsafe(30)}",
    "aws-like key": "AKIA" + secrets.token_hex(8).upper(),
}
MODELS = ("claude-haiku-4-5", "gpt-4o-mini")


def compact(text: str) -> str:
    """Without the separators people put in numbers: ``+49 151…`` and ``+49151…`` match."""
    return re.sub(r"[\s\-.()/]", "", text).lower()


def prompt(marker: str) -> str:
    return (
        f"Ticket {marker}: please email {PII['email']} or call {PII['phone']}. "
        f"Refund card {PII['card']} or IBAN {PII['iban']}. "
        f"Our key is {PII['openai-like key']} and {PII['aws-like key']}."
    )


async def test_personal_data_is_never_sent_to_a_provider(
    deployment: Deployment, emulator: EmulatorControl
) -> None:
    run = deployment.prefix.rstrip(".")
    await emulator.start_capture()
    deployment.start_worker()
    markers: dict[str, str] = {}
    records = []
    for i in range(8):
        request_id = f"{run}-{i}"
        markers[request_id] = f"ZX{TOKEN}{i:02d}"
        extra = {}
        if i % 2:  # in an earlier turn and the system prompt too
            extra["system"] = f"Support desk. Escalations go to {PII['email']}."
        body = request(
            request_id, f"tenant{i % 2}", model=MODELS[i % 2],
            priority="batch" if i % 4 >= 2 else "immediate",
            content=prompt(markers[request_id]), **extra,
        )  # fmt: skip
        if i % 2:
            message = json.loads(body[1])
            message["messages"] = [
                {"role": "user", "content": f"My card is {PII['card']}."},
                {"role": "assistant", "content": f"Noted, card {PII['card']}."},
                *message["messages"],
            ]
            body = (body[0], json.dumps(message).encode())
        records.append(body)
    await deployment.publish(records)

    by_id = group_by_request(await answers_for(deployment, set(markers), timeout=120))
    assert set(by_id) == set(markers), f"unanswered: {sorted(set(markers) - set(by_id))}"
    captured = json.dumps(await emulator.captured())
    sent = compact(captured)
    reached = [kind for kind, value in PII.items() if compact(value) in sent]
    assert not reached, f"reached the provider: {reached}"
    for request_id, copies in by_id.items():
        if any(a["status"] == "ok" for a in copies):
            assert markers[request_id] in captured, f"{request_id}: egress not captured"
    assert any(a["status"] == "ok" for copies in by_id.values() for a in copies)
