"""The TAXII benchmark's policy phase: what a sharing agreement costs the paginated read.

One fresh SQLite node holds ``--policy-size`` (default 1,000,000) generated indicators, a
tenth of them with personal data in their description (an e-mail address and an RFC 1918
address). The benchmark's member reads the whole collection over TAXII with pages of
1,000, following ``next``, twice in one server run:

1. with no agreement (the member's grant alone decides: objects go as stored);
2. with an agreement of several rules in ``ACCORD_HOME/agreements/bench.toml``: a TLP
   ceiling, excluded types, an excluded label, an embargo, and redaction of e-mail and
   internal addresses (so a tenth of the objects go as redacted copies).

Both reads page through the same stored versions; the second serves fewer (the withheld
ones) and rewrites a tenth. The cost of the policy is the time of the whole read with the
agreement over the time without: the goal is at most 20% more (a rate ratio of at least
0.8). The objects the member should receive are counted beforehand with
``accord policy preview``, and the read must return exactly that many.
"""

from __future__ import annotations

import argparse
import itertools
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import httpx
import orjson

from _common import Server, log, verdict
from _ingest_contenders import COLLECTION, scratch_dir
from _ingest_data import generate_jsonl
from _taxii_accord import MEMBER, accord_server, import_file, make_node, objects_path
from _taxii_client import Transfer, client, get_all

PAGE = 1_000
GOAL_RATIO = 0.8
PERSONAL = " Reported by soc-analyst@victim.example from 10.20.30.40."
AGREEMENT = """\
# The benchmark's agreement: several rules, redaction on a tenth of the objects.
members = ["bench"]
collections = ["bench"]
tlp_ceiling = "green"
unmarked_tlp = "clear"
embargo_hours = 17520

[types]
exclude = ["malware", "identity", "note"]

[labels]
exclude = ["scanner"]

[redact]
personal = ["email", "internal-address"]
"""


@dataclass(frozen=True)
class PolicyResult:
    """The two reads, or why they did not run."""

    size: int
    without: Transfer | None = None
    with_policy: Transfer | None = None
    served: int = 0
    redacted: int = 0
    withheld: int = 0
    peak_rss: int | None = None
    setup: str = ""
    note: str = ""

    @property
    def ratio(self) -> float | None:
        """Seconds without the agreement over seconds with it (1: the policy is free)."""
        if self.without is None or self.with_policy is None or not self.with_policy.seconds:
            return None
        return self.without.seconds / self.with_policy.seconds


def policy_data(jsonl: Path, size: int, workdir: Path) -> Path:
    """The first ``size`` generated indicators; every tenth carries personal data."""
    path = workdir / f"policy-{size}.jsonl"
    with jsonl.open("rb") as source, path.open("wb") as out:
        for n, line in enumerate(itertools.islice(source, size)):
            if n % 10 == 0:
                obj = orjson.loads(line)
                obj["description"] = obj.get("description", "") + PERSONAL
                line = orjson.dumps(obj) + b"\n"
            out.write(line)
    return path


def _preview(accord: Path, env: dict[str, str]) -> tuple[int, int, int]:
    """(shared, redacted, withheld) from ``accord policy preview``."""
    done = subprocess.run(
        [accord, "policy", "preview", "--to", MEMBER, "--collection", COLLECTION],
        env=env,
        capture_output=True,
        text=True,
        timeout=3600,
        check=True,
    )
    for line in done.stdout.splitlines():
        cells = line.split()
        if cells and cells[0] == COLLECTION:
            shared, redacted, withheld = (int(c.replace(",", "")) for c in cells[-3:])
            return shared, redacted, withheld
    raise RuntimeError(f"`accord policy preview` printed no row for {COLLECTION}")


