"""A teacher's API keys (the rules: app/classroom/apikeys.py): the page that creates, lists
and revokes them, and the resolver that turns ``Authorization: Bearer <key>`` into the
request's Caller, with the key's own limits."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session
from starlette.requests import HTTPConnection

from app import callers
from app.classroom import apikeys, service
from app.config import Settings, get_settings
from app.deps import SettingsDep
from app.routes.classroom import _form, _page, _say, _session, _teacher

router = APIRouter(include_in_schema=False)


def _keys_context(session: Session, settings: Settings, teacher: int) -> dict[str, Any]:
    return {"keys": apikeys.teacher_keys(session, teacher),
            "classes": {room.id: room for room in service.teacher_classes(session, teacher)},
            "max_rate": settings.api_key_max_rate_per_minute,
            "max_runs": settings.api_key_max_runs,
            "default_rate": settings.api_key_default_rate_per_minute,
            "default_runs": settings.api_key_default_runs,
            "new_key": None, "error": None}


@router.get("/teacher/keys", response_class=HTMLResponse)
async def keys_page(request: Request, settings: SettingsDep) -> HTMLResponse:
    with _session(settings) as session:
        context = _keys_context(session, settings, _teacher(request, session, settings))
    return _page(request, "keys.html", "main", context)


def _number(text: str) -> int:
    return int(text) if text.strip().isdigit() else -1  # out of range: refused with the bounds


@router.post("/teacher/keys", response_class=HTMLResponse)
async def create_key(request: Request, settings: SettingsDep) -> HTMLResponse:
    fields = await _form(request, settings)
    with _session(settings) as session:
        teacher = _teacher(request, session, settings)
        class_field = fields.get("class", "")
        limits = apikeys.KeyLimits(_number(fields.get("rate", "")), _number(fields.get("runs", "")))
        try:
            created = apikeys.create_key(
                session, teacher, fields.get("name", ""), limits,
                class_id=_number(class_field) if class_field else None,
                max_name_chars=settings.max_display_name_chars,
                max_keys=settings.max_api_keys_per_teacher,
                max_rate=settings.api_key_max_rate_per_minute,
                max_runs=settings.api_key_max_runs)
        except service.ClassroomError as refused:  # refused before anything was written
            context = _keys_context(session, settings, teacher)
            context["error"] = _say(request, refused)
            return _page(request, "keys.html", "main", context, status_code=400)
        context = _keys_context(session, settings, teacher)
        # The only time the key is ever shown: the page is no-store, and only its hash is kept.
        context["new_key"] = created.secret
        return _page(request, "keys.html", "main", context, status_code=201)


@router.post("/teacher/keys/{key_id}/revoke")
async def revoke_key(request: Request, key_id: int, settings: SettingsDep) -> RedirectResponse:
    await _form(request, settings)
    with _session(settings) as session:
        if not apikeys.revoke(session, _teacher(request, session, settings), key_id):
            raise HTTPException(404, "No such key")  # another teacher's key looks like none
    return RedirectResponse("/teacher/keys", status_code=303)


# --- Authorization: Bearer <key> as the request's Caller ---

def _bearer(connection: HTTPConnection) -> str | None:
    scheme, _, token = connection.headers.get("authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else None


def _api_key_caller(connection: HTTPConnection) -> callers.Caller | None:
    """The key of an ``Authorization: Bearer`` header as the Caller, with its limits and (a
    class's key) its class; a wrong or revoked key is refused (401), never anonymous."""
    token = _bearer(connection)
    if token is None:
        return None
    settings = connection.app.dependency_overrides.get(get_settings, get_settings)()
    try:
        with _session(settings) as session:
            key = apikeys.authenticate(session, token,
                                       last_used_every_s=settings.api_key_last_used_every_s)
            return callers.Caller(
                kind="api_key", id=str(key.id),
                class_id=None if key.class_id is None else str(key.class_id),
                rate_limit_per_minute=key.rate_limit_per_minute, max_runs=key.max_runs)
    except apikeys.KeyRefusedError as refused:
        raise callers.CallerRefusedError(
            f"{refused}: the Authorization header must carry a live key, as "
            "'Authorization: Bearer tpk_...'",
            hint="Copy the key again from the teacher's API keys page (/teacher/keys); a "
            "revoked or lost key cannot be shown again: create a new one.") from refused
    except SQLAlchemyError:  # the class store is down: the sandbox still serves, anonymously
        return None


callers.register_resolver(
    callers.CallerResolver(presents=lambda connection: _bearer(connection) is not None,
                           resolve=_api_key_caller), first=True)

