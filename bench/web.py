"""The console's speed: p50/p95 server time of its main pages on a big node, alone and under load.

Builds (or reuses, with ``--work``) a node of ``--size`` generated indicators (the
ingest benchmark's generator, imported through ``accord import``) plus MITRE ATT&CK
Enterprise (real relationships for the graph) and a few thousand relationships,
sightings and reports tying the indicators to ATT&CK malware; then serves it with
``accord serve`` and asks for the dashboard, search, object and graph pages, one
client at a time and then with ``--users`` clients at once. Server time is the
console's ``Server-Timing`` header (the app's time for the page); the client's
time on loopback is reported beside it.

Goals (issue 15): p95 under 300 ms for each page at 1,000,000 objects; under 1 s
with 20 concurrent users.

    .venv/bin/python bench/web.py --size 1000000 --work web-bench
"""

from __future__ import annotations

import argparse
import os
import random
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote

import httpx
import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import free_port, log, package_version, publish_report, report_header, verdict
from _ingest_data import _FAMILIES, ATTACK_FILE, SHARED_DATA, generate_jsonl

PASSWORD = "bench password, long enough"
ACCORD = str(Path(sys.executable).parent / "accord")
GOAL_ALONE = 300.0
GOAL_LOADED = 1000.0
TS = "2025-06-01T00:00:00.000Z"


def _accord(home: Path, *args: str, env: dict[str, str]) -> None:
    cmd = [ACCORD, "--home", str(home), *args]
    subprocess.run(cmd, check=True, env=env, stdout=subprocess.DEVNULL)


def _links(indicators: list[str], malware: list[str], seed: int) -> bytes:
    """Relationships, sightings and reports over some indicators and ATT&CK malware."""
    rng = random.Random(seed)
    base = {"spec_version": "2.1", "created": TS, "modified": TS}
    objs: list[dict[str, object]] = []
    for ind in indicators:
        target = rng.choice(malware)
        objs.append(
            {
                **base,
                "type": "relationship",
                "id": f"relationship--{uuid.UUID(int=rng.getrandbits(128), version=4)}",
                "relationship_type": "indicates",
                "source_ref": ind,
                "target_ref": target,
            }
        )
        if rng.random() < 0.3:
            objs.append(
                {
                    **base,
                    "type": "sighting",
                    "id": f"sighting--{uuid.UUID(int=rng.getrandbits(128), version=4)}",
                    "sighting_of_ref": ind,
                    "count": rng.randrange(1, 50),
                }
            )
    for n in range(0, len(indicators), 100):
        objs.append(
            {
                **base,
                "type": "report",
                "id": f"report--{uuid.UUID(int=rng.getrandbits(128), version=4)}",
                "name": f"Campaign report {n // 100}",
                "published": TS,
                "object_refs": indicators[n : n + 100],
            }
        )
    return orjson.dumps({"type": "bundle", "id": f"bundle--{uuid.uuid4()}", "objects": objs})


Built = tuple[Path, list[str], list[str], list[str]]


