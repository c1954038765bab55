"""The transparency log over HTTP: C2SP tlog-tiles, proofs, cosignatures, tlog-witness.

Under the node's base URL (beside ``/taxii2/``)::

    GET  /log/checkpoint                 the signed checkpoint with its cosignatures
    GET  /log/tile/<L>/<N>[.p/<W>]       hash tiles (c2sp.org/tlog-tiles)
    GET  /log/tile/entries/<N>[.p/<W>]   entry bundles
    GET  /log/vkey                       the log's verifier key
    GET  /log/witness-key                this node's cosigner key (as a witness)
    GET  /log/proof/inclusion?size=S&index=I...   inclusion proofs (JSON)
    GET  /log/proof/consistency?old=M&size=N      a consistency proof (base64 lines)
    POST /log/cosignature                a member hands back its cosignature
    GET  /log/openings?member=M&since=T  who received what (auditor members only)
    POST /witness/add-checkpoint         c2sp.org/tlog-witness, for logs we witness

The log serves only hashes, commitments and signed notes, never intelligence;
it is readable by any authenticated member (the witnesses among them). The
openings name recipients: only members the owner flagged auditor read them,
and to any other they do not exist (404).
"""

from __future__ import annotations

import base64
from datetime import UTC, datetime

import orjson
from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from accord.exceptions import (
    LedgerError,
    TaxiiBadRequest,
    TaxiiNotFound,
    TaxiiTooLarge,
    TaxiiUnauthorized,
    WitnessRefused,
)
from accord.ledger import parse_tile_path
from accord.service import ledger, transparency
from accord.service.taxii import timestamp_us
from accord.store import Member
from accord.taxii._body import read_body
from accord.taxii._routes_server import Requester
from accord.taxii._state import node_of

# Not in the TAXII OpenAPI document: these are C2SP protocols, with their own media
# types and error bodies (docs/ledger.md describes them).
router = APIRouter(tags=["Transparency log"], include_in_schema=False)

TEXT = "text/plain; charset=utf-8"
MAX_PROOFS = 1000
MAX_NOTE = 64 * 1024  # cosignatures and tlog-witness bodies are a few hundred bytes
_IMMUTABLE = "public, max-age=31536000, immutable"


def _member(member: Member | None) -> Member:
    if member is None:
        raise TaxiiUnauthorized("the transparency log is read by members: authenticate")
    return member


def _int(name: str, raw: str | None) -> int:
    if raw is None or not raw.isascii() or not raw.isdigit() or len(raw) > 19:
        raise TaxiiBadRequest(f"{name}={raw!r} is not a non-negative integer")
    return int(raw)


@router.get("/log/checkpoint", summary="The signed checkpoint (tlog-checkpoint)")
def checkpoint(request: Request, member: Requester) -> Response:
    """The latest signed checkpoint with the cosignatures its witnesses handed back."""
    _member(member)
    published = ledger.publish(node_of(request))
    return Response(published.note, media_type=TEXT, headers={"Cache-Control": "max-age=2"})


@router.get("/log/vkey", summary="The log's verifier key")
def vkey(request: Request, member: Requester) -> Response:
    """The signed-note verifier key of this node's log (what witnesses pin)."""
    _member(member)
    return Response(ledger.log_verifier(node_of(request)).vkey + "\n", media_type=TEXT)


@router.get("/log/witness-key", summary="This node's cosigner key")
def witness_key(request: Request, member: Requester) -> Response:
    """The cosignature/v1 key this node signs with as a witness."""
    _member(member)
    return Response(ledger.cosigner_verifier(node_of(request)).vkey + "\n", media_type=TEXT)


@router.get("/log/tile/{path:path}", summary="Hash tiles and entry bundles (tlog-tiles)")
def tile(request: Request, path: str, member: Requester) -> Response:
    """A tile or entry bundle; full ones are immutable and cached as such."""
    _member(member)
    try:
        level, n, width = parse_tile_path("tile/" + path)
    except LedgerError as exc:
        raise TaxiiNotFound(str(exc)) from exc
    data = ledger.tile(node_of(request), level, n, width)
    cache = _IMMUTABLE if width == 256 else "max-age=2"
    return Response(data, media_type="application/octet-stream", headers={"Cache-Control": cache})


