"""Commands over who may reach the node: collections and their grants, members, tokens."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from accord.cli._common import (
    cli_node,
    collection_app,
    err,
    member_app,
    out,
    token_app,
    user_errors,
    when,
)
from accord.service import limits, sharing

MemberOpt = Annotated[str, typer.Option("--member", "-m", help="Member name.")]


@collection_app.command("create")
@user_errors
def collection_create(
    title: Annotated[str, typer.Argument(help="Unique title.")],
    description: Annotated[str, typer.Option(help="What the collection holds.")] = "",
    collection_id: Annotated[str | None, typer.Option("--id", help="UUID (default: new).")] = None,
    anonymous_read: Annotated[
        bool, typer.Option("--anonymous-read", help="Anyone may read it, without a token.")
    ] = False,
) -> None:
    """Create a collection."""
    with cli_node() as node:
        c = sharing.create_collection(node, title, description, collection_id, anonymous_read)
    out.print(f"created collection {c.title!r} ({c.id})", markup=False)


@collection_app.command("list")
@user_errors
def collection_list() -> None:
    """List collections with their sizes."""
    with cli_node() as node:
        infos = sharing.collections(node)
    table = Table(box=None, pad_edge=False)
    table.add_column("id", no_wrap=True)
    table.add_column("title", overflow="fold")
    table.add_column("versions", justify="right", no_wrap=True)
    table.add_column("created", no_wrap=True)
    table.add_column("description", overflow="fold")
    for info in infos:
        c = info.collection
        table.add_row(c.id, c.title, f"{info.versions:,}", when(c.created), c.description)
    out.print(table)


@collection_app.command("grant")
@user_errors
def collection_grant(
    collection: Annotated[str, typer.Argument(help="Collection id or title.")],
    member: MemberOpt,
    read: Annotated[bool, typer.Option("--read", help="May read objects.")] = False,
    write: Annotated[bool, typer.Option("--write", help="May add objects.")] = False,
    lookup: Annotated[
        bool,
        typer.Option("--lookup", help="May run a private lookup against it (not a read)."),
    ] = False,
) -> None:
    """Give a member read, write and/or lookup access to a collection (replaces its grant)."""
    if not (read or write or lookup):
        raise typer.BadParameter(
            "give --read, --write, --lookup or several", param_hint="--read/--write/--lookup"
        )
    with cli_node() as node:
        c, m = sharing.grant(node, collection, member, read=read, write=write, lookup=lookup)
    rights = " and ".join(
        r for r, on in (("read", read), ("write", write), ("look up", lookup)) if on
    )
    out.print(f"{m.name} may {rights} {c.title!r}", markup=False)


@collection_app.command("revoke")
@user_errors
def collection_revoke(
    collection: Annotated[str, typer.Argument(help="Collection id or title.")],
    member: MemberOpt,
) -> None:
    """Take all of a member's access to a collection away."""
    with cli_node() as node:
        c, m = sharing.grant(node, collection, member, read=False, write=False)
    out.print(f"{m.name} has no access to {c.title!r}", markup=False)


@collection_app.command("anonymous")
@user_errors
def collection_anonymous(
    collection: Annotated[str, typer.Argument(help="Collection id or title.")],
    allow: Annotated[
        bool, typer.Option("--allow/--deny", help="Allow or deny reads without a token.")
    ],
) -> None:
    """Allow or deny reading a collection without authentication."""
    with cli_node() as node:
        c = sharing.set_anonymous_read(node, collection, allow)
    out.print(f"anonymous read of {c.title!r}: {'allowed' if allow else 'denied'}", markup=False)


@member_app.command("add")
@user_errors
def member_add(
    name: Annotated[str, typer.Argument(help="Unique member name (used as the Basic auth user).")],
    contact: Annotated[str, typer.Option(help="Contact: e-mail, phone, team.")] = "",
    identity_id: Annotated[
        str | None, typer.Option("--identity-id", help="The member's STIX identity id.")
    ] = None,
    jurisdiction: Annotated[
        str | None,
        typer.Option(help="Declared jurisdiction (EU, DE, CN...): for residency rules."),
    ] = None,
) -> None:
    """Add a partner organisation."""
    with cli_node() as node:
        m = sharing.add_member(node, name, contact, identity_id, jurisdiction)
    out.print(f"added member {m.name!r} ({m.identity_id})", markup=False)


