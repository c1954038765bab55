"""The RFC 9497 / RFC 9496 vectors of ../shared/data/vectors/voprf, and the libsodium reference."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import IN_CI


@pytest.fixture(scope="session")
def voprf_vectors(shared_data: Path) -> Path:
    folder = shared_data / "vectors" / "voprf"
    if not folder.is_dir():
        pytest.skip(f"RFC 9497 vectors not found at {folder}")
    return folder


def load(folder: Path, name: str) -> Any:
    return json.loads((folder / name).read_text())


@pytest.fixture(scope="session")
def sodium() -> None:
    """libsodium (through pysodium) for the reference; skips where the library is missing."""
    try:
        import pysodium  # noqa: F401
    except (ImportError, OSError, ValueError) as exc:  # pysodium raises when libsodium is absent
        message = f"libsodium not loadable (apt-get install libsodium23): {exc}"
        if IN_CI:
            pytest.fail(message + " (CI=true: the RFC 9497 reference must run)")
        pytest.skip(message)
