"""The console's reading pages: dashboard, search, object, graph, detection, the log,
the community."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse
from starlette.concurrency import run_in_threadpool

from accord.service import community, lookup_holder, standing, transparency
from accord.service import console as svc
from accord.service import dashboard as boards
from accord.stix import Tlp
from accord.web import _render
from accord.web._app import console_of

router = APIRouter(include_in_schema=False)

TLP_CHOICES = ["none", *(t.label for t in Tlp)]


@router.get("/")
async def dashboard(request: Request) -> HTMLResponse:
    c = console_of(request)
    session = await c.need(request, "read")
    board = await run_in_threadpool(boards.dashboard, c.node)
    charts = {
        "types": _render.hbar_chart("Current objects by type", list(board.by_type.items())[:12]),
        "intake": _render.bar_chart(
            "Versions stored per day (30 days)",
            [(_render.day_label(d), n) for d, n in board.intake],
        ),
        "sightings": _render.bar_chart(
            "Sightings stored per day (30 days)",
            [(_render.day_label(d), n) for d, n in board.sightings],
        ),
    }
    return c.render(request, "dashboard.html", session, board=board, charts=charts)


def _terms(request: Request) -> svc.SearchTerms:
    q = request.query_params
    try:
        page = int(q.get("page", "1") or "1")
    except ValueError:
        raise ValueError(f"page {q.get('page')!r} is not a number") from None
    return svc.SearchTerms(
        value=q.get("value", ""),
        types=tuple(q.getlist("type")),
        labels=tuple(v for v in q.get("label", "").split(",") if v.strip()),
        tlps=tuple(q.getlist("tlp")),
        text=q.get("text", ""),
        since=q.get("since", ""),
        until=q.get("until", ""),
        collection=q.get("collection", ""),
        include_revoked=q.get("revoked") == "on",
        page=page,
    )


@router.get("/search")
async def search(request: Request) -> HTMLResponse:
    c = console_of(request)
    session = await c.need(request, "read")
    terms = _terms(request)
    asked = any(k in request.query_params for k in ("value", "text", "type", "label", "tlp"))
    result = (
        await run_in_threadpool(svc.search, c.node, terms)
        if asked or request.query_params
        else None
    )
    collections = await run_in_threadpool(svc.collection_choices, c.node)
    rows = [(o, svc.label_of(o)) for o in result.objects] if result else []

    def link(**change: object) -> str:
        from urllib.parse import urlencode

        params = [(k, v) for k, v in request.query_params.multi_items() if k not in change]
        params += [(k, str(v)) for k, v in change.items()]
        return "/console/search?" + urlencode(params)

    return c.render(
        request,
        "search.html",
        session,
        terms=terms,
        result=result,
        rows=rows,
        collections=collections,
        tlp_choices=TLP_CHOICES,
        tlp_name=svc.tlp_name,
        link=link,
    )


@router.get("/object/{object_id}")
async def object_page(request: Request, object_id: str) -> HTMLResponse:
    c = console_of(request)
    session = await c.need(request, "read")
    view = await run_in_threadpool(svc.object_view, c.node, object_id)
    judged = await run_in_threadpool(_judgement, c, object_id)
    return c.render(
        request,
        "object.html",
        session,
        view=view,
        d=view.data,
        label_of=svc.label_of,
        standing=judged[0],
        remarks=judged[1],
    )


def _judgement(c: Any, object_id: str) -> tuple[Any, list[Any]]:
    """The object's standing (None: nobody spoke of it) and members' remarks on it."""
    held = standing.standings_of(c.node, [object_id]).get(object_id)
    return held, standing.remarks_on(c.node, object_id)


@router.get("/graph/{object_id}")
async def graph_page(request: Request, object_id: str) -> HTMLResponse:
    c = console_of(request)
    session = await c.need(request, "read")
    g = await run_in_threadpool(svc.graph, c.node, object_id)
    return c.render(request, "graph.html", session, g=g, root=object_id)


@router.get("/graph/{object_id}/elements")
async def graph_elements(request: Request, object_id: str) -> Response:
    c = console_of(request)
    await c.need(request, "read")
    g = await run_in_threadpool(svc.graph, c.node, object_id)
    return Response(svc.graph_json(g), media_type="application/json")


@router.get("/detection")
async def detection(request: Request) -> HTMLResponse:
    c = console_of(request)
    session = await c.need(request, "read")
    found = await run_in_threadpool(boards.detection, c.node)
    return c.render(request, "detection.html", session, found=found)


@router.get("/log")
async def transparency_log(request: Request) -> HTMLResponse:
    """The transparency log: size, checkpoint, cosigners, witnessed logs and forks; to
    users with the audit right, every share with its recipient (the openings)."""
    c = console_of(request)
    session = await c.need(request, "read")
    head = await run_in_threadpool(transparency.status, c.node)
    member = request.query_params.get("member") or None
    shares = None
    if session.can("audit"):
        shares = await run_in_threadpool(transparency.audit, c.node, member)
        shares = shares[-500:][::-1]  # the newest 500
    return c.render(request, "log.html", session, log=head, shares=shares, member=member or "")


@router.get("/community")
async def community_page(request: Request) -> HTMLResponse:
    """The community: state hash, members, norms in force, open proposals, faults."""
    c = console_of(request)
    session = await c.need(request, "read")
    found = await run_in_threadpool(community.status, c.node)
    return c.render(request, "community.html", session, s=found, canonical=canonical_text)


def canonical_text(rule: object) -> str:
    from accord.community import canonical

    return canonical(dict(rule)).decode() if isinstance(rule, Mapping) else str(rule)


@router.get("/lookup")
async def lookup_page(request: Request) -> HTMLResponse:
    """Private lookup: this node's epoch keys per collection; to admins, each member's offer."""
    c = console_of(request)
    session = await c.need(request, "read")
    epochs = await run_in_threadpool(lookup_holder.holder_view, c.node)
    return c.render(
        request,
        "lookup.html",
        session,
        epochs=epochs,
        quota=c.settings.lookup_quota,
        members=session.can("admin"),
    )
