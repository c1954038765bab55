"""Scheduled feeds against a real HTTP server on loopback, failures injected."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import orjson
import pytest

from accord.patterns import Event, Matcher
from accord.service import feeds, query
from accord.service._match_indicators import IndicatorFeed
from accord.service.node import Node
from accord.store import Query
from accord.taxii._feed_client import FeedFetcher
from tests.cli_run import run
from tests.formats.misp_events import attribute, event

DAY_US = 86_400 * 1_000_000


@dataclasses.dataclass
class Answer:
    status: int = 200
    body: bytes = b""
    content_type: str = "text/plain"
    etag: bool = True


class FeedServer:
    """A feed server on 127.0.0.1: path -> answer; ETags from the body; a request log."""

    def __init__(self) -> None:
        self.answers: dict[str, Answer] = {}
        self.log: list[tuple[str, int]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                answer = outer.answers.get(self.path, Answer(404, b"not found"))
                tag = '"' + hashlib.sha256(answer.body).hexdigest()[:16] + '"'
                if (
                    answer.status == 200
                    and answer.etag
                    and self.headers.get("If-None-Match") == tag
                ):
                    outer.log.append((self.path, 304))
                    self.send_response(304)
                    self.end_headers()
                    return
                outer.log.append((self.path, answer.status))
                self.send_response(answer.status)
                self.send_header("Content-Type", answer.content_type)
                self.send_header("Content-Length", str(len(answer.body)))
                if answer.etag:
                    self.send_header("ETag", tag)
                self.end_headers()
                self.wfile.write(answer.body)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}{path}"

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def web() -> Iterator[FeedServer]:
    server = FeedServer()
    yield server
    server.close()


def _fetch(node: Node, **settings: Any) -> FeedFetcher:
    # Retries as peers, without the waits (the backoff is the peers' RetryPolicy's).
    s = dataclasses.replace(node.settings, peer_retries=3, peer_backoff=0.01, **settings)
    return FeedFetcher(s, sleep=lambda _: None)


def _current(node: Node) -> dict[str, dict[str, Any]]:
    return {o.id: orjson.loads(o.data) for o in node.store.query(Query(types=("indicator",)))}


def test_a_list_feed_syncs_conditionally_and_expires_what_vanished(
    node: Node, web: FeedServer
) -> None:
    web.answers["/list.txt"] = Answer(
        body=b"# Reference: https://example.org/r\nevil.example.com\n198.51.100.7\n"
    )
    feeds.add_feed(node, "bl", url=web.url("/list.txt"), fmt="txt", tlp="green")
    first = feeds.sync_feed(node, "bl", _fetch(node))
    assert first.ok and first.status == "fetched" and first.listed == 2, first.summary()
    assert len(_current(node)) == 2
    assert query.stats(node).collections["bl"] > 0  # the feed's own collection
    # Unchanged: a conditional request, a 304, nothing new.
    second = feeds.sync_feed(node, "bl", _fetch(node))
    assert second.status == "not modified" and web.log[-1] == ("/list.txt", 304)
    versions = query.stats(node).versions
    # The address vanishes from the list: a new version with valid_until, not a deletion.
    matcher = Matcher()
    ind_feed = IndicatorFeed(node, matcher)
    ind_feed.load()
    later = time.time() + 3600

    def hits(value: str) -> int:
        return len(matcher.feed(Event(later, (("ipv4-addr:value", value),), lambda: [], 1)))

    assert hits("198.51.100.7") == 1
    web.answers["/list.txt"] = Answer(body=b"evil.example.com\n")
    third = feeds.sync_feed(node, "bl", _fetch(node))
    assert third.vanished == 1 and third.aged == 0, third.summary()
    current = _current(node)
    assert len(current) == 2  # still stored
    gone = next(i for i in current.values() if i["name"] == "198.51.100.7")
    assert gone["valid_until"] == gone["modified"]
    assert query.stats(node).versions == versions + 1
    # The matcher stops matching it at once (its next poll).
    ind_feed.poll()
    assert hits("198.51.100.7") == 0
    # It comes back: valid again.
    web.answers["/list.txt"] = Answer(body=b"evil.example.com\n198.51.100.7\n")
    feeds.sync_feed(node, "bl", _fetch(node))
    back = next(i for i in _current(node).values() if i["name"] == "198.51.100.7")
    assert "valid_until" not in back


@pytest.mark.parametrize(
    ("answer", "fmt", "reason"),
    [
        (Answer(500, b"oops"), "txt", "HTTP 500"),
        (Answer(404, b"no"), "txt", "HTTP 404"),
        (Answer(200, b"<html><body>Please log in</body></html>", "text/html"), "stix", "HTML"),
        (Answer(200, b"x" * 5000), "txt", "ACCORD_FEED_MAX_BYTES"),
        (Answer(200, b'{"not": "a bundle"}', "application/json"), "stix", "not a STIX bundle"),
        (Answer(200, b'{"Event": {"info": "x", "timestamp": "soon"}}'), "misp", "refused"),
    ],
)
def test_a_failed_fetch_changes_nothing(
    node: Node, web: FeedServer, answer: Answer, fmt: str, reason: str
) -> None:
    web.answers["/f"] = Answer(body=b"good.example.com\n")
    feeds.add_feed(node, "f", url=web.url("/f"), fmt="txt")
    assert feeds.sync_feed(node, "f", _fetch(node)).ok
    before = query.stats(node).versions
    node.store.remove_feed("f")
    feeds.add_feed(node, "f", url=web.url("/f"), fmt=fmt, collection="f")
    web.answers["/f"] = answer
    report = feeds.sync_feed(node, "f", _fetch(node, feed_max_bytes=4096))
    assert not report.ok and reason in str(report.error), report.error
    assert query.stats(node).versions == before
    (feed,) = feeds.list_feeds(node)
    assert feed.failures == 1 and reason in str(feed.last_error)
    if answer.status == 500:  # retried as peers are: 3 tries
        assert [s for p, s in web.log if p == "/f"][-3:] == [500, 500, 500]
    if answer.status == 404:  # the server's final word: one try
        assert [s for p, s in web.log if p == "/f"][-2:] == [200, 404]


def _misp_feed(web: FeedServer, events: list[dict[str, Any]]) -> None:
    manifest = {e["uuid"]: {"info": e["info"], "timestamp": e["timestamp"]} for e in events}
    web.answers["/misp/manifest.json"] = Answer(body=json.dumps(manifest).encode())
    for e in events:
        web.answers[f"/misp/{e['uuid']}.json"] = Answer(body=json.dumps({"Event": e}).encode())


def test_a_misp_feed_resumes_and_ages_out_by_type(node: Node, web: FeedServer) -> None:
    one = event(
        attributes=[
            attribute(1, "ip-dst", "203.0.113.1", True),
            attribute(2, "domain", "c2.example", True),
        ]
    )
    two = event(
        uuid="5f0c1a2e-1111-4a5b-9c3d-0000000000e2",
        attributes=[attribute(3, "ip-dst", "203.0.113.2", True)],
    )
    _misp_feed(web, [one, two])
    del web.answers[f"/misp/{two['uuid']}.json"]  # listed, but missing: that event fails
    feeds.add_feed(node, "circl", url=web.url("/misp/"), fmt="misp-feed")
    now = int(time.time() * 1e6)
    first = feeds.sync_feed(node, "circl", _fetch(node), now=now)
    assert first.ok and first.imported is not None
    assert len(first.imported.failed_inputs) == 1 and "404" in str(first.imported.failed_inputs[0])
    _misp_feed(web, [one, two])
    second = feeds.sync_feed(node, "circl", _fetch(node), now=now)
    fetched = [p for p, _ in web.log]
    # Resumed: the first event was not fetched again, the second was.
    assert fetched.count(f"/misp/{one['uuid']}.json") == 1
    assert fetched.count(f"/misp/{two['uuid']}.json") == 2
    assert second.imported is not None and second.imported.events == 1
    assert len(_current(node)) == 3
    # 31 days on, nothing reconfirmed them: the addresses (30 days) age out, the domain (90) not.
    aged = feeds.sync_feed(node, "circl", _fetch(node), now=now + 31 * DAY_US)
    assert aged.aged == 2, aged.summary()
    valid = {i["pattern"] for i in _current(node).values() if "valid_until" not in i}
    assert all("c2.example" in n for n in valid) and len(valid) == 1


def test_per_feed_expire_after(node: Node, web: FeedServer) -> None:
    ev = event(attributes=[attribute(2, "domain", "c2.example", True)])
    _misp_feed(web, [ev])
    feeds.add_feed(node, "m", url=web.url("/misp"), fmt="misp-feed", expire_after=2)
    now = int(time.time() * 1e6)
    assert feeds.sync_feed(node, "m", _fetch(node), now=now).ok
    assert feeds.sync_feed(node, "m", _fetch(node), now=now + 1 * DAY_US).aged == 0
    assert feeds.sync_feed(node, "m", _fetch(node), now=now + 3 * DAY_US).aged == 1


def test_stix_feed(node: Node, web: FeedServer, shared_data: Path) -> None:
    path = sorted((shared_data / "eset/stix21").glob("*.json"))[0]
    web.answers["/b.json"] = Answer(body=path.read_bytes(), content_type="application/json")
    feeds.add_feed(node, "eset", url=web.url("/b.json"), fmt="stix")
    report = feeds.sync_feed(node, "eset", _fetch(node))
    assert report.ok and report.listed == len(_current(node)) > 0


def test_the_cli(tmp_path: Path, web: FeedServer) -> None:
    home = tmp_path / "home"
    assert run(home, "init")[0] == 0
    web.answers["/l.txt"] = Answer(body=b"evil.example.com\n")
    code, out, err = run(
        home, "feed", "add", "bl", "--url", web.url("/l.txt"), "--format", "txt", "--interval", "60"
    )
    assert code == 0, err
    code, out, err = run(home, "feed", "sync")
    assert code == 0 and "bl: fetched" in out, out + err
    code, out, _ = run(home, "feed", "list")
    assert "bl" in out and "never" not in out
    web.answers["/l.txt"] = Answer(404, b"gone")
    code, out, _ = run(home, "feed", "sync", "bl", env={"ACCORD_PEER_RETRIES": "1"})
    assert code == 1 and "FAILED" in out
    code, _, err = run(home, "feed", "add", "x", "--url", "ftp://x", "--format", "txt")
    assert code == 1 and "http(s)" in err
    code, out, _ = run(home, "feed", "remove", "bl")
    assert code == 0
    code, _, err = run(home, "feed", "sync", "bl")
    assert code == 1 and "no feed named 'bl'" in err


def test_every_feed_command_has_help_and_is_documented() -> None:
    from typer.testing import CliRunner

    from accord.cli import app

    docs = (Path(__file__).resolve().parents[2] / "docs" / "feeds.md").read_text()
    for command in ("feed add", "feed list", "feed sync", "feed remove", "import", "export"):
        result = CliRunner().invoke(app, [*command.split(), "--help"])
        assert result.exit_code == 0, result.output
        assert f"accord {command}" in docs, command


def test_accord_import_reads_a_misp_feed_url(tmp_path: Path, web: FeedServer) -> None:
    one = event(attributes=[attribute(2, "domain", "c2.example", True)])
    gone = event(uuid="5f0c1a2e-1111-4a5b-9c3d-0000000000f9", attributes=[])
    _misp_feed(web, [one, gone])
    del web.answers[f"/misp/{gone['uuid']}.json"]
    home = tmp_path / "home"
    assert run(home, "init")[0] == 0
    env = {"ACCORD_PEER_RETRIES": "1"}
    code, out, err = run(home, "import", web.url("/misp/"), "-c", "circl", env=env)
    assert "1 MISP event(s)" in out, out + err
    assert "not fetched" in err and "listed in manifest.json but missing" in err
    assert code == 1  # a listed event is missing: said, and the exit code tells
    code, out, _ = run(home, "search", "c2.example")
    assert code == 0 and "indicator--" in out


def test_accord_serve_pulls_feeds_on_their_intervals(node: Node, web: FeedServer) -> None:
    from tests.federation.nodes import wait_for

    web.answers["/good.txt"] = Answer(body=b"evil.example.com\n198.51.100.7\n")
    web.answers["/broken.txt"] = Answer(500, b"oops")
    feeds.add_feed(node, "good", url=web.url("/good.txt"), fmt="txt", tlp="green", interval=1)
    feeds.add_feed(node, "broken", url=web.url("/broken.txt"), fmt="txt", interval=60)
    reports: list[feeds.FeedReport] = []
    settings = dataclasses.replace(node.settings, peer_retries=1, peer_backoff=0.01)
    scheduler = feeds.FeedScheduler(settings, _fetch(node), tick=0.05, on_report=reports.append)
    scheduler.start()
    try:
        wait_for(
            "the good feed pulled twice (its interval is 1 s) and the broken one reported",
            lambda: (
                sum(r.feed == "good" for r in reports) >= 2
                and any(r.feed == "broken" for r in reports)
            ),
            30,
        )
    finally:
        scheduler.stop(timeout=5)
    assert len(_current(node)) == 2
    broken = [r for r in reports if r.feed == "broken"]
    assert len(broken) == 1 and not broken[0].ok  # once: its interval is a minute
    assert [r.status for r in reports if r.feed == "good"][:2] == ["fetched", "not modified"]
