"""The OpenAPI description of the TAXII endpoints: resources, parameters, errors.

The routes read their URL parameters themselves (names like ``match[id]``,
errors in TAXII's shape), so the parameters and bodies are declared here and
attached to each operation; `finish` then removes what FastAPI would claim
and the server never does (422 answers) and adds the security schemes.
"""

from __future__ import annotations

from typing import Any

from accord.service.taxii import (
    ADDED_AFTER,
    LIMIT,
    M_ID,
    M_SPEC,
    M_TYPE,
    M_VERSION,
    NEXT,
    TAXII_MEDIA_TYPE,
)

Schema = dict[str, Any]

_TIMESTAMP = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$"
_STRING_LIST: Schema = {"type": "array", "items": {"type": "string"}}
_MORE_NEXT: Schema = {
    "more": {"type": "boolean", "description": "Another page follows (§3.7)."},
    "next": {"type": "string", "description": "Give as `next` to get the following page."},
}


def _ref(name: str) -> Schema:
    return {"$ref": f"#/components/schemas/{name}"}


SCHEMAS: dict[str, Schema] = {
    "Error": {
        "type": "object",
        "description": "TAXII 2.1 error message (§3.6.1).",
        "required": ["title"],
        "properties": {
            "title": {"type": "string"},
            "description": {"type": "string"},
            "error_id": {"type": "string"},
            "error_code": {"type": "string"},
            "http_status": {"type": "string", "description": "The HTTP status, as a string."},
            "external_details": {"type": "string"},
            "details": {"type": "object"},
        },
    },
    "Discovery": {
        "type": "object",
        "description": "Server discovery (§4.1.1).",
        "required": ["title"],
        "properties": {
            "title": {"type": "string"},
            "description": {"type": "string"},
            "contact": {"type": "string"},
            "default": {"type": "string"},
            "api_roots": _STRING_LIST,
        },
    },
    "ApiRoot": {
        "type": "object",
        "description": "API root information (§4.2.1).",
        "required": ["title", "versions", "max_content_length"],
        "properties": {
            "title": {"type": "string"},
            "description": {"type": "string"},
            "versions": _STRING_LIST,
            "max_content_length": {"type": "integer"},
        },
    },
    "StatusDetails": {
        "type": "object",
        "required": ["id"],
        "properties": {
            "id": {"type": "string"},
            "version": {"type": "string"},
            "message": {"type": "string"},
        },
    },
    "Status": {
        "type": "object",
        "description": "Status of an Add Objects request (§4.3.1); adds complete at once.",
        "required": [
            "id",
            "status",
            "total_count",
            "success_count",
            "failure_count",
            "pending_count",
        ],
        "properties": {
            "id": {"type": "string"},
            "status": {"type": "string", "enum": ["pending", "complete"]},
            "request_timestamp": {"type": "string", "pattern": _TIMESTAMP},
            "total_count": {"type": "integer"},
            "success_count": {"type": "integer"},
            "successes": {"type": "array", "items": _ref("StatusDetails")},
            "failure_count": {"type": "integer"},
            "failures": {"type": "array", "items": _ref("StatusDetails")},
            "pending_count": {"type": "integer"},
            "pendings": {"type": "array", "items": _ref("StatusDetails")},
        },
    },
    "Collection": {
        "type": "object",
        "description": "A collection as the requester may use it (§5.2.1).",
        "required": ["id", "title", "can_read", "can_write"],
        "properties": {
            "id": {"type": "string"},
            "title": {"type": "string"},
            "description": {"type": "string"},
            "alias": {"type": "string"},
            "can_read": {"type": "boolean"},
            "can_write": {"type": "boolean"},
            "media_types": _STRING_LIST,
        },
    },
    "Collections": {
        "type": "object",
        "description": "The collections the requester may see (§5.1.1); empty object if none.",
        "properties": {"collections": {"type": "array", "items": _ref("Collection")}},
    },
    "StixObject": {
        "type": "object",
        "description": "A STIX 2.1 object, as stored.",
        "required": ["type", "id"],
        "properties": {"type": {"type": "string"}, "id": {"type": "string"}},
        "additionalProperties": True,
    },
    "Envelope": {
        "type": "object",
        "description": "TAXII envelope (§3.7): a page of STIX objects.",
        "properties": {**_MORE_NEXT, "objects": {"type": "array", "items": _ref("StixObject")}},
    },
    "EnvelopeIn": {
        "type": "object",
        "description": "TAXII envelope to add (§5.5): `objects` is required.",
        "required": ["objects"],
        "properties": {"objects": {"type": "array", "items": _ref("StixObject")}},
    },
    "ManifestRecord": {
        "type": "object",
        "required": ["id", "date_added", "version"],
        "properties": {
            "id": {"type": "string"},
            "date_added": {"type": "string", "pattern": _TIMESTAMP},
            "version": {"type": "string", "pattern": _TIMESTAMP},
            "media_type": {"type": "string"},
        },
    },
    "Manifest": {
        "type": "object",
        "description": "Manifest (§5.3.1): one record per object version.",
        "properties": {**_MORE_NEXT, "objects": {"type": "array", "items": _ref("ManifestRecord")}},
    },
    "Versions": {
        "type": "object",
        "description": "Versions of one object (§5.8.1), as their timestamps.",
        "properties": {
            **_MORE_NEXT,
            "versions": {"type": "array", "items": {"type": "string", "pattern": _TIMESTAMP}},
        },
    },
}

