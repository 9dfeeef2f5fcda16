"""Sentences the server words at run time, in a Japanese browser: form errors name the
fields as the form labels them, in Japanese."""

from __future__ import annotations

from playwright.sync_api import expect


def test_training_form_errors_are_japanese_with_the_forms_labels(open_page, screenshot) -> None:
    page = open_page(locale="ja-JP", viewport={"width": 1280, "height": 900})
    page.goto("/train")
    page.fill("#f-epochs", "0")
    page.fill("#f-hidden", "8, x")
    page.click("#train_form .train-actions button[type=submit] >> nth=0")
    errors = page.locator(".form-errors")
    expect(errors).to_contain_text("エポック数: 1 以上の値を入力してください")
    expect(errors).to_contain_text("隠れ層の幅")
    expect(errors).not_to_contain_text("epochs:")
    expect(page.locator("#f-epochs-error")).to_have_text("1 以上の値を入力してください")
    screenshot(errors, "train-form-errors-ja")