@member_app.command("list")
@user_errors
def member_list() -> None:
    """List members with their grants and declared jurisdictions."""
    with cli_node() as node:
        infos = sharing.members(node)
    table = Table(box=None, pad_edge=False)
    for column in ("name", "identity", "contact", "jurisdiction", "collections"):
        table.add_column(column, no_wrap=column == "identity")
    for info in infos:
        m = info.member
        table.add_row(
            m.name, m.identity_id, m.contact, info.jurisdiction or "-", ", ".join(info.rights)
        )
    out.print(table)


@token_app.command("create")
@user_errors
def token_create(member: MemberOpt) -> None:
    """Make a token for a member; it is printed once and only its hash is kept."""
    with cli_node() as node:
        secret, info = sharing.create_token(node, member)
    err.print(
        f"token {info.prefix}… for {info.member}: copy it now, it is not shown again", markup=False
    )
    out.print(secret, markup=False)


@token_app.command("list")
@user_errors
def token_list() -> None:
    """List tokens by prefix (never the secrets)."""
    with cli_node() as node:
        tokens = sharing.tokens(node)
    table = Table("prefix", "member", "created", "revoked", box=None, pad_edge=False)
    for t in tokens:
        table.add_row(t.prefix, t.member, when(t.created), when(t.revoked) if t.revoked else "")
    out.print(table)


@token_app.command("revoke")
@user_errors
def token_revoke(
    token: Annotated[
        str, typer.Argument(help="The token's prefix (see `token list`) or the token.")
    ],
) -> None:
    """Revoke a token: it stops working at once."""
    with cli_node() as node:
        n = sharing.revoke_token(node, token)
    if n == 0:
        raise typer.BadParameter(f"no live token matches {token!r}", param_hint="TOKEN")
    out.print(f"revoked {n} token(s)", markup=False)


def _limit(value: object, own: object) -> str:
    shown = "off" if value is None else str(value)
    return shown if own is None else f"{shown} (this member's own)"


@member_app.command("limits")
@user_errors
def member_limits(
    name: Annotated[str, typer.Argument(help="Member name.")],
    requests_per_second: Annotated[
        float | None, typer.Option(help="Requests a second (0: no limit).")
    ] = None,
    burst: Annotated[int | None, typer.Option(help="Requests at once above the rate.")] = None,
    objects_per_day: Annotated[
        int | None, typer.Option(help="STIX objects POSTed a day (0: no limit).")
    ] = None,
    concurrent: Annotated[
        int | None, typer.Option(help="Requests in progress at once (0: no limit).")
    ] = None,
    reset: Annotated[
        bool, typer.Option("--reset", help="Back to the node's ACCORD_LIMIT_* settings first.")
    ] = False,
) -> None:
    """Show a member's rate limits, or give it its own (the options given)."""
    changing = reset or any(
        v is not None for v in (requests_per_second, burst, objects_per_day, concurrent)
    )
    with cli_node() as node:
        if changing:
            try:
                own, now = limits.set_member_limits(
                    node,
                    name,
                    requests_per_second=requests_per_second,
                    burst=burst,
                    objects_per_day=objects_per_day,
                    concurrent=concurrent,
                    reset=reset,
                )
            except ValueError as exc:
                raise typer.BadParameter(str(exc)) from None
        else:
            own, now = limits.limits_for(node, name)
    r, o = now.requests, now.objects
    table = Table(box=None, pad_edge=False, title=f"limits of member {name}")
    table.add_column("limit")
    table.add_column("value")
    table.add_row("requests a second", _limit(r and f"{r.per_second:g}", own.requests_per_second))
    table.add_row("burst", _limit(r and r.burst, own.burst))
    table.add_row("objects a day", _limit(o and o.burst, own.objects_per_day))
    table.add_row("in progress at once", _limit(now.concurrent, own.concurrent))
    out.print(table)
