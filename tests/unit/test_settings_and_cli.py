"""Settings fail with one readable line; the CLI's exit codes are stable."""

from __future__ import annotations

import pytest

from frugalflow.cli import main
from frugalflow.settings import Settings, SettingsError, load_settings
from frugalflow.topics import load_topics


def test_bad_setting_is_one_readable_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FRUGALFLOW_PARTITIONS", "zero")
    with pytest.raises(SettingsError) as info:
        load_settings()
    message = str(info.value)
    assert message.startswith("frugalflow: invalid setting: FRUGALFLOW_PARTITIONS")
    assert "\n" not in message


def test_bad_bootstrap_is_rejected(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", "no-port-here")
    with pytest.raises(SettingsError, match="host:port"):
        load_settings()


def test_secrets_never_print(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-very-secret")
    monkeypatch.setenv("DATABASE_URL", "postgresql://u:hunter2@db/x")
    settings = load_settings()
    assert "very-secret" not in repr(settings) and "hunter2" not in str(settings)
    assert settings.anthropic_api_key is not None
    assert settings.anthropic_api_key.get_secret_value() == "sk-ant-very-secret"


def test_blank_secrets_mean_unset(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", "")
    monkeypatch.setenv("FRUGALFLOW_OPENAI_API_KEY", "  ")
    settings = load_settings()
    assert settings.anthropic_api_key is None and settings.openai_api_key is None


def test_cli_bad_setting_exits_2(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("FRUGALFLOW_WEB_PORT", "-1")
    assert main(["topics", "list"]) == 2
    assert "FRUGALFLOW_WEB_PORT" in capsys.readouterr().err


def test_cli_unknown_command_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["frobnicate"])
    assert info.value.code == 2
    assert "frugalflow:" in capsys.readouterr().err


def test_every_topic_shares_the_partition_count_and_gets_the_prefix() -> None:
    specs = load_topics(Settings(topic_prefix="prod.", partitions=12))
    names = {s.name for s in specs}
    assert {
        "llm.requests",
        "llm.responses",
        "llm.cost-events",
        "llm.dead-letter",
        "llm.alerts",
    } <= names
    assert {s.partitions for s in specs} == {12}
    assert all(s.full_name == f"prod.{s.name}" for s in specs)


def test_secret_whitespace_is_dropped_and_control_characters_refused_without_the_value(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-from-a-file\n")
    key = load_settings().anthropic_api_key
    assert key is not None and key.get_secret_value() == "sk-ant-from-a-file"
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-SECRET\x01tail")
    with pytest.raises(SettingsError) as raised:
        load_settings()
    assert "control character" in str(raised.value) and "SECRET" not in str(raised.value)
    assert "invalid setting: FRUGALFLOW_ANTHROPIC_API_KEY:" in str(raised.value)
