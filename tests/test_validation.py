"""pydantic's validation errors as catalog messages (app/validation.py)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

import pytest
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from app import i18n
from app.message import Message
from app.validation import MessageError, explain
from tests.japanese import in_japanese


class Form(BaseModel):
    model_config = ConfigDict(extra="forbid")

    epochs: Annotated[int, Field(ge=1, le=1000)] = 30
    lr: Annotated[float, Field(gt=0, lt=10)] = 0.1
    device: Literal["auto", "cpu", "cuda"] = "auto"
    name: Annotated[str, Field(max_length=5, pattern=r"^[a-z]+$")] = "a"
    flag: bool = False
    widths: Annotated[list[int], Field(max_length=2)] = []

    @model_validator(mode="after")
    def _ours(self) -> Form:
        if self.epochs == 13:
            raise MessageError(Message("epochs is {n}, the limit is {limit}", n=13, limit=12))
        return self


def _errors(**fields: Any) -> list[Any]:
    with pytest.raises(ValidationError) as invalid:
        Form(**fields)
    return list(invalid.value.errors())


@pytest.mark.parametrize(("fields", "english"), [
    ({"epochs": 0}, "Input should be greater than or equal to 1"),
    ({"epochs": 5000}, "Input should be less than or equal to 1000"),
    ({"lr": 0}, "Input should be greater than 0"),
    ({"lr": 10}, "Input should be less than 10"),
    ({"epochs": "lots"}, "Input should be a valid integer, unable to parse string as an "
                         "integer"),
    ({"epochs": 1.5}, "Input should be a valid integer, got a number with a fractional part"),
    ({"lr": "x"}, "Input should be a valid number, unable to parse string as a number"),
    ({"device": "tpu"}, "Input should be 'auto', 'cpu' or 'cuda'"),
    ({"name": "abcdefg"}, "String should have at most 5 characters"),
    ({"name": "A"}, "String should match pattern '^[a-z]+$'"),
    ({"flag": "maybe"}, "Input should be a valid boolean, unable to interpret input"),
    # pydantic: "List should have at most 2 items after validation, not 3"; said without
    # the English type name, which a translation could not use
    ({"widths": [1, 2, 3]}, "Should have at most 2 items, not 3"),
    ({"colour": "red"}, "Extra inputs are not permitted"),
    ({"epochs": 13}, "epochs is 13, the limit is 12"),
])
def test_pydantics_sentence_in_english_and_japanese(fields: dict[str, Any],
                                                   english: str) -> None:
    (error,) = _errors(**fields)
    said = explain(error)
    assert isinstance(said, Message), error
    assert str(said) == english
    if error["type"] != "too_long":  # pydantic's own English, word for word
        assert str(error["msg"]).removeprefix("Value error, ") == english
    assert in_japanese(said)


def test_the_range_reads_naturally_in_japanese() -> None:
    (error,) = _errors(epochs=0)
    said = explain(error)
    assert isinstance(said, Message)
    assert i18n.translate(said, "ja") == "1 以上の値を入力してください"


def test_an_error_of_another_kind_keeps_pydantics_words() -> None:
    error = {"type": "url_parsing", "msg": "Input should be a valid URL, empty host",
             "ctx": {"error": "empty host"}}
    assert explain(error) == "Input should be a valid URL, empty host"
    assert explain({"type": "value_error", "msg": "Value error, not ours"}) == "not ours"
