"""The HTML side's plumbing: one Jinja environment per UI language, ``render()`` (a full
page, or just the named block for an htmx request), the language choice, static files
and the security headers every response carries."""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache, partial
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

from fastapi import HTTPException, Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from starlette.datastructures import MutableHeaders
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app import i18n
from app.playground import views

ROOT = Path(__file__).resolve().parent.parent
TEMPLATES_DIR = ROOT / "templates"
STATIC_DIR = ROOT / "static"
LANG_COOKIE = "lang"
MAX_FORM_FIELDS = 20  # most forms have under ten; parse_qsl raises past this

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'")
SECURITY_HEADERS = (
    ("content-security-policy", CSP),
    ("x-content-type-options", "nosniff"),
    ("referrer-policy", "no-referrer"),  # permalinks carry the program: never leak them
    ("x-frame-options", "DENY"),  # frame-ancestors for browsers without CSP 2
    ("cross-origin-opener-policy", "same-origin"),
)
# The API docs (routes/docs.py) are vendored and run no inline script, so no page is exempt;
# kept as the one place to list a page that would need it.
CSP_EXEMPT_PATHS: frozenset[str] = frozenset()


@lru_cache
def environment(locale: str) -> Environment:
    """Templates for one language. One environment per locale (there are two) keeps the
    gettext callables out of per-request state and lets each cache its compiled templates."""
    env = Environment(
        loader=FileSystemLoader(TEMPLATES_DIR),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.policies["ext.i18n.trimmed"] = True  # msgids without layout whitespace
    env.install_gettext_translations(i18n.translations(locale), newstyle=True)  # type: ignore[attr-defined]
    env.globals.update(views.TEMPLATE_HELPERS)
    env.globals["LOCALES"] = i18n.LOCALES
    env.globals["LANGUAGE_NAMES"] = i18n.LANGUAGE_NAMES
    # Sentences the server words at run time (app/message.py), in this language.
    env.globals["said"] = partial(i18n.said, locale)
    env.globals["notices_of"] = partial(i18n.notices, locale)
    return env


def choose_locale(request: Request) -> str:
    chosen = request.cookies.get(LANG_COOKIE)
    if chosen in i18n.LOCALES:
        return chosen
    return i18n.negotiate(request.headers.get("accept-language"))


def is_fragment_request(request: Request) -> bool:
    """htmx asks for a fragment, except when restoring history after a cache miss: then it
    needs the whole page."""
    return (request.headers.get("hx-request") == "true"
            and request.headers.get("hx-history-restore-request") != "true")


def render(request: Request, template: str, block: str, context: Mapping[str, Any], *,
           status_code: int = 200, headers: Mapping[str, str] | None = None) -> HTMLResponse:
    """The full page, or for htmx only the block ``block`` (whose name is its element id)."""
    locale = choose_locale(request)
    page = environment(locale).get_template(template)
    full_context = {"request": request, "locale": locale, "current_url": _local_url(request),
                    **context}
    if is_fragment_request(request):
        html = "".join(page.blocks[block](page.new_context(full_context)))
    else:
        html = page.render(full_context)
    response = HTMLResponse(html, status_code=status_code, headers=dict(headers or {}))
    # The same URL answers with a fragment or a page, in the user's language.
    response.headers["vary"] = "HX-Request, Accept-Language, Cookie"
    return response


def wants_html_page(request: Request) -> bool:
    """A browser navigating (its Accept names text/html), not an API client or htmx: curl and
    fetch send */* or application/json and keep getting JSON errors."""
    return ("text/html" in request.headers.get("accept", "")
            and request.headers.get("hx-request") != "true")


def _local_url(request: Request) -> str:
    query = request.url.query
    return request.url.path + (f"?{query}" if query else "")


def safe_next(url: str | None) -> str:
    """A same-site path to return to; anything else (other hosts, ``//evil``, ``\\``) is /."""
    if not url or not url.startswith("/") or url.startswith("//") or "\\" in url:
        return "/"
    return url


async def form_fields(request: Request, limit: int,
                      max_fields: int = MAX_FORM_FIELDS) -> dict[str, str]:
    """The fields of an urlencoded form body (what both htmx and a plain browser form
    send here). Parsed with the standard library, so the HTML side needs no multipart
    package. Another content type reads as no fields; a body over ``limit`` is a 413."""
    if not request.headers.get("content-type", "").startswith(
            "application/x-www-form-urlencoded"):
        return {}
    # A bytearray grows in place: bytes += chunk copied the whole body for every chunk, which
    # a client trickling one byte per packet turned into quadratic work on the event loop.
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise HTTPException(413, "Request body too large")
    try:
        return dict(parse_qsl(body.decode("utf-8", errors="replace"),
                              keep_blank_values=True, max_num_fields=max_fields))
    except ValueError as too_many:
        raise HTTPException(400, "Too many form fields") from too_many


def static_files() -> StaticFiles:
    return StaticFiles(directory=STATIC_DIR)


class SecurityHeadersMiddleware:
    """Adds the security headers to every HTTP response (pure ASGI: no body buffering)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        exempt = scope.get("path", "") in CSP_EXEMPT_PATHS

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS:
                    if not (exempt and name == "content-security-policy"):
                        headers.setdefault(name, value)
            await send(message)

        await self.app(scope, receive, send_with_headers)
