"""Every sentence the server words at run time reaches a Japanese page in Japanese: the
sandbox's hints, refusals, limits and notices, a lesson's feedback, and form errors.

Each case runs a real program through /eval (the JSON keeps the English text and adds the
msgid) and through the playground form with the Japanese cookie; the page must show the
catalog's Japanese for that msgid and not the English sentence.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from markupsafe import escape

from app import i18n
from app.message import Message
from tests.japanese import in_japanese, is_japanese

HTMX = {"HX-Request": "true"}


@pytest.fixture(autouse=True)
def _no_language_cookie(client: TestClient) -> Iterator[None]:
    client.cookies.clear()
    yield
    client.cookies.clear()


# (case, program, device, where the sentence is: "hint", "message" or "notice")
CASES = [
    ("torch error hint", "a = torch.ones(2, 3)\ntorch.mm(a, a)", "auto", "hint"),
    ("python error hint", "1 / 0", "auto", "hint"),
    ("syntax error hint", "x = (1 +", "auto", "hint"),
    ("refused name", "open('x')", "auto", "message"),
    ("refused name hint", "open('x')", "auto", "hint"),
    ("refused import", "import subprocess", "auto", "message"),
    ("refused attribute", "x = torch.ones(2)\nx.storage()", "auto", "message"),
    ("refused keyword", "torch.add(torch.ones(2), 1, out=torch.ones(2))", "auto", "message"),
    ("os refusal", "import os\nos.listdir('.')", "auto", "message"),
    ("predicted memory limit", "torch.zeros(100000, 100000)", "auto", "message"),
    ("predicted memory hint", "torch.zeros(100000, 100000)", "auto", "hint"),
    ("step limit", "while True:\n    pass", "auto", "message"),
    ("cuda falls back to the cpu", "torch.ones(2)", "cuda", "notice"),
    ("uninitialised memory", "torch.empty(3)", "auto", "notice"),
    ("figure limit", "import matplotlib.pyplot as plt\nplt.figure(dpi=100000)", "auto",
     "message"),
]


def _said(body: dict[str, object], where: str) -> Message:
    error = body.get("error") or {}
    assert isinstance(error, dict)
    if where == "notice":
        ids = body.get("notices_i18n") or []
        assert isinstance(ids, list)
        found = [m for m in (Message.from_json(i) for i in ids) if m is not None]
        assert found, body.get("notices")
        return found[0]
    said = Message.from_json(error.get(f"{where}_i18n"))
    assert said is not None, error
    # The English text the API always had is the msgid filled in.
    assert str(said) == error[where]
    return said


@pytest.mark.parametrize(("code", "device", "where"), [c[1:] for c in CASES],
                         ids=[c[0] for c in CASES])
def test_a_japanese_page_shows_the_sandbox_sentence_in_japanese(
        client: TestClient, code: str, device: str, where: str) -> None:
    body = client.post("/eval", json={"code": code, "device": device}).json()
    said = _said(body, where)
    assert in_japanese(said), said.to_json()
    client.cookies.set("lang", "ja")
    page = client.post("/run", data={"code": code, "seed": "0", "device": device},
                       headers=HTMX).text
    assert str(escape(i18n.translate(said, "ja"))) in page
    assert str(escape(str(said))) not in page  # the English sentence is gone


def test_an_english_page_keeps_the_english_sentence(client: TestClient) -> None:
    body = client.post("/eval", json={"code": "open('x')"}).json()
    page = client.post("/run", data={"code": "open('x')", "seed": "0", "device": "auto"},
                       headers=HTMX).text
    assert str(escape(body["error"]["message"])) in page
    assert str(escape(body["error"]["hint"])) in page


def test_the_api_keeps_its_english_text_and_adds_the_msgid(client: TestClient) -> None:
    body = client.post("/eval", json={"code": "open('x')"}).json()
    error = body["error"]
    assert error["message"] == ("line 1: 'open' is not available in the playground (it "
                                "could reach outside the sandbox)")
    assert error["message_i18n"] == {
        "id": "line {line}: {what}",
        "params": {"line": 1, "what": {
            "id": "'{name}' is not available in the playground (it could reach outside the "
                  "sandbox)", "params": {"name": "open"}}}}
    assert error["hint_i18n"]["id"] == error["hint"]


def test_a_torch_message_stays_as_torch_wrote_it(client: TestClient) -> None:
    """torch's own words have no msgid: the page shows them as they are, and the hint
    beside them in Japanese."""
    client.cookies.set("lang", "ja")
    page = client.post("/run", data={"code": "a = torch.ones(2, 3)\ntorch.mm(a, a)",
                                     "seed": "0"}, headers=HTMX).text
    assert "mat1 and mat2 shapes cannot be multiplied" in page
    assert "行列積" in page


def test_an_invalid_playground_setting_is_said_in_japanese(client: TestClient) -> None:
    client.cookies.set("lang", "ja")
    page = client.post("/run", data={"code": "1", "seed": "-5"}, headers=HTMX).text
    assert "シードは 0 から 4294967295 までの整数にしてください。" in page
    assert "The seed must be" not in page


def _train_form(**changes: str) -> dict[str, str]:
    from app.playground import train_form
    return {**train_form.DEFAULTS, **changes}


def test_training_form_errors_use_the_labels_and_the_language_of_the_page(
        client: TestClient) -> None:
    client.cookies.set("lang", "ja")
    page = client.post("/train", data=_train_form(epochs="0", lr="-1"),
                       follow_redirects=False).text
    errors = page[page.index('class="form-errors"'):]
    errors = errors[:errors.index("</div>")]
    # pydantic's "Input should be greater than or equal to 1", in Japanese, after the label
    # the form shows ("エポック数"), not the field's internal name ("epochs")
    epochs_label = i18n.translations("ja").gettext("Epochs")
    assert f"{epochs_label}</a>: 1 以上の値を入力してください" in errors
    assert "0 より大きい値を入力してください" in errors
    assert ">epochs<" not in errors and "Input should be" not in page
    field = re.search(r'id="f-epochs-error">([^<]*)<', page)
    assert field is not None and is_japanese(field.group(1))


def test_a_spec_refusal_is_said_in_japanese(client: TestClient) -> None:
    client.cookies.set("lang", "ja")
    page = client.post("/train", data=_train_form(layer_lrs="fc7=0.1"),
                       follow_redirects=False).text
    assert str(escape("optimizer.layer_lrs にない層の名前 ['fc7'] があります")) in page


def test_the_error_page_of_an_invalid_address_is_in_japanese(client: TestClient) -> None:
    client.cookies.set("lang", "ja")
    response = client.get("/export/python", headers={"Accept": "text/html"})  # p is required
    assert response.status_code == 422
    assert "<code>query.p</code>: 入力してください" in response.text
    assert "Field required" not in response.text
    api = client.get("/export/python")  # an API client keeps pydantic's English
    assert api.json()["detail"][0]["msg"] == "Field required"
