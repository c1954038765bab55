"""The datasets of the ingest benchmark: the real bundles and the generated indicators.

The generated set is deterministic for a (size, seed) pair and is written once, streaming,
in three layouts of the same objects (same bytes per object):

- one JSON-lines file (``indicators.jsonl``),
- bundle files of 10,000 objects each (``bundles/bundle-00000.json`` ...),
- one single bundle file (``single/indicators-bundle.json``).

``generate_jsonl`` writes the JSON-lines file alone, with the same bytes: it draws the same
random numbers, bundle ids included, and leaves the bundles unwritten.
"""

from __future__ import annotations

import contextlib
import os
import random
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import orjson

from _common import REPO_ROOT

# DESIGN.md "Where the data for tests lives": ../shared/data beside the project's root.
SHARED_DATA = Path(os.environ.get("ACCORD_SHARED_DATA", REPO_ROOT.parent / "shared" / "data"))
ATTACK_FILE = Path("attack") / "enterprise-attack-18.1-derived-stix21.json"
UNIT42_DIR = Path("unit42") / "playbook_json"

BUNDLE_SIZE = 10_000
# Bump when the generator's output changes, so a kept work directory is regenerated.
GENERATOR_VERSION = 1

LAYOUT_JSONL = "JSON lines"
LAYOUT_BUNDLES = f"bundles of {BUNDLE_SIZE:,}"
LAYOUT_SINGLE = "one bundle"


@dataclass(frozen=True)
class Dataset:
    """One input of the benchmark, read identically by every contender.

    Attributes:
        name: the label in the report.
        args: the paths given to ``accord import`` (files or directories).
        files: the same bytes as a sorted list of files, for the raw floor.
        objects: the number of STIX objects in the files (duplicates included).
        layout: one of the ``LAYOUT_*`` constants.
        generated: True for the generated indicators.
    """

    name: str
    args: tuple[Path, ...]
    files: tuple[Path, ...]
    objects: int
    layout: str
    generated: bool

    @property
    def size_bytes(self) -> int:
        """The total size of the dataset's files."""
        return sum(path.stat().st_size for path in self.files)


@dataclass(frozen=True)
class Generated:
    """The three layouts of one generated set."""

    jsonl: Dataset
    bundles: Dataset
    single: Dataset

    def all(self) -> tuple[Dataset, Dataset, Dataset]:
        """The three layouts, JSON lines first."""
        return (self.jsonl, self.bundles, self.single)


# --- real data --------------------------------------------------------------------------


def count_bundle_objects(files: tuple[Path, ...]) -> int:
    """Count the objects of STIX bundle files (parsed once, outside any timing)."""
    return sum(len(orjson.loads(path.read_bytes()).get("objects", [])) for path in files)


def real_datasets(data_dir: Path) -> tuple[list[Dataset], list[str]]:
    """The ATT&CK Enterprise bundle and the Unit 42 playbooks, where present.

    Returns:
        the datasets found, and one message per dataset that is absent.
    """
    found: list[Dataset] = []
    missing: list[str] = []
    attack = data_dir / ATTACK_FILE
    if attack.is_file():
        files = (attack,)
        found.append(
            Dataset(
                "ATT&CK Enterprise 18.1",
                files,
                files,
                count_bundle_objects(files),
                LAYOUT_SINGLE,
                generated=False,
            )
        )
    else:
        missing.append(f"ATT&CK Enterprise bundle not found at ../shared/data/{ATTACK_FILE}")
    unit42 = data_dir / UNIT42_DIR
    playbooks = tuple(sorted(unit42.glob("*.json"))) if unit42.is_dir() else ()
    if playbooks:
        found.append(
            Dataset(
                f"Unit 42 playbooks ({len(playbooks)} files, STIX 2.0)",
                (unit42,),
                playbooks,
                count_bundle_objects(playbooks),
                LAYOUT_BUNDLES,
                generated=False,
            )
        )
    else:
        missing.append(f"Unit 42 playbooks not found at ../shared/data/{UNIT42_DIR}")
    return found, missing


# --- generated indicators ---------------------------------------------------------------