def policy_read(
    accord: Path, jsonl: Path, size: int, workdir: Path, timeout: float
) -> PolicyResult:
    """Import the data into a fresh node, then read it without and with the agreement."""
    home = scratch_dir(workdir, "taxii-policy")
    server: Server | None = None
    try:
        data = policy_data(jsonl, size, workdir)
        node = make_node(accord, home, None)
        log(f"policy: accord import {size:,} objects")
        imported = import_file(accord, node, data, timeout)
        if not imported.ok:
            raise RuntimeError(f"accord import: {imported.failure()}")
        setup = f"`accord import` stored the {size:,} objects in {imported.seconds:,.1f} s"
        with (
            accord_server(accord, node) as server,
            client(server.base_url, MEMBER, node.token) as http,
        ):
            path = objects_path(http)
            log(f"policy: GET {size:,} objects, no agreement")
            without = get_all(http, path, size, PAGE, timeout)
            log(f"  {without.rate or 0:,.0f} objects/s")
            folder = home / "agreements"
            folder.mkdir(exist_ok=True)
            (folder / "bench.toml").write_text(AGREEMENT)
            log("policy: accord policy preview (what the member should receive)")
            shared, redacted, withheld = _preview(accord, node.env)
            served = shared + redacted
            log(f"  {served:,} to serve ({redacted:,} redacted), {withheld:,} withheld")
            log(f"policy: GET {size:,} stored objects through the agreement")
            with_policy = get_all(http, path, served, PAGE, timeout)
            log(f"  {size / with_policy.seconds:,.0f} stored objects/s")
        return PolicyResult(
            size, without, with_policy, served, redacted, withheld, server.peak_rss, setup
        )
    except (RuntimeError, OSError, httpx.HTTPError, subprocess.SubprocessError) as exc:
        log(f"  policy phase failed: {exc}")
        peak = server.peak_rss if server is not None else None
        return PolicyResult(size, peak_rss=peak, note=f"failed: {str(exc).splitlines()[0]}")
    finally:
        shutil.rmtree(home, ignore_errors=True)


def policy_section(result: PolicyResult) -> str:
    """The report's Markdown section for the policy phase."""
    lines = ["## Sharing agreement on the read path", ""]
    if result.without is None or result.with_policy is None:
        return "\n".join([*lines, f"Not measured: {result.note or 'skipped'}.", ""])
    rows = [
        ("no agreement", result.without, result.size),
        ("agreement: ceiling, types, label, embargo, redaction", result.with_policy, result.served),
    ]
    lines += [
        "| read | stored objects paged | objects served | seconds | stored objects/s"
        " | served objects/s | p50 page ms | p99 page ms |",
        "|---|--:|--:|--:|--:|--:|--:|--:|",
    ]
    for label, t, served in rows:
        p50, p99 = t.percentile(0.5), t.percentile(0.99)
        lines.append(
            f"| {label} | {result.size:,} | {served:,} | {t.seconds:,.1f} |"
            f" {result.size / t.seconds:,.0f} | {served / t.seconds:,.0f} |"
            f" {(p50 or 0) * 1000:,.1f} | {(p99 or 0) * 1000:,.1f} |"
        )
    ratio = result.ratio
    ok = None if ratio is None else ratio >= GOAL_RATIO
    lines += [
        "",
        f"With the agreement, {result.redacted:,} objects went as redacted copies and"
        f" {result.withheld:,} were withheld. {result.setup}.",
        "",
        f"- {verdict(ok)}: the agreement costs at most 20% of the read's throughput"
        f" (time without / time with = {ratio:.2f}, goal >= {GOAL_RATIO})."
        if ratio is not None
        else "- n/a: no ratio",
        "",
    ]
    return "\n".join(lines)


def run(args: argparse.Namespace, accord: Path | None, workdir: Path) -> str:
    """The policy phase of bench/taxii.py: its report section ("" when skipped)."""
    size = args.policy_size
    if not size or accord is None:
        return ""
    total = max(args.size, args.read_size, size)
    jsonl = generate_jsonl(workdir / "data-jsonl", total, args.seed)
    return policy_section(policy_read(accord, jsonl, size, workdir, args.timeout))