def build(work: Path, size: int, env: dict[str, str]) -> Built:
    """The node (built once per work directory and size): ids, values and graph roots."""
    home = work / f"node-{size}"
    ids_file = home / "bench-ids.json"
    if ids_file.exists():
        ids = orjson.loads(ids_file.read_bytes())
        return home, ids["indicators"], ids["values"], ids["roots"]
    started = time.perf_counter()
    lines = generate_jsonl(work / f"indicators-{size}", size, seed=15)
    log(f"generated {size:,} indicators in {time.perf_counter() - started:.0f} s")
    _accord(home, "init", env=env)
    started = time.perf_counter()
    _accord(home, "import", str(lines), "--collection", "indicators", env=env)
    log(f"imported them in {time.perf_counter() - started:.0f} s")
    attack = SHARED_DATA / ATTACK_FILE
    malware: list[str] = []
    if attack.is_file():
        _accord(home, "import", str(attack), "--collection", "attack", env=env)
        malware = [
            o["id"]
            for o in orjson.loads(attack.read_bytes())["objects"]
            if o.get("type") == "malware"
        ]
    rng = random.Random(15)
    sample: list[str] = []
    values: list[str] = []
    with lines.open("rb") as f:
        for n, line in enumerate(f):
            if n % max(size // 5000, 1) == 0:
                obj = orjson.loads(line)
                sample.append(obj["id"])
                values.append(obj["pattern"].split("'")[-2])
    malware = malware or sample[:50]
    links = work / f"links-{size}.json"
    links.write_bytes(_links(sample, malware, 15))
    _accord(home, "import", str(links), "--collection", "indicators", env=env)
    for member in ("cert-a", "cert-b", "cert-c"):
        _accord(home, "member", "add", member, env=env)
        _accord(home, "collection", "grant", "indicators", "-m", member, "--read", env=env)
    pw = work / "pw"
    pw.write_text(PASSWORD + "\n")
    _accord(home, "user", "add", "bench", "--role", "admin", "--password-file", str(pw), env=env)
    roots = rng.sample(malware, min(50, len(malware))) + rng.sample(sample, 50)
    ids_file.write_bytes(orjson.dumps({"indicators": sample, "values": values, "roots": roots}))
    return home, sample, values, roots


def login(base: str) -> httpx.Client:
    c = httpx.Client(base_url=base, timeout=120)
    page = c.get("/console/login")
    token = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert token
    r = c.post(
        "/console/login", data={"csrf": token.group(1), "name": "bench", "password": PASSWORD}
    )
    assert r.status_code == 303, r.text
    return c


def timed(c: httpx.Client, path: str) -> tuple[float, float]:
    """(server ms, client ms) of one page."""
    started = time.perf_counter()
    r = c.get(path)
    client = (time.perf_counter() - started) * 1e3
    if r.status_code != 200:
        raise RuntimeError(f"{path}: HTTP {r.status_code}: {r.text[-300:]}")
    m = re.search(r"dur=([0-9.]+)", r.headers.get("server-timing", ""))
    return (float(m.group(1)) if m else client), client


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--size", type=int, default=1_000_000, help="generated indicators")
    ap.add_argument("--requests", type=int, default=100, help="requests per page, one user")
    ap.add_argument("--users", type=int, default=20, help="concurrent users")
    ap.add_argument("--per-user", type=int, default=20, help="requests of each concurrent user")
    ap.add_argument("--workers", type=int, default=1, help="accord serve --workers")
    ap.add_argument(
        "--work",
        type=Path,
        default=Path(tempfile.gettempdir()) / "accord-web-bench",
        help="kept work folder",
    )
    ap.add_argument("--out", type=Path, default=None, help="report file")
    args = ap.parse_args()
    env = {k: v for k, v in os.environ.items() if not k.startswith("ACCORD_")}
    args.work.mkdir(parents=True, exist_ok=True)
    home, indicators, values, roots = build(args.work, args.size, env)
    port = free_port()
    log_file = args.work / "serve.log"
    workers = str(args.workers)
    with log_file.open("ab") as out:
        server = subprocess.Popen(
            [ACCORD, "--home", str(home), "serve", "--port", str(port), "--workers", workers],
            env=env,
            stdout=out,
            stderr=out,
            start_new_session=True,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                if httpx.get(base + "/taxii2/", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline or server.poll() is not None:
                raise RuntimeError("accord serve did not start: " + log_file.read_text()[-2000:])
            time.sleep(0.2)
        rng = random.Random(7)
        words = [f.split()[0].lower() for f in _FAMILIES]
        searches: list[Callable[[], str]] = [
            lambda: (
                f"/console/search?text={rng.choice(words)}+{rng.choice(['domain', 'url', 'file'])}"
            ),
            lambda: f"/console/search?type=indicator&tlp=TLP:AMBER&page={rng.randrange(1, 20)}",
            lambda: "/console/search?value=" + quote(rng.choice(values)),
            lambda: "/console/search?type=malware&text=" + rng.choice(["backdoor", "ransomware"]),
        ]
        pages: dict[str, Callable[[], str]] = {
            "dashboard": lambda: "/console/",
            "search": lambda: rng.choice(searches)(),
            "object": lambda: "/console/object/" + rng.choice(indicators),
            "graph": lambda: "/console/graph/" + rng.choice(roots),
        }
        client = login(base)
        cold_server, _ = timed(client, "/console/")
        log(f"dashboard counted cold in {cold_server:.0f} ms")
        alone: dict[str, tuple[list[float], list[float]]] = {}
        for name, path in pages.items():
            server_ms: list[float] = []
            client_ms: list[float] = []
            for _ in range(args.requests):
                s, c = timed(client, path())
                server_ms.append(s)
                client_ms.append(c)
            alone[name] = (server_ms, client_ms)
            p50, p95 = statistics.median(server_ms), pct(server_ms, 95)
            log(f"{name}: p50 {p50:.1f} ms, p95 {p95:.1f} ms")
        loaded: dict[str, tuple[list[float], list[float]]] = {n: ([], []) for n in pages}
        lock = threading.Lock()
        errors: list[str] = []

        # Logged in first: 20 Argon2id verifications are not part of the pages' time.
        clients = [login(base) for _ in range(args.users)]

        def user(seed: int) -> None:
            local = random.Random(seed)
            c = clients[seed]
            try:
                try:
                    for _ in range(args.per_user):
                        name = local.choice(list(pages))
                        s, cl = timed(c, pages[name]())
                        with lock:
                            loaded[name][0].append(s)
                            loaded[name][1].append(cl)
                finally:
                    c.close()
            except Exception as exc:  # reported, not hidden
                errors.append(repr(exc))

        threads = [threading.Thread(target=user, args=(n,)) for n in range(args.users)]
        started = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        wall = time.perf_counter() - started
        if errors:
            raise RuntimeError(f"{len(errors)} concurrent users failed: {errors[:3]}")
    finally:
        server.terminate()
        server.wait(30)
    when = time.gmtime()
    lines = report_header(
        "Console pages (bench/web.py)",
        when,
        {
            "accord": package_version("accord"),
            "uvicorn": package_version("uvicorn"),
            "SQLite": __import__("sqlite3").sqlite_version,
        },
    )
    total = args.size + len(indicators) * 2 + 25_000
    lines += [
        f"- Node: {args.size:,} generated indicators + MITRE ATT&CK Enterprise + relationships, "
        f"sightings and reports (about {total:,} objects), SQLite, `accord serve --workers "
        f"{args.workers}`",
        f"- Dashboard counted cold (first request): {cold_server:.0f} ms; then reused for "
        "ACCORD_WEB_DASHBOARD_SECONDS (30 s)",
        "",
        f"| page | one user p50 (ms) | p95 (ms) | goal p95 < {GOAL_ALONE:.0f} | "
        f"{args.users} users p50 (ms) | p95 (ms) | client p95 (ms) "
        f"| goal p95 < {GOAL_LOADED:.0f} |",
        "|---|---:|---:|---|---:|---:|---:|---|",
    ]
    for name in pages:
        a, b, bc = alone[name][0], loaded[name][0], loaded[name][1]
        row = [name, f"{statistics.median(a):.1f}", f"{pct(a, 95):.1f}"]
        row.append(verdict(pct(a, 95) < GOAL_ALONE))
        if b:
            row += [f"{statistics.median(b):.1f}", f"{pct(b, 95):.1f}", f"{pct(bc, 95):.1f}"]
            row.append(verdict(pct(b, 95) < GOAL_LOADED))
        else:
            row += ["", "", "", "n/a"]
        lines.append("| " + " | ".join(row) + " |")
    done = sum(len(v[0]) for v in loaded.values())
    lines += [
        "",
        f"{args.requests} requests per page for one user; {args.users} users x {args.per_user} "
        f"requests ({done} pages in {wall:.1f} s, {done / wall:.1f} pages/s). Server time: the "
        "console's Server-Timing header; client time: the same request seen on loopback.",
        "",
    ]
    publish_report("\n".join(lines) + "\n", args.out, "web", when)


if __name__ == "__main__":
    main()
