"""Every limit is a setting with a reason."""

from __future__ import annotations

from app.config import Settings


def test_every_setting_documents_its_reason() -> None:
    for name, field in Settings.model_fields.items():
        assert field.description and len(field.description) > 20, f"{name} has no reason"


def test_settings_come_from_the_environment(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("PLAYGROUND_DEADLINE_S", "9.5")
    assert Settings().deadline_s == 9.5
