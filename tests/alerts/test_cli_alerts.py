"""``frugalflow alerts test CHANNEL`` as an operator runs it (a real process)."""

from __future__ import annotations

import asyncio
import json
import os
import sys

from frugalflow.alerts.signing import HEADER, verify
from tests.alerts.receivers import HttpReceiver, SmtpReceiver, channel_config

SECRET = "whsec_cli_secret"


async def frugalflow(*args: str, channels: dict[str, object]) -> tuple[int, str, str]:
    env = {**os.environ, "FRUGALFLOW_ALERT_CHANNELS": json.dumps(channels)}
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "frugalflow.cli", *args, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


async def test_alerts_test_sends_one_alert_or_says_why_not(
    http_receiver: HttpReceiver, smtp_receiver: SmtpReceiver
) -> None:
    channels = channel_config(http_receiver, smtp_receiver, SECRET)
    channels["broken"] = {"type": "slack", "url": f"{http_receiver.url}/broken/TOKEN123"}
    http_receiver.default["/broken/TOKEN123"] = (404, "no_service")

    code, out, _ = await frugalflow("alerts", "test", "ops-hook", "--tenant", "acme",
                                    channels=channels)  # fmt: skip
    assert code == 0 and out.startswith("ops-hook: delivered")
    hook = http_receiver.at("/hook")[-1]
    assert verify(SECRET, hook.body, hook.headers[HEADER])
    assert json.loads(hook.body)["kind"] == "test"

    code, _, err = await frugalflow("alerts", "test", "broken", channels=channels)
    assert code == 1 and "not delivered: http_404: no_service" in err
    assert "TOKEN123" not in err

    code, _, err = await frugalflow("alerts", "test", "nope", channels=channels)
    assert code == 2 and "no channel 'nope'" in err and "ops-hook" in err