_ERRORS = {
    400: "Bad request: malformed body, envelope, filter, `limit` or `next`.",
    401: "No, wrong or revoked credentials (or credentials needed): see WWW-Authenticate.",
    403: "The requester sees the collection but may not do this with it.",
    404: "No such resource, or one the requester may not see.",
    406: f"The Accept header does not admit {TAXII_MEDIA_TYPE}.",
    413: "The body is over the API root's max_content_length.",
    415: f"The body's Content-Type is not {TAXII_MEDIA_TYPE}.",
    422: "The body is JSON but not a TAXII envelope with an `objects` list.",
}
_DATE_HEADERS = {
    name: {
        "description": f"date_added of the {which} item of this page",
        "schema": {"type": "string"},
    }
    for name, which in (("X-TAXII-Date-Added-First", "first"), ("X-TAXII-Date-Added-Last", "last"))
}


def _content(schema: Schema) -> Schema:
    return {TAXII_MEDIA_TYPE: {"schema": schema}}


def responses(
    ok: int, schema: str | None, *errors: int, dated: bool = False
) -> dict[int | str, dict[str, Any]]:
    """The responses of one operation: its success and its TAXII errors (+ 406 always)."""
    success: dict[str, Any] = {"description": "Success."}
    if schema is not None:
        success["content"] = _content(_ref(schema))
    if dated:
        success["headers"] = _DATE_HEADERS
    out: dict[int | str, dict[str, Any]] = {ok: success}
    for code in sorted({*errors, 406}):
        out[code] = {"description": _ERRORS[code], "content": _content(_ref("Error"))}
    if 401 in errors:
        out[401]["headers"] = {
            "WWW-Authenticate": {"description": "Basic and Bearer", "schema": {"type": "string"}}
        }
    return out


_PARAMS: dict[str, Schema] = {
    ADDED_AFTER: {
        "description": "Only versions added to the collection after this timestamp (§3.4).",
        "schema": {"type": "string", "pattern": _TIMESTAMP},
    },
    LIMIT: {
        "description": "Most items wanted in this page; the server caps it (§3.4).",
        "schema": {"type": "integer", "minimum": 1},
    },
    NEXT: {
        "description": "The `next` value of the previous page (§3.4).",
        "schema": {"type": "string"},
    },
    M_ID: {
        "description": "Comma-separated STIX ids (§3.4).",
        "schema": {"type": "string"},
    },
    M_TYPE: {
        "description": "Comma-separated STIX types (§3.4).",
        "schema": {"type": "string"},
    },
    M_VERSION: {
        "description": "Comma-separated: last (default), first, all, or version timestamps (§3.4).",
        "schema": {"type": "string"},
    },
    M_SPEC: {
        "description": "Comma-separated STIX specification versions, e.g. 2.1 (§3.4).",
        "schema": {"type": "string"},
    },
}


def parameters(*names: str) -> dict[str, Any]:
    """``openapi_extra`` declaring the query parameters an operation takes."""
    return {
        "parameters": [{"name": n, "in": "query", "required": False, **_PARAMS[n]} for n in names]
    }


def request_body() -> dict[str, Any]:
    """``openapi_extra`` for Add Objects: the envelope, in the TAXII media type."""
    return {
        "requestBody": {"required": True, "content": _content(_ref("EnvelopeIn"))},
    }


def finish(spec: dict[str, Any]) -> dict[str, Any]:
    """Complete FastAPI's document: our schemas and security, none of its 422 answers."""
    components = spec.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    for name in ("HTTPValidationError", "ValidationError"):
        schemas.pop(name, None)
    schemas.update(SCHEMAS)
    if not schemas:
        components.pop("schemas")
    components["securitySchemes"] = {
        "basic": {
            "type": "http",
            "scheme": "basic",
            "description": "User name: the member's name; password: one of its tokens.",
        },
        "bearer": {"type": "http", "scheme": "bearer", "description": "A member's token."},
    }
    for path in spec.get("paths", {}).values():
        for operation in path.values():
            answers = operation.get("responses", {})
            if "HTTPValidationError" in str(answers.get("422", "")):
                del answers["422"]  # FastAPI's; the server answers 400 instead
            for answer in answers.values():
                # Only what the server sends: the TAXII media type, our schemas
                # (FastAPI would add its response class's type beside them).
                content = answer.get("content", {})
                for media in [m for m in content if m != TAXII_MEDIA_TYPE]:
                    del content[media]
                for media in content.values():
                    schema = media.get("schema", {})
                    if "$ref" in schema:
                        media["schema"] = {"$ref": schema["$ref"]}
                if "content" in answer and not content:
                    del answer["content"]
            # Anonymous requests are answered too (collections open to anyone).
            operation["security"] = [{}, {"basic": []}, {"bearer": []}]
    return spec
