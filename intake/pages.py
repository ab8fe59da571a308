"""The tenant pages' templates, and the page that says why one is not shown."""

from __future__ import annotations

from pathlib import Path

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

TEMPLATES = Jinja2Templates(directory=Path(__file__).parent / "templates")


def refusal(request: Request, sentence: str, status_code: int) -> HTMLResponse:
    """A page that says, in one Norwegian sentence, why the Logg is not shown."""
    return TEMPLATES.TemplateResponse(
        request, "refused.html", {"sentence": sentence}, status_code=status_code
    )
