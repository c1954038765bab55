"""The project's documentation as the tests read it: README.md and every docs/*.md page."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"


def doc_files() -> list[Path]:
    """README.md, then every Markdown page of docs/, in name order."""
    return [ROOT / "README.md", *sorted(DOCS.glob("*.md"))]


def docs_text() -> str:
    """The text of README.md and of every docs/*.md page, joined."""
    return "\n".join(path.read_text(encoding="utf-8") for path in doc_files())


def docs_page(name: str) -> str:
    """The text of one page of docs/, e.g. ``docs_page("configuration")``."""
    return (DOCS / f"{name}.md").read_text(encoding="utf-8")
