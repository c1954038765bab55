"""The console's pages that change things: intake and administration.

Every POST checks, in this order: a session (401), the role's right (403),
the form's CSRF token (403); only then is anything read from the form or
written. Secrets (new tokens) are shown once, on the page that made them.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from accord.exceptions import ConsoleTooLarge
from accord.service import console as console_svc
from accord.service import dashboard as boards
from accord.service import egress, sharing, users
from accord.service import sync as sync_service
from accord.web._app import Console, Upload, console_of
from accord.web._session import Session

router = APIRouter(include_in_schema=False)


def _text(form: dict[str, Any], key: str) -> str:
    value = form.get(key)
    return value.strip() if isinstance(value, str) else ""


# -- intake --------------------------------------------------------------------------


@router.get("/intake")
async def intake_form(request: Request) -> HTMLResponse:
    c = console_of(request)
    session = await c.need(request, "import")
    collections = await run_in_threadpool(console_svc.collection_choices, c.node)
    return c.render(request, "intake.html", session, collections=collections, report=None)


@router.post("/intake")
async def intake(request: Request) -> HTMLResponse:
    c = console_of(request)
    session = await c.need(request, "import")
    limit = c.settings.web_max_upload
    length = request.headers.get("content-length")
    # The whole request may hold the form's other fields too: 64 kB of room for them.
    if length is None or not length.isdigit() or int(length) > limit + 65_536:
        raise ConsoleTooLarge(f"uploads are limited to {limit:,} bytes (ACCORD_WEB_MAX_UPLOAD)")
    form = await c.form(request, session)
    upload = form.get("bundle")
    if not isinstance(upload, Upload) or not upload.filename:
        raise ValueError("choose a bundle file to import")
    data = upload.data
    if len(data) > limit:
        raise ConsoleTooLarge(f"uploads are limited to {limit:,} bytes (ACCORD_WEB_MAX_UPLOAD)")
    report = await run_in_threadpool(
        boards.import_upload, c.node, upload.filename, data, _text(form, "collection") or None
    )
    collections = await run_in_threadpool(console_svc.collection_choices, c.node)
    status = 200 if not report.failed_inputs else 422
    return c.render(request, "intake.html", session, status, collections=collections, report=report)


# -- administration ----------------------------------------------------------------------


def _overview(c: Console) -> dict[str, Any]:
    node = c.node
    return {
        "members": sharing.members(node),
        "tokens": sharing.tokens(node),
        "collections": sharing.collections(node),
        "peers": sync_service.list_peers(node),
        "users": users.users(node),
        "roles": users.ROLES,
    }


async def _admin_page(
    request: Request, session: Session, status: int = 200, **extra: Any
) -> HTMLResponse:
    c = console_of(request)
    context = await run_in_threadpool(_overview, c)
    return c.render(request, "admin.html", session, status, **context, **extra)


@router.get("/admin")
async def admin(request: Request) -> HTMLResponse:
    session = await console_of(request).need(request, "audit")
    return await _admin_page(request, session)


def _done(message: str) -> RedirectResponse:
    from urllib.parse import quote

    return RedirectResponse(f"/console/admin?done={quote(message)}", status_code=303)


@router.post("/admin/members")
async def add_member(request: Request) -> Response:
    c = console_of(request)
    session = await c.need(request, "admin")
    form = await c.form(request, session)
    name = _text(form, "name")
    if not name:
        raise ValueError("a member needs a name")
    await run_in_threadpool(
        sharing.add_member,
        c.node,
        name,
        _text(form, "contact"),
        None,
        _text(form, "jurisdiction") or None,
    )
    return _done(f"added member {name}")


@router.post("/admin/tokens")
async def create_token(request: Request) -> HTMLResponse:
    c = console_of(request)
    session = await c.need(request, "admin")
    form = await c.form(request, session)
    secret, _info = await run_in_threadpool(sharing.create_token, c.node, _text(form, "member"))
    # Shown once: this response is the only place the secret ever appears.
    return await _admin_page(
        request, session, new_token=secret, new_token_member=_text(form, "member")
    )


@router.post("/admin/tokens/revoke")
async def revoke_token(request: Request) -> Response:
    c = console_of(request)
    session = await c.need(request, "admin")
    form = await c.form(request, session)
    n = await run_in_threadpool(sharing.revoke_token, c.node, _text(form, "prefix"))
    return _done(f"revoked {n} token(s)")


@router.post("/admin/collections")
async def create_collection(request: Request) -> Response:
    c = console_of(request)
    session = await c.need(request, "admin")
    form = await c.form(request, session)
    title = _text(form, "title")
    if not title:
        raise ValueError("a collection needs a title")
    await run_in_threadpool(
        sharing.create_collection,
        c.node,
        title,
        _text(form, "description"),
        None,
        form.get("anonymous") == "on",
    )
    return _done(f"created collection {title}")


@router.post("/admin/grants")
async def grant(request: Request) -> Response:
    c = console_of(request)
    session = await c.need(request, "admin")
    form = await c.form(request, session)
    await run_in_threadpool(
        lambda: sharing.grant(
            c.node,
            _text(form, "collection"),
            _text(form, "member"),
            read=form.get("read") == "on",
            write=form.get("write") == "on",
        )
    )
    return _done(f"rights of {_text(form, 'member')} on {_text(form, 'collection')} set")


@router.post("/admin/users")
async def add_user(request: Request) -> Response:
    c = console_of(request)
    session = await c.need(request, "admin")
    form = await c.form(request, session)
    name = _text(form, "name")
    password = form.get("password")
    await run_in_threadpool(
        users.add_user,
        c.node,
        name,
        _text(form, "role"),
        password if isinstance(password, str) else "",
    )
    return _done(f"added user {name}")


@router.post("/admin/users/remove")
async def remove_user(request: Request) -> Response:
    c = console_of(request)
    session = await c.need(request, "admin")
    form = await c.form(request, session)
    name = _text(form, "name")
    if name == session.user.name:
        raise ValueError("you cannot remove yourself: ask another admin")
    await run_in_threadpool(users.remove_user, c.node, name)
    return _done(f"removed user {name}")


@router.post("/admin/peers/sync")
async def sync_now(request: Request) -> HTMLResponse:
    c = console_of(request)
    session = await c.need(request, "admin")
    form = await c.form(request, session)
    from accord.taxii.client import connector  # httpx only when syncing

    name = _text(form, "peer")
    reports = await run_in_threadpool(
        sync_service.sync, c.node, connector(c.settings), [name] if name else []
    )
    return await _admin_page(request, session, sync_reports=reports)


# -- agreements ----------------------------------------------------------------------------


@router.get("/admin/agreements")
async def agreements(request: Request) -> HTMLResponse:
    c = console_of(request)
    session = await c.need(request, "audit")

    def read() -> dict[str, Any]:
        infos, book = egress.agreements(c.node)
        good, errors = egress.check_files(c.node)
        return {"infos": infos, "book": book, "errors": errors, "checked": len(good)}

    return c.render(request, "agreements.html", session, **(await run_in_threadpool(read)))


@router.get("/admin/agreements/{name}")
async def agreement(request: Request, name: str) -> HTMLResponse:
    c = console_of(request)
    session = await c.need(request, "audit")
    member = request.query_params.get("member", "")
    if name == "_new":
        wanted = request.query_params.get("name", "")
        boards.agreement_text(c.node, wanted)  # refuses a bad name
        return RedirectResponse(f"/console/admin/agreements/{wanted}", status_code=303)  # type: ignore[return-value]

    def read() -> dict[str, Any]:
        node = c.node
        return {
            "agreement_name": name,
            "text": boards.agreement_text(node, name),
            "members": sharing.members(node),
            "member": member,
            "preview": egress.preview(node, member) if member else None,
            "log": [e for e in node_log(node) if e.name == name],
        }

    return c.render(request, "agreement.html", session, **(await run_in_threadpool(read)))


def node_log(node: Any) -> list[Any]:
    infos, _ = egress.agreements(node)
    logs: list[Any] = []
    for info in infos:
        logs.extend(egress.agreement(node, info.agreement.name)[2])
    return logs


@router.post("/admin/agreements/{name}")
async def save_agreement(request: Request, name: str) -> Response:
    c = console_of(request)
    session = await c.need(request, "admin")
    form = await c.form(request, session)
    text = form.get("text")
    await run_in_threadpool(
        boards.save_agreement, c.node, name, text if isinstance(text, str) else ""
    )
    return RedirectResponse(f"/console/admin/agreements/{name}?saved=1", status_code=303)
