"""The interactive API docs, served from vendored files: a classroom may have no internet."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

router = APIRouter(include_in_schema=False)

_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Torch Playground API</title>
<link rel="stylesheet" href="/static/vendor/swagger-ui/swagger-ui.css">
<link rel="stylesheet" href="/static/api-docs.css">
<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">
</head>
<body>
<header class="docs-header">
  <a href="/">&larr; Torch Playground</a>
  <nav aria-label="The app"><a href="/">Scratchpad</a> <a href="/lessons">Lessons</a>
  <a href="/train">Train</a></nav>
</header>
<main id="swagger-ui"></main>
<script src="/static/vendor/swagger-ui/swagger-ui-bundle.js"></script>
<script src="/static/api-docs.js"></script>
</body>
</html>
"""


@router.get("/docs")
def api_docs() -> HTMLResponse:
    return HTMLResponse(_PAGE)
