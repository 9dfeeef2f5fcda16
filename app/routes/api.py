"""The JSON API: POST /eval."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from app.deps import eval_context
from app.evaluation import evaluate
from app.ratelimit import enforce_rate_limit
from app.schemas import EvalRequest, EvalResponse

router = APIRouter(tags=["evaluate"])

_ERROR_EXAMPLE = {"ok": False, "error": {"type": "ForbiddenError", "line": 1, "hint": None,
                                         "message": "line 1: torch.os is not available"},
                  "steps": [], "stdout": ""}


@router.post(
    "/eval",
    response_model=EvalResponse,
    summary="Run a small PyTorch program in the sandbox",
    responses={
        200: {"description": "The program ran (ok:true), or raised / was stopped (ok:false)."},
        400: {"model": EvalResponse, "description": "Refused before running: SyntaxError or "
              "ForbiddenError.", "content": {"application/json": {"example": _ERROR_EXAMPLE}}},
        413: {"model": EvalResponse, "description": "A limit known before running: source too "
              "long, or a call predicted to exceed the memory/FLOPs budget (LimitError)."},
        401: {"model": EvalResponse, "description": "An Authorization: Bearer header with a "
              "wrong or revoked API key (AuthenticationError)."},
        429: {"description": "Rate limited (per client address, or at an API key's own "
              "rate); see Retry-After."},
        503: {"description": "Every sandbox worker is busy and the queue is full; see "
              "Retry-After."},
    },
)
async def eval_program(body: EvalRequest, request: Request) -> Response:
    caller, settings, executor = await eval_context(request)
    enforce_rate_limit(caller, settings)
    outcome = await evaluate(executor, settings, body, owner=caller.key)
    # The worker wrote the JSON; re-encoding it here would only cost time.
    return Response(outcome.body, status_code=outcome.status, media_type="application/json")
