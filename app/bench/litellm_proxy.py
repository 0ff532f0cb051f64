"""The LiteLLM proxy in front of the emulator, for the latency bench's comparison (optional).

Started only when ``litellm`` is importable and its ``litellm`` proxy command is installed
beside this Python (``pip install 'litellm[proxy]'``); FrugalFlow does not depend on it.
The proxy serves one model, ``MODEL``, forwarded to the emulator's OpenAI-compatible
``/v1``, so a call through it and a direct call hit the same emulator endpoint.
"""

from __future__ import annotations

import contextlib
import importlib.util
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import yaml

from frugalflow.infra.process import free_port
from frugalflow.providers.registry import EMULATOR_KEY

START_TIMEOUT_S = 90.0


class ProxyUnavailable(Exception):
    """Why the LiteLLM comparison is skipped (one line)."""


def proxy_command() -> Path:
    if importlib.util.find_spec("litellm") is None:
        raise ProxyUnavailable("litellm is not installed (optional; pip install 'litellm[proxy]')")
    script = Path(sys.executable).parent / "litellm"
    if not script.exists():
        raise ProxyUnavailable(f"litellm is importable but its proxy command {script} is missing")
    return script


@contextlib.contextmanager
def litellm_proxy(emulator_url: str, model: str, workdir: Path) -> Iterator[str]:
    """The proxy's base URL (OpenAI-compatible) while it runs; raises ``ProxyUnavailable``."""
    script = proxy_command()
    config = workdir / "litellm.yaml"
    entry = {"model": f"openai/{model}", "api_base": f"{emulator_url}/v1", "api_key": EMULATOR_KEY}
    config.write_text(
        yaml.safe_dump({"model_list": [{"model_name": model, "litellm_params": entry}]})
    )
    port = free_port()
    log = (workdir / "litellm.log").open("ab")
    proc = subprocess.Popen(
        [str(script), "--config", str(config), "--port", str(port), "--host", "127.0.0.1"],
        stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    log.close()
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_live(proc, f"{base}/health/liveliness", workdir / "litellm.log")
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _wait_live(proc: subprocess.Popen[bytes], url: str, log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise ProxyUnavailable(f"the LiteLLM proxy exited at start (see {log})")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(url, timeout=2).status_code == 200:
                return
        time.sleep(0.5)
    raise ProxyUnavailable(
        f"the LiteLLM proxy did not answer in {START_TIMEOUT_S:.0f}s (see {log})"
    )
