"""A request model that takes JSON types as the OpenAPI schema states them.

pydantic's lax mode turns ``false`` into 0, ``"5"`` into 5 and ``1`` into True, so requests the
published schema calls invalid were accepted (schemathesis: "schema-violating request
accepted"). Its strict mode would refuse ``12.0`` for an integer, which JSON Schema accepts.
This base class refuses exactly what the schema refuses: a boolean or a string where a number
is declared, anything but a boolean where a boolean is, and a fractional number where an
integer is (pydantic already refuses that one).
"""

from __future__ import annotations

import types
from typing import Annotated, Any, Union, get_args, get_origin

from pydantic import BaseModel, ValidationInfo, model_validator

_NUMBERS = (int, float)


def _type_error(where: str, wanted: str, value: Any) -> ValueError:
    return ValueError(f"{where}: expected {wanted}, got {type(value).__name__} {value!r:.40}")


def _check(annotation: Any, value: Any, where: str) -> None:
    origin = get_origin(annotation)
    if origin is Annotated:
        _check(get_args(annotation)[0], value, where)
    elif origin in (Union, types.UnionType):
        options = [a for a in get_args(annotation) if a is not type(None)]
        if value is None or len(options) != 1:
            return  # None is the schema's null; mixed unions are left to pydantic
        _check(options[0], value, where)
    elif annotation is bool:
        if not isinstance(value, bool):
            raise _type_error(where, "true or false", value)
    elif annotation is int or annotation is float:
        if isinstance(value, bool) or not isinstance(value, _NUMBERS):
            raise _type_error(where, "a number" if annotation is float else "an integer", value)
    elif origin in (list, tuple) and isinstance(value, list):
        items = get_args(annotation)
        for index, item in enumerate(value):
            if origin is tuple and not (len(items) == 2 and items[1] is Ellipsis):
                if index < len(items):
                    _check(items[index], item, f"{where}[{index}]")
            elif items:
                _check(items[0], item, f"{where}[{index}]")
    elif origin is dict and isinstance(value, dict) and len(get_args(annotation)) == 2:
        for key, item in value.items():
            _check(get_args(annotation)[1], item, f"{where}.{key}")


# Validation context of a source whose values are all text (an HTML form): lax on purpose.
FROM_TEXT = {"from_text": True}


class JsonModel(BaseModel):
    @model_validator(mode="before")
    @classmethod
    def _schema_types(cls, data: Any, info: ValidationInfo) -> Any:
        from_text = isinstance(info.context, dict) and info.context.get("from_text")
        if isinstance(data, dict) and not from_text:
            for name, field in cls.model_fields.items():
                key = field.alias or name
                if key in data:
                    _check(field.annotation, data[key], key)
        return data
