"""The console's report review: drafts, their findings and techniques, edits, publishing.

The same operations as ``accord report list / show / edit / publish``, through
`accord.service.reports`; reading needs the read right, every change the import
right. A draft is shared with nobody until it is published.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from accord.exceptions import ConsoleNotFound, ConsoleTooLarge, UnknownDraft
from accord.service import console as console_svc
from accord.service import reports
from accord.web._app import Console, Upload, console_of

router = APIRouter(include_in_schema=False)


def _text(form: dict[str, Any], key: str) -> str:
    value = form.get(key)
    return value.strip() if isinstance(value, str) else ""


def _check_length(c: Console, request: Request) -> int:
    limit = c.settings.web_max_upload
    length = request.headers.get("content-length")
    if length is None or not length.isdigit() or int(length) > limit + 65_536:
        raise ConsoleTooLarge(f"uploads are limited to {limit:,} bytes (ACCORD_WEB_MAX_UPLOAD)")
    return limit


@router.get("/reports")
async def draft_list(request: Request) -> HTMLResponse:
    c = console_of(request)
    session = await c.need(request, "read")
    found = await run_in_threadpool(reports.drafts, c.node)
    rows = [(d, d.extraction()) for d in found]
    return c.render(request, "reports.html", session, rows=rows)


def _draft_page(request: Request, draft_id: str) -> dict[str, Any]:
    node = console_of(request).node
    try:
        d = reports.draft(node, draft_id)
    except UnknownDraft:
        raise ConsoleNotFound(f"no report draft {draft_id!r}") from None
    findings, techniques = reports.review(d)
    report_id = None
    if d.row.status == "published":
        report_id = next((str(o["id"]) for o in d.objects(node) if o["type"] == "report"), None)
    return {
        "d": d,
        "findings": findings,
        "techniques": techniques,
        "report_id": report_id,
        "collections": console_svc.collection_choices(node),
    }


@router.get("/reports/{draft_id}")
async def draft_page(request: Request, draft_id: str) -> HTMLResponse:
    c = console_of(request)
    session = await c.need(request, "read")
    context = await run_in_threadpool(_draft_page, request, draft_id)
    return c.render(request, "report.html", session, **context)


def _back(draft_id: str) -> Response:
    return RedirectResponse(f"/console/reports/{draft_id}", status_code=303)


@router.post("/reports/{draft_id}/findings")
async def edit_finding(request: Request, draft_id: str) -> Response:
    """Drop a value from the draft, or restore one the analyst dropped."""
    c = console_of(request)
    session = await c.need(request, "import")
    form = await c.form(request, session)
    value, action = _text(form, "value"), _text(form, "action")
    if not value or action not in ("drop", "restore"):
        raise ValueError("give a value and an action (drop or restore)")
    d = await run_in_threadpool(
        lambda: reports.edit_draft(
            c.node,
            draft_id,
            drop=[value] if action == "drop" else [],
            restore=[value] if action == "restore" else [],
        )
    )
    return _back(d.id)


@router.post("/reports/{draft_id}/techniques")
async def edit_technique(request: Request, draft_id: str) -> Response:
    """Add an ATT&CK technique to the draft, or remove one (its id dropped)."""
    c = console_of(request)
    session = await c.need(request, "import")
    form = await c.form(request, session)
    tid, action = _text(form, "technique"), _text(form, "action")
    if not tid or action not in ("add", "remove"):
        raise ValueError("give a technique id and an action (add or remove)")
    d = await run_in_threadpool(
        lambda: reports.edit_draft(
            c.node,
            draft_id,
            drop=[tid] if action == "remove" else [],
            add_techniques=[tid] if action == "add" else [],
        )
    )
    return _back(d.id)


@router.post("/reports/{draft_id}/publish")
async def publish(request: Request, draft_id: str) -> Response:
    c = console_of(request)
    session = await c.need(request, "import")
    form = await c.form(request, session)
    collection = _text(form, "collection") or None
    p = await run_in_threadpool(
        lambda: reports.publish_draft(c.node, draft_id, collection=collection)
    )
    return _back(p.draft.id)


@router.post("/intake/report")
async def upload_report(request: Request) -> Response:
    """A report file (text, HTML, PDF) to a new draft (or the same draft, when imported)."""
    c = console_of(request)
    session = await c.need(request, "import")
    limit = _check_length(c, request)
    form = await c.form(request, session)
    upload = form.get("report")
    if not isinstance(upload, Upload) or not upload.filename:
        raise ValueError("choose a report file (text, HTML or PDF)")
    if len(upload.data) > limit:
        raise ConsoleTooLarge(f"uploads are limited to {limit:,} bytes (ACCORD_WEB_MAX_UPLOAD)")
    d = await run_in_threadpool(
        lambda: reports.import_document(
            c.node,
            upload.data,
            upload.filename,
            collection=_text(form, "collection") or None,
            tlp=_text(form, "tlp") or None,
        )
    )
    return _back(d.id)
