"""Exports for sensors: Zeek intel (checked against Zeek's own files), Suricata, CSV."""

from __future__ import annotations

import io
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from accord import formats
from accord.service import feeds, query
from accord.service.node import Node
from accord.stix import Tlp
from accord.store import Query
from tests.policy.objects import indicator

ZAT = Path("zeek/zat/intel_example.intel")
BASELINES = Path("zeek/zeek-baselines/testing/btest/Baseline")


def _zat_as_csv(shared_data: Path, tmp_path: Path) -> tuple[Path, list[tuple[str, str]]]:
    """Zeek's intel example as a tab-separated list with a header (the #fields line)."""
    text = (shared_data / ZAT).read_text()
    rows = [line.split("\t") for line in text.splitlines() if line and not line.startswith("#")]
    header = text.splitlines()[0].removeprefix("#fields\t")
    path = tmp_path / "intel.csv"
    path.write_text(header + "\n" + "\n".join("\t".join(r) for r in rows) + "\n")
    return path, [(r[0], r[1]) for r in rows]


def _zeek_export(node: Node) -> str:
    out = io.StringIO()
    feeds.write_sensor(node, "zeek-intel", query.search(node, Query(types=("indicator",))), out)
    return out.getvalue()


def _zeek_types_in_baselines(shared_data: Path) -> set[str]:
    found: set[str] = set()
    for log in (shared_data / BASELINES).glob("*intel*/intel.log"):
        found.update(re.findall(r"Intel::[A-Z_]+", log.read_text(errors="replace")))
    return found


def test_zeek_intel_round_trip_of_zeeks_own_example(
    node: Node, shared_data: Path, tmp_path: Path
) -> None:
    path, expected = _zat_as_csv(shared_data, tmp_path)
    options = feeds.ListOptions(producer="CPS-CTI", value_column="indicator")
    report = feeds.import_foreign(node, [(str(path), "csv")], lists=options)
    assert not report.line_problems, report.line_problems[:3]
    text = _zeek_export(node)
    lines = text.splitlines()
    example_header = (shared_data / ZAT).read_text().splitlines()[0].split("\t")
    header = lines[0].split("\t")
    # Zeek's input framework: a #fields line naming indicator and indicator_type first,
    # then meta.* fields, as in Zeek's own example; every row has every field.
    assert header[:3] == example_header[:3] == ["#fields", "indicator", "indicator_type"]
    assert all(h.startswith("meta.") for h in header[3:])
    rows = [line.split("\t") for line in lines[1:]]
    assert all(len(r) == len(header) - 1 and all(r) for r in rows)
    # Hashes and domains come out in lower case (what Zeek's analysers see; DNS is
    # case-insensitive).
    lower = ("Intel::FILE_HASH", "Intel::DOMAIN")
    want = {(v.lower() if t in lower else v, t) for v, t in expected}
    assert sorted((r[0], r[1]) for r in rows) == sorted(want)
    assert {r[2] for r in rows} == {"CPS-CTI"}
    known = _zeek_types_in_baselines(shared_data) | {t for _, t in expected}
    assert {r[1] for r in rows} <= known | {"Intel::SUBNET", "Intel::EMAIL", "Intel::FILE_NAME"}


def test_zeek_urls_lose_their_scheme_and_unusable_patterns_are_skipped(
    node: Node, tmp_path: Path
) -> None:
    path = tmp_path / "l.txt"
    path.write_text("http://evil.example/a?b=c\n198.51.100.9\n10.0.0.0/8\n")
    feeds.import_foreign(node, [(str(path), "txt")])
    from accord.service.ingest import ingest_objects

    both = indicator(1, pattern="[ipv4-addr:value = '1.2.3.4' AND domain-name:value = 'x.example']")
    ingest_objects(node, [both], source=("test", "t"), collection_pks=[])
    rows = {tuple(line.split("\t")[:2]) for line in _zeek_export(node).splitlines()[1:]}
    assert rows == {
        ("evil.example/a?b=c", "Intel::URL"),
        ("198.51.100.9", "Intel::ADDR"),
        ("10.0.0.0/8", "Intel::SUBNET"),
    }


def test_expired_and_revoked_indicators_are_not_exported(node: Node) -> None:
    from accord.service.ingest import ingest_objects

    objs: list[object] = [
        indicator(1),
        indicator(2, valid_until="2020-01-01T00:00:00.000Z", valid_from="2019-01-01T00:00:00.000Z"),
        indicator(3, revoked=True),
    ]
    ingest_objects(node, objs, source=("test", "t"), collection_pks=[])
    out = io.StringIO()
    counts = feeds.write_sensor(
        node, "csv", query.search(node, Query(types=("indicator",), include_revoked=True)), out
    )
    assert counts.indicators == 1 and counts.skipped == 2
    assert out.getvalue().splitlines()[0] == formats.CSV_HEADER.strip()