@router.get("/log/proof/inclusion", summary="Inclusion proofs")
def inclusion(request: Request, member: Requester) -> Response:
    """Proofs of entries (``index``, repeatable) in the tree of ``size`` (a checkpoint's)."""
    _member(member)
    size = _int("size", request.query_params.get("size"))
    indexes = [_int("index", raw) for raw in request.query_params.getlist("index")]
    if not indexes or len(indexes) > MAX_PROOFS:
        raise TaxiiBadRequest(f"give 1 to {MAX_PROOFS} index parameters")
    node = node_of(request)
    proofs = {
        str(i): [base64.b64encode(h).decode() for h in ledger.prove_inclusion(node, i, size)]
        for i in indexes
    }
    body = orjson.dumps({"size": size, "proofs": proofs})
    return Response(body, media_type="application/json", headers={"Cache-Control": _IMMUTABLE})


@router.get("/log/proof/consistency", summary="A consistency proof")
def consistency(request: Request, member: Requester) -> Response:
    """The proof that the tree of ``old`` entries is a prefix of the tree of ``size``."""
    _member(member)
    old = _int("old", request.query_params.get("old"))
    size = _int("size", request.query_params.get("size"))
    proof = ledger.prove_consistency(node_of(request), old, size)
    body = "".join(base64.b64encode(h).decode() + "\n" for h in proof)
    return Response(body, media_type=TEXT, headers={"Cache-Control": _IMMUTABLE})


@router.post("/log/cosignature", summary="Hand back a cosignature of our checkpoint")
async def cosignature(request: Request, member: Requester) -> Response:
    """A witness's cosignature/v1 of one of this node's checkpoints (its key pinned per member)."""
    who = _member(member)
    body = await read_body(request, MAX_NOTE, "the largest note")
    key = request.headers.get("x-accord-witness-key")
    try:
        cp = await run_in_threadpool(
            transparency.accept_cosignature, node_of(request), who.name, body, key
        )
    except LedgerError as exc:
        raise TaxiiBadRequest(str(exc)) from exc
    return Response(f"cosigned {cp.size}\n", media_type=TEXT)


@router.get("/log/openings", summary="Who received what (auditors only)")
def openings(request: Request, member: Requester) -> Response:
    """Every share with its opening: recipient, agreement, versions; each entry verified."""
    node = node_of(request)
    if not ledger.is_auditor(node, _member(member)):
        raise TaxiiNotFound("no such resource")
    since_raw = request.query_params.get("since")
    since = timestamp_us("since", since_raw) if since_raw else None
    shares = transparency.audit(node, request.query_params.get("member"), since)
    body = orjson.dumps(
        {
            "shares": [
                {
                    "index": s.index,
                    "recorded": datetime.fromtimestamp(s.recorded / 1e6, UTC).isoformat(),
                    "entry": s.entry,
                    "recipient": s.recipient,
                    "agreement": s.agreement,
                    "versions": len(s.versions),
                    "included": s.included,
                    "problem": s.problem,
                }
                for s in shares
            ]
        }
    )
    return Response(body, media_type="application/json")


@router.post("/witness/add-checkpoint", summary="tlog-witness add-checkpoint")
async def add_checkpoint(request: Request) -> Response:
    """Cosign a checkpoint of a log this node witnesses (c2sp.org/tlog-witness)."""
    try:  # refused before it is read; 400 as this route always answered (tlog-witness)
        body = await read_body(request, MAX_NOTE, "the largest note")
    except TaxiiTooLarge as exc:
        return Response(
            exc.description + "\n", status_code=400, media_type=TEXT, headers=exc.headers
        )
    try:
        line = await run_in_threadpool(transparency.add_checkpoint, node_of(request), body)
    except WitnessRefused as exc:
        if exc.status == 409:
            return Response(f"{exc.size}\n", status_code=409, media_type="text/x.tlog.size")
        return Response(exc.reason + "\n", status_code=exc.status, media_type=TEXT)
    return Response(line, media_type=TEXT)
