"""The demo page at ``/`` that embeds the widget the way a company's site would."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse

STATIC = Path(__file__).resolve().parents[1] / "static"

router = APIRouter(include_in_schema=False)


@router.get("/")
async def read_demo_page() -> FileResponse:
    return FileResponse(STATIC / "demo.html", media_type="text/html")
