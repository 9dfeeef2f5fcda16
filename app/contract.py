"""The OpenAPI document states this server's own limits as schema bounds.

The request models cannot hold them (they are settings, read at start-up), so they are written
into the generated document: a client, or schemathesis, then knows that ``epochs`` above
train_max_epochs is refused before sending it. Limits that span several fields (optimizer
steps, parameters) cannot be bounds; they stay documented 413 answers.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from app.config import Settings

# (schema component, property, JSON Schema keyword, setting)
BOUNDS = (
    ("EvalRequest", "code", "maxLength", "max_source_chars"),
    ("TrainSpec", "epochs", "maximum", "train_max_epochs"),
    ("DatasetSpec", "n_samples", "maximum", "train_max_samples"),
)


def apply_limits(schema: dict[str, Any], settings: Settings) -> dict[str, Any]:
    components = schema.get("components", {}).get("schemas", {})
    for component, prop, keyword, setting in BOUNDS:
        target = components.get(component, {}).get("properties", {}).get(prop)
        if target is None:
            continue
        target[keyword] = min(target.get(keyword, float("inf")), getattr(settings, setting))
        note = f" At most {getattr(settings, setting):,} on this server (setting {setting})."
        target["description"] = target.get("description", "").rstrip() + note
    return schema


def install(app: FastAPI, settings: Settings) -> None:
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = apply_limits(generate(), settings)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
