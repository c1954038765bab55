"""Every relative link in README.md and docs/*.md leads somewhere.

A link is ``[text](target)`` or ``[label]: target`` outside code; targets with a
scheme (``https:``, ``mailto:``) are not followed. A path must name a file or a
folder of the repository; a ``#fragment`` must name a heading of its page (the
GitHub rule: lower case, punctuation dropped, spaces to hyphens).

A page other engineers are still writing may be linked from README.md's
Documentation list with "(in progress)" on its line; links to it are then
allowed everywhere until the page exists, and once it exists the mark must go.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.docs_text import ROOT, doc_files

_FENCE = re.compile(r"^(```|~~~)")
_CODE_SPAN = re.compile(r"`[^`]*`")
_INLINE = re.compile(r"!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
_REFERENCE = re.compile(r"^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s+.*)?$")
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")
_IN_PROGRESS = "(in progress)"


def _prose_lines(text: str, *, blank_code: bool = True) -> list[tuple[int, str]]:
    """(line number, line) outside fenced code blocks, code spans blanked unless asked not."""
    lines: list[tuple[int, str]] = []
    fenced = False
    for number, line in enumerate(text.splitlines(), start=1):
        if _FENCE.match(line.lstrip()):
            fenced = not fenced
            continue
        if not fenced:
            lines.append((number, _CODE_SPAN.sub("``", line) if blank_code else line))
    return lines


def links(text: str) -> list[tuple[int, str, str]]:
    """(line number, target, whole line) of every link in Markdown ``text``."""
    found: list[tuple[int, str, str]] = []
    for number, line in _prose_lines(text):
        found += [(number, m.group(1), line) for m in _INLINE.finditer(line)]
        if m := _REFERENCE.match(line):
            found.append((number, m.group(1), line))
    return found


def anchors(text: str) -> set[str]:
    """The ``#fragment`` names GitHub gives the headings of a page."""
    seen: dict[str, int] = {}
    names: set[str] = set()
    for _, line in _prose_lines(text, blank_code=False):
        if m := re.match(r"^#{1,6}\s+(.*?)\s*#*\s*$", line):
            slug = re.sub(r"[^\w\- ]", "", m.group(1).lower()).replace(" ", "-")
            count = seen.get(slug, 0)
            seen[slug] = count + 1
            names.add(slug if count == 0 else f"{slug}-{count}")
    return names


def in_progress(readme: Path) -> set[Path]:
    """The pages README.md lists as "(in progress)"."""
    pages: set[Path] = set()
    for _, target, line in links(readme.read_text(encoding="utf-8")):
        if _IN_PROGRESS in line and not _SCHEME.match(target):
            pages.add((readme.parent / target.split("#", 1)[0]).resolve())
    return pages


def broken_links(page: Path, allowed_missing: set[Path]) -> list[str]:
    """Every link of ``page`` that leads nowhere, as ``"file:line: target (why)"``."""
    faults: list[str] = []
    text = page.read_text(encoding="utf-8")
    for number, target, _ in links(text):
        if _SCHEME.match(target):
            continue
        where = f"{page.name}:{number}: {target}"
        path_part, _, fragment = target.partition("#")
        if path_part.startswith("/"):
            faults.append(f"{where} (absolute path; links are relative)")
            continue
        resolved = (page.parent / path_part).resolve() if path_part else page
        if not resolved.exists():
            if resolved not in allowed_missing:
                faults.append(f"{where} (no such file)")
            continue
        checkable = bool(fragment) and resolved.suffix == ".md"
        if checkable and fragment not in anchors(resolved.read_text(encoding="utf-8")):
            faults.append(f"{where} (no heading #{fragment})")
    return faults


@pytest.mark.parametrize("page", doc_files(), ids=lambda p: p.relative_to(ROOT).as_posix())
def test_every_relative_link_resolves(page: Path) -> None:
    assert broken_links(page, in_progress(ROOT / "README.md")) == []


def test_a_page_marked_in_progress_does_not_exist_yet() -> None:
    written = sorted(p.relative_to(ROOT).as_posix() for p in in_progress(ROOT / "README.md"))
    assert [p for p in written if (ROOT / p).exists()] == [], "drop '(in progress)' in README.md"


def test_the_checker_finds_broken_links(tmp_path: Path) -> None:
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "here.md").write_text("# Here\n\n## Some Part: `two.py`\n")
    page = tmp_path / "README.md"
    page.write_text(
        "# Title\n\n"
        "[ok](docs/here.md) [ok](docs/here.md#some-part-twopy) [ok](#title) [web](https://x.example)\n"
        "[gone](docs/gone.md) and [bad anchor](docs/here.md#nowhere) `[code](skip.md)`\n"
        "```\n[fenced](skip.md)\n```\n"
        "[abs](/docs/here.md)\n"
        "[ref]: docs/missing.md\n"
        "- [Later](docs/later.md) (in progress)\n"
    )
    assert broken_links(page, in_progress(page)) == [
        "README.md:4: docs/gone.md (no such file)",
        "README.md:4: docs/here.md#nowhere (no heading #nowhere)",
        "README.md:8: /docs/here.md (absolute path; links are relative)",
        "README.md:9: docs/missing.md (no such file)",
    ]
    assert in_progress(page) == {(tmp_path / "docs" / "later.md").resolve()}
