"""The OpenAPI document tells the truth about the TAXII endpoints; Schemathesis finds no 5xx.

Schemathesis generates requests (valid and invalid) from the document and
sends them to a real server on loopback; every answer must be no server
error, have a status, media type, headers and body the document declares.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from accord.service.node import init_node, open_node
from accord.settings import load_settings
from accord.taxii import create_app
from tests.taxii.helpers import TAXII, bearer, indicator, oid
from tests.taxii.live import running

SPEC: dict[str, Any] = create_app(load_settings({"ACCORD_HOME": "/nonexistent"})).openapi()
SHARED = "5b0b0a3e-8c1a-4f0e-9c3e-000000000001"
HIDDEN = "5b0b0a3e-8c1a-4f0e-9c3e-000000000002"
EXISTING = [oid("indicator", 1), oid("indicator", 2)]


def test_every_taxii_endpoint_is_described() -> None:
    operations = {(m.upper(), p) for p, ops in SPEC["paths"].items() for m in ops}
    root = "/api/v21/"
    coll = root + "collections/{collection_id}/"
    assert operations == {
        ("GET", "/taxii2/"),
        ("GET", root),
        ("GET", root + "status/{status_id}/"),
        ("GET", root + "collections/"),
        ("GET", coll),
        ("GET", coll + "manifest/"),
        ("GET", coll + "objects/"),
        ("POST", coll + "objects/"),
        ("GET", coll + "objects/{object_id}/"),
        ("DELETE", coll + "objects/{object_id}/"),
        ("GET", coll + "objects/{object_id}/versions/"),
    }


def test_media_types_parameters_and_errors_are_declared() -> None:
    paths = SPEC["paths"]
    get_objects = paths["/api/v21/collections/{collection_id}/objects/"]["get"]
    names = [p["name"] for p in get_objects["parameters"] if p["in"] == "query"]
    assert names == [
        "added_after",
        "limit",
        "next",
        "match[id]",
        "match[type]",
        "match[version]",
        "match[spec_version]",
    ]
    versions = paths["/api/v21/collections/{collection_id}/objects/{object_id}/versions/"]["get"]
    assert [p["name"] for p in versions["parameters"] if p["in"] == "query"] == [
        "added_after",
        "limit",
        "next",
        "match[spec_version]",
    ]
    add = paths["/api/v21/collections/{collection_id}/objects/"]["post"]
    assert list(add["requestBody"]["content"]) == [TAXII]
    assert set(add["responses"]) == {"202", "400", "401", "403", "404", "406", "413", "415", "422"}
    for path, ops in paths.items():
        for method, op in ops.items():
            for status, answer in op["responses"].items():
                assert status != "422" or (method, path.endswith("objects/")) == ("post", True)
                for media, body in answer.get("content", {}).items():
                    assert media == TAXII, (path, method, status)
                    if status.startswith(("4", "5")):
                        assert body["schema"] == {"$ref": "#/components/schemas/Error"}
            assert "406" in op["responses"], (path, method)
            assert op["security"] == [{}, {"basic": []}, {"bearer": []}]
    assert get_objects["responses"]["200"]["headers"].keys() == {
        "X-TAXII-Date-Added-First",
        "X-TAXII-Date-Added-Last",
    }
    assert SPEC["components"]["securitySchemes"]["basic"]["scheme"] == "basic"
    assert "HTTPValidationError" not in SPEC["components"]["schemas"]


def _fuzzed_spec() -> dict[str, Any]:
    """The document, with path parameters steered to collections and objects that exist."""
    spec = copy.deepcopy(SPEC)
    for ops in spec["paths"].values():
        for op in ops.values():
            for p in op.get("parameters", []):
                if p["name"] == "collection_id":
                    p["schema"] = {"type": "string", "enum": [SHARED, HIDDEN, "x"]}
                elif p["name"] == "object_id":
                    p["schema"] = {"type": "string", "enum": [*EXISTING, "indicator--x"]}
    return spec


schema = schemathesis.openapi.from_dict(_fuzzed_spec())


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[str, str]]]:
    """A server on loopback over a SQLite node with a few objects; its URL and credentials."""
    home = Path(tmp_path_factory.mktemp("schemathesis")) / "node"
    node_settings = load_settings({"ACCORD_HOME": str(home), "ACCORD_TAXII_MAX_PAGE": "50"})
    init_node(node_settings, "fuzz")
    node = open_node(node_settings)
    store = node.store
    shared = store.create_collection("shared", collection_id=SHARED)
    store.create_collection("hidden", collection_id=HIDDEN)
    member = store.create_member("fuzzer")
    token = store.create_token(member.pk)[0]
    store.set_grant(shared.pk, member.pk, True, True)
    from accord.service.ingest import ingest_objects

    ingest_objects(
        node, [indicator(1), indicator(2)], source=("test", "x"), collection_pks=[shared.pk]
    )
    with running(create_app(node_settings, node), node_settings) as url:
        yield url, {"Accept": TAXII, **bearer(token)}
    node.close()


@pytest.fixture(scope="module")
def session() -> Iterator[requests.Session]:
    with requests.Session() as s:
        yield s


CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


@schema.parametrize()
@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_schemathesis_finds_no_server_error_and_no_undocumented_answer(
    case: schemathesis.Case[Any], live: tuple[str, dict[str, str]], session: requests.Session
) -> None:
    url, headers = live
    case.call_and_validate(base_url=url, session=session, headers=headers, checks=CHECKS)