_TLDS = ("com", "net", "org", "info", "ru", "cn", "io", "xyz", "top", "biz", "su", "cc")
_WORDS = (
    "update", "secure", "login", "cdn", "mail", "cloud", "portal", "sync", "api", "files",
    "account", "verify", "service", "support", "online", "office", "micro", "data", "static",
    "web", "drive", "share", "auth", "host", "node", "gate", "panel", "track",
)  # fmt: skip
_FAMILIES = (
    "Emotet", "QakBot", "IcedID", "Cobalt Strike", "AgentTesla", "RedLine", "AsyncRAT",
    "Pikabot", "LockBit", "BlackCat", "Remcos", "FormBook", "DarkGate", "Lumma",
)  # fmt: skip
_INDICATOR_TYPES = ("malicious-activity", "anomalous-activity", "attribution", "compromised")
_LABELS = ("c2", "phishing", "malware-distribution", "botnet", "ransomware", "scanner", "apt")
# STIX 2.1 §7.2.1.4: the TLP:GREEN and TLP:AMBER marking definitions have fixed ids.
_TLP_MARKINGS = (
    "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da",
    "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82",
)
_EPOCH_2018 = 1_514_764_800
_SEVEN_YEARS = 7 * 365 * 86_400


class _Generator:
    """Realistic STIX 2.1 indicators from one seeded random source."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.identities = [f"identity--{self.uuid()}" for _ in range(8)]

    def uuid(self) -> str:
        """A UUIDv4-shaped id from the seeded source (STIX 2.1 §2.9 asks for v4)."""
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def timestamp(self, seconds: int) -> str:
        """A STIX timestamp with milliseconds (STIX 2.1 §3.2)."""
        millis = self.rng.randrange(1000)
        return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)) + f".{millis:03d}Z"

    def domain(self) -> str:
        rng = self.rng
        return f"{rng.choice(_WORDS)}-{rng.choice(_WORDS)}{rng.randrange(1000)}.{rng.choice(_TLDS)}"

    def observable(self) -> tuple[str, str, str]:
        """A (pattern, name, kind) triple over one of four observable types."""
        rng = self.rng
        kind = rng.choice(("ipv4", "domain", "url", "sha256"))
        if kind == "ipv4":
            value = ".".join(str(rng.randrange(1, 255)) for _ in range(4))
            return f"[ipv4-addr:value = '{value}']", f"Malicious IP {value}", "IP address"
        if kind == "domain":
            value = self.domain()
            return f"[domain-name:value = '{value}']", f"Malicious domain {value}", "domain"
        if kind == "url":
            path = "/".join(rng.choice(_WORDS) for _ in range(rng.randrange(1, 4)))
            value = f"http://{self.domain()}/{path}.php?id={rng.randrange(10**6)}"
            return f"[url:value = '{value}']", f"Malicious URL {value}", "URL"
        value = f"{rng.getrandbits(256):064x}"
        return f"[file:hashes.'SHA-256' = '{value}']", f"Malicious file {value[:16]}", "file hash"

    def indicator(self) -> dict[str, Any]:
        """One STIX 2.1 indicator (STIX 2.1 §4.7), some with labels and references."""
        rng = self.rng
        created_s = _EPOCH_2018 + rng.randrange(_SEVEN_YEARS)
        modified_s = created_s + (rng.randrange(90 * 86_400) if rng.random() < 0.3 else 0)
        created = self.timestamp(created_s)
        pattern, name, kind = self.observable()
        family = rng.choice(_FAMILIES)
        obj: dict[str, Any] = {
            "type": "indicator",
            "spec_version": "2.1",
            "id": f"indicator--{self.uuid()}",
            "created_by_ref": rng.choice(self.identities),
            "created": created,
            "modified": created if modified_s == created_s else self.timestamp(modified_s),
            "name": name,
            "description": f"{kind.capitalize()} seen in {family} infrastructure; "
            f"first reported {created[:10]}.",
            "indicator_types": rng.sample(_INDICATOR_TYPES, rng.randrange(1, 3)),
            "pattern": pattern,
            "pattern_type": "stix",
            "valid_from": created,
        }
        if rng.random() < 0.3:
            obj["valid_until"] = self.timestamp(modified_s + 365 * 86_400)
        if rng.random() < 0.5:
            obj["confidence"] = rng.randrange(10, 101, 5)
        if rng.random() < 0.4:
            obj["labels"] = [*rng.sample(_LABELS, rng.randrange(1, 3)), family.lower()]
        if rng.random() < 0.25:
            obj["external_references"] = [
                {
                    "source_name": "vendor-report",
                    "url": f"https://intel.example.org/reports/{rng.randrange(10**5)}",
                    "external_id": f"VR-{rng.randrange(10**6):06d}",
                }
            ]
        if rng.random() < 0.5:
            obj["object_marking_refs"] = [rng.choice(_TLP_MARKINGS)]
        return obj

    def chunks(self, size: int) -> Iterator[list[bytes]]:
        """The serialised indicators, in chunks of at most ``BUNDLE_SIZE``."""
        left = size
        while left > 0:
            count = min(BUNDLE_SIZE, left)
            yield [orjson.dumps(self.indicator()) for _ in range(count)]
            left -= count


def _bundle_head(bundle_id: str) -> bytes:
    return b'{"type":"bundle","id":"bundle--' + bundle_id.encode() + b'","objects":['


def _write_layouts(root: Path, size: int, seed: int, *, bundles: bool = True) -> None:
    """Write the layouts, streaming one chunk at a time (without ``bundles``: JSON lines only).

    The bundle ids are drawn from the seeded source whether or not the bundles are written,
    so that the objects are the same either way.
    """
    gen = _Generator(seed)
    root.mkdir(parents=True, exist_ok=True)
    with contextlib.ExitStack() as files:
        lines = files.enter_context((root / "indicators.jsonl").open("wb"))
        single: BinaryIO | None = None
        if bundles:
            (root / "bundles").mkdir(parents=True, exist_ok=True)
            (root / "single").mkdir(parents=True, exist_ok=True)
            single = files.enter_context((root / "single" / "indicators-bundle.json").open("wb"))
        single_head = _bundle_head(gen.uuid())
        if single is not None:
            single.write(single_head)
        for number, chunk in enumerate(gen.chunks(size)):
            lines.write(b"\n".join(chunk) + b"\n")
            bundle_head = _bundle_head(gen.uuid())
            if single is None:
                continue
            joined = b",".join(chunk)
            single.write((b"," if number else b"") + joined)
            bundle = root / "bundles" / f"bundle-{number:05d}.json"
            bundle.write_bytes(bundle_head + joined + b"]}")
        if single is not None:
            single.write(b"]}")


def _layouts(root: Path, size: int) -> Generated:
    label = f"generated indicators, {{}} ({size:,})"
    jsonl = (root / "indicators.jsonl",)
    single = (root / "single" / "indicators-bundle.json",)
    bundles = tuple(sorted((root / "bundles").glob("bundle-*.json")))
    return Generated(
        Dataset(label.format(LAYOUT_JSONL), jsonl, jsonl, size, LAYOUT_JSONL, generated=True),
        Dataset(
            label.format(LAYOUT_BUNDLES),
            (root / "bundles",),
            bundles,
            size,
            LAYOUT_BUNDLES,
            generated=True,
        ),
        Dataset(label.format(LAYOUT_SINGLE), single, single, size, LAYOUT_SINGLE, generated=True),
    )


def generate(root: Path, size: int, seed: int) -> Generated:
    """Write (or reuse, when ``root`` already holds the same set) the generated indicators."""
    manifest = root / "manifest.json"
    wanted = {"size": size, "seed": seed, "generator": GENERATOR_VERSION}
    if not (manifest.is_file() and orjson.loads(manifest.read_bytes()) == wanted):
        # Leave no stale manifest or bundle of another set behind if this write is cut short.
        manifest.unlink(missing_ok=True)
        for stale in root.glob("bundles/bundle-*.json"):
            stale.unlink()
        _write_layouts(root, size, seed)
        manifest.write_bytes(orjson.dumps(wanted))
    return _layouts(root, size)


def generate_jsonl(root: Path, size: int, seed: int) -> Path:
    """Write (or reuse) the generated indicators as one JSON-lines file, and return its path.

    Its lines are those of ``generate``'s JSON-lines layout for the same size and seed, and
    the first N lines of a bigger set are the set of size N.
    """
    manifest = root / "manifest.json"
    wanted = {"size": size, "seed": seed, "generator": GENERATOR_VERSION, "layouts": "jsonl"}
    if not (manifest.is_file() and orjson.loads(manifest.read_bytes()) == wanted):
        manifest.unlink(missing_ok=True)
        _write_layouts(root, size, seed, bundles=False)
        manifest.write_bytes(orjson.dumps(wanted))
    return root / "indicators.jsonl"


def first_lines(path: Path, count: int) -> list[bytes]:
    """The first ``count`` lines of a JSON-lines file, without their newline."""
    out: list[bytes] = []
    with path.open("rb") as handle:
        for line in handle:
            if len(out) == count:
                break
            out.append(line.rstrip(b"\n"))
    return out
