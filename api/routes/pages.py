"""The demo page at ``/`` that embeds the widget the way a company's site would."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import APIRouter
from fastapi.responses import FileResponse

STATIC = Path(__file__).resolve().parents[1] / "static"
# what a page route answers, for a reader of the code (pages stay out of /openapi.json)
HTML_PAGE: dict[int | str, dict[str, Any]] = {200: {"description": "An HTML page", "content": {"text/html": {}}}}

router = APIRouter(include_in_schema=False)


@router.get("/", response_class=FileResponse, responses=HTML_PAGE)
async def read_demo_page() -> FileResponse:
    return FileResponse(STATIC / "demo.html", media_type="text/html")