SURICATA_RULE = re.compile(
    r"alert (dns|tls|http|ip) (any any -> any any|any any <> \[[0-9a-fA-F:./]+\] any) "
    r'\(msg:"[^";\\]*"; .*sid:(\d+); rev:1;\)'
)


def _suricata(node: Node, folder: Path) -> feeds.SensorCounts:
    return feeds.export_sensor(
        node, "suricata", query.search(node, Query(types=("indicator",))), folder
    )


def test_suricata_rules_datasets_and_hash_lists(node: Node, tmp_path: Path) -> None:
    path = tmp_path / "l.txt"
    path.write_text(
        "evil.example.com\nhttp://bad.example.net/x.php\n203.0.113.5\n2001:db8::7\n"
        + "0123456789abcdef0123456789abcdef\n"
        + "a" * 64
        + "\n"
    )
    feeds.import_foreign(
        node, [(str(path), "txt")], lists=feeds.ListOptions(producer="p", tlp=Tlp.GREEN)
    )
    out = tmp_path / "suricata"
    counts = _suricata(node, out)
    rules = (out / "accord.rules").read_text().splitlines()
    assert counts.indicators == 4  # the hashes go to lists, not rules
    sids = []
    for rule in rules:
        m = SURICATA_RULE.fullmatch(rule)
        assert m, rule
        sids.append(int(m.group(3)))
    assert len(sids) == len(set(sids))
    text = "\n".join(rules)
    for needle in (
        'dns.query; dotprefix; content:".evil.example.com"',
        "tls.sni;",
        "http.host;",
        'http.uri; content:"/x.php"',
        "[203.0.113.5]",
        "[2001:db8::7]",
        "filemd5:accord-md5.txt",
        "filesha256:accord-sha256.txt",
    ):
        assert needle in text, needle
    assert (out / "accord-md5.txt").read_text() == "0123456789abcdef0123456789abcdef\n"
    import base64

    assert (out / "accord-domains.lst").read_text() == base64.b64encode(
        b"evil.example.com"
    ).decode() + "\n"
    assert "dataset:isset,accord-domains" in (out / "accord-datasets.rules").read_text()
    # Stable sids: the same store exports the same rules.
    again = tmp_path / "again"
    _suricata(node, again)
    assert (again / "accord.rules").read_text() == (out / "accord.rules").read_text()


def test_suricata_accepts_the_rules(node: Node, tmp_path: Path, shared_data: Path) -> None:
    binary = shutil.which("suricata")
    if binary is None:
        pytest.skip(
            "suricata is not installed: Debian's package has no installation candidate on this "
            "machine (apt-cache policy suricata); the rules' syntax is checked by "
            "test_suricata_rules_datasets_and_hash_lists"
        )
    names = sorted((shared_data / "maltrail/trails/static/malware").glob("*.txt"))[:3]
    for n in names:
        shutil.copy(n, tmp_path / n.name)
    feeds.import_foreign(node, [(str(tmp_path), "txt")])
    out = tmp_path / "suricata"
    _suricata(node, out)
    config = tmp_path / "suricata.yaml"
    config.write_text(
        "%YAML 1.1\n---\ndefault-rule-path: " + str(out) + "\nrule-files:\n  - accord.rules\n"
        "vars:\n  address-groups:\n    HOME_NET: any\n    EXTERNAL_NET: any\n"
    )
    result = subprocess.run(
        [binary, "-T", "-c", str(config), "-l", str(tmp_path)], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_cli_exports(tmp_path: Path) -> None:
    from tests.cli_run import run
    from tests.formats.misp_events import event

    home = tmp_path / "home"
    assert run(home, "init")[0] == 0
    lst = tmp_path / "l.txt"
    lst.write_text("evil.example.com\n198.51.100.9\n")
    ev = tmp_path / "e.json"
    ev.write_text(__import__("json").dumps({"Event": event()}))
    code, out, err = run(home, "import", str(lst), str(ev), "-c", "intel", "--producer", "me")
    assert code == 0, err
    assert "1 MISP event(s)" in out and "1 list(s), 2 entries" in out
    code, out, err = run(home, "export", "-f", "zeek-intel", "-c", "intel")
    assert code == 0, err
    assert out.startswith(formats.ZEEK_HEADER) and "evil.example.com\tIntel::DOMAIN\tme" in out
    code, _, err = run(home, "export", "-f", "misp", "-c", "intel", "-o", str(tmp_path / "feed"))
    assert code == 0 and "exported 1 MISP event(s)" in err, err
    assert (tmp_path / "feed" / "manifest.json").is_file()
    code, _, err = run(home, "export", "-f", "misp", "-c", "intel")
    assert code == 1 and "--output DIR" in err
    code, _, err = run(home, "export", "-f", "nope")
    assert code == 1 and "zeek-intel" in err
