"""The worker's event loop: uvloop by default where installed, the standard loop on request."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator

import pytest
import uvloop

from frugalflow import event_loop
from frugalflow.cli import main
from frugalflow.settings import SettingsError, load_settings
from frugalflow.worker import PER_REQUEST_LOGGERS


@pytest.fixture(autouse=True)
def standard_policy_afterwards() -> Iterator[None]:
    yield
    asyncio.set_event_loop_policy(None)
    for name in PER_REQUEST_LOGGERS:  # main(["worker"]) set them, for this whole process
        logging.getLogger(name).setLevel(logging.NOTSET)


def _loop_made_now() -> asyncio.AbstractEventLoop:
    loop = asyncio.new_event_loop()
    loop.close()
    return loop


def test_auto_means_uvloop_where_it_is_installed() -> None:
    assert load_settings().event_loop == "auto"
    assert event_loop.use_event_loop("auto") == "uvloop"
    assert isinstance(_loop_made_now(), uvloop.Loop)


def test_asyncio_gives_the_standard_loop_back() -> None:
    event_loop.use_event_loop("uvloop")
    assert event_loop.use_event_loop("asyncio") == "asyncio"
    assert not isinstance(_loop_made_now(), uvloop.Loop)


def test_auto_falls_back_where_uvloop_is_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(event_loop.importlib.util, "find_spec", lambda name: None)
    assert event_loop.use_event_loop("auto") == "asyncio"


def test_uvloop_asked_for_but_missing_stops_the_worker_with_exit_2(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(event_loop.importlib.util, "find_spec", lambda name: None)
    monkeypatch.setenv("FRUGALFLOW_EVENT_LOOP", "uvloop")
    assert main(["worker"]) == 2
    assert "uvloop is not installed" in capsys.readouterr().err


def test_an_unknown_loop_is_a_readable_setting_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FRUGALFLOW_EVENT_LOOP", "trio")
    with pytest.raises(SettingsError, match="FRUGALFLOW_EVENT_LOOP"):
        load_settings()
