"""Secrets stay secret: tokens in no log, no error body, no CLI output but their one display.

And the node's files: the directory is its owner's alone, the identity key is
refused when others may read it, a directory others may enter is warned about.
"""

from __future__ import annotations

import base64
import logging
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from accord.exceptions import ConfigError
from accord.service.node import KEY_FILE, init_node, open_node
from tests.cli_run import run
from tests.conftest import settings_for
from tests.policy.objects import indicator
from tests.security.conftest import Live
from tests.taxii.helpers import TAXII, basic, bearer, envelope


@pytest.fixture
def everything_logged(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    """Every record of every logger, DEBUG and up (the server thread's included)."""
    with caplog.at_level(logging.DEBUG):
        yield caplog


def test_tokens_appear_in_no_log_and_no_error_body(
    live: Live, everything_logged: pytest.LogCaptureFixture
) -> None:
    s = live.server
    token = s.tokens["writer"]
    revoked_secret, info = s.node.store.create_token(s.members["reader"].pk)
    assert s.node.store.revoke_token(info.prefix) == 1
    wrong = token[:-4] + ("aaaa" if not token.endswith("aaaa") else "bbbb")
    shared = s.collections["shared"].id
    answers: list[httpx.Response] = []
    refusals: dict[str, httpx.Response] = {}
    with live.client() as c:
        for headers in (bearer(token), basic("writer", token)):
            r = c.get(
                f"/api/v21/collections/{shared}/objects/", headers={"Accept": TAXII, **headers}
            )
            assert r.status_code == 200
            answers.append(r)
        posted = c.post(
            f"/api/v21/collections/{shared}/objects/",
            content=envelope([indicator(1), {"type": "nonsense"}]),
            headers={"Accept": TAXII, "Content-Type": TAXII, **bearer(token)},
        )
        assert posted.status_code == 202
        answers.append(posted)
        cases = {
            "unknown": bearer(wrong),
            "revoked": bearer(revoked_secret),
            "another member's name": basic("reader", token),
            "unknown in Basic": basic("writer", wrong),
        }
        for what, headers in cases.items():
            refusals[what] = c.get("/api/v21/collections/", headers={"Accept": TAXII, **headers})
        garbled = {"Authorization": "Basic " + base64.b64encode(token.encode()).decode()}
        answers.append(c.get("/api/v21/collections/", headers={"Accept": TAXII, **garbled}))
        answers.append(c.get("/log/checkpoint", headers={"Authorization": f"Token {token}"}))
    # One answer for every wrong credential: no oracle on which part was wrong.
    bodies = {r.content for r in refusals.values()}
    assert len(bodies) == 1 and all(r.status_code == 401 for r in refusals.values()), bodies
    for r in [*answers, *refusals.values()]:
        for secret in (token, wrong, revoked_secret):
            assert secret not in r.text
            assert all(secret not in v for v in r.headers.values())
    logged = everything_logged.text + "".join(str(x.args) for x in everything_logged.records)
    assert everything_logged.records  # the server did log (the test could fail)
    for secret in (token, wrong, revoked_secret, token[4:]):
        assert secret not in logged


def test_the_store_keeps_only_digests_of_member_tokens(live: Live) -> None:
    s = live.server
    db = Path(s.node.settings.home) / "accord.db"
    raw = b"".join(p.read_bytes() for p in db.parent.glob("accord.db*"))
    assert len(raw) > 10_000
    for token in s.tokens.values():
        assert token.encode() not in raw
        assert token[4:].encode() not in raw


def test_the_cli_shows_a_token_once_and_a_peer_token_never(tmp_path: Path) -> None:
    home = tmp_path / "n"
    assert run(home, "init")[0] == 0
    assert run(home, "member", "add", "cert-b")[0] == 0
    code, shown, _ = run(home, "token", "create", "--member", "cert-b")
    assert code == 0
    secret = next(w for w in shown.split() if w.startswith("acc_") and len(w) > 30)
    peer_secret = "peer-secret-" + "x" * 30
    code, out, err = run(
        home,
        "peer",
        "add",
        "p",
        "--url",
        "http://127.0.0.1:9",
        "--collection",
        "c",
        "--token",
        peer_secret,
    )
    assert code == 0, err
    assert peer_secret not in out + err
    for args in (("token", "list"), ("member", "list"), ("peer", "list"), ("settings",)):
        code, out, err = run(home, *args)
        assert code == 0, (args, err)
        assert secret not in out + err and secret[4:] not in out + err, args
        assert peer_secret not in out + err, args


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_new_node_is_its_owners_alone(tmp_path: Path) -> None:
    old = os.umask(0o022)  # the common default, which leaves files world-readable
    try:
        home = tmp_path / "node"
        settings = settings_for(home)
        init_node(settings, "n")
        open_node(settings).close()  # the store's files exist now
    finally:
        os.umask(old)
    assert _mode(home) == 0o700
    assert _mode(home / KEY_FILE) == 0o600


def test_a_key_others_may_read_is_refused_and_an_open_directory_warned_of(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    home = tmp_path / "node"
    settings = settings_for(home)
    init_node(settings, "n")
    os.chmod(home / KEY_FILE, 0o644)
    with pytest.raises(ConfigError, match="chmod 600"):
        open_node(settings)
    os.chmod(home / KEY_FILE, 0o600)
    os.chmod(home, 0o755)
    with caplog.at_level(logging.WARNING, logger="accord.node"):
        open_node(settings).close()
    assert "chmod 700" in caplog.text
    caplog.clear()
    os.chmod(home, 0o700)
    with caplog.at_level(logging.WARNING, logger="accord.node"):
        open_node(settings).close()
    assert "chmod 700" not in caplog.text


def test_accord_settings_hides_the_database_password(tmp_path: Path) -> None:
    url = "postgresql+psycopg://accord:hunter2-not-shown@127.0.0.1:5432/accord"
    code, out, err = run(tmp_path / "n", "settings", env={"ACCORD_DATABASE_URL": url})
    assert code == 0, err
    assert "hunter2-not-shown" not in out + err
    assert "ACCORD_DATABASE_URL=postgresql+psycopg://accord:***@127.0.0.1:5432/accord" in out
