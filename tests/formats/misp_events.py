"""MISP events for the tests, written as MISP writes them (strings for numbers)."""

from __future__ import annotations

from typing import Any

ORG = {"name": "CIRCL", "uuid": "55f6ea5e-2c60-40e5-964f-47a8950d210f"}
EVENT_UUID = "5f0c1a2e-1111-4a5b-9c3d-000000000001"


def attribute(n: int, type_: str, value: str, to_ids: bool, **extra: Any) -> dict[str, Any]:
    return {
        "uuid": f"5f0c1a2e-2222-4a5b-9c3d-{n:012d}",
        "type": type_,
        "category": "Network activity"
        if type_ in ("domain", "ip-dst", "url")
        else "Payload delivery",
        "value": value,
        "to_ids": to_ids,
        "timestamp": "1704200000",
        **extra,
    }


def event(
    *,
    uuid: str = EVENT_UUID,
    timestamp: int = 1704200000,
    published: bool = True,
    distribution: str = "1",
    tags: list[str] | None = None,
    attributes: list[dict[str, Any]] | None = None,
    objects: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    return {
        "uuid": uuid,
        "info": "Test campaign",
        "date": "2024-01-02",
        "timestamp": str(timestamp),
        "publish_timestamp": str(timestamp),
        "published": published,
        "analysis": "2",
        "threat_level_id": "1",
        "distribution": distribution,
        "Orgc": ORG,
        "Tag": [{"name": t} for t in (tags if tags is not None else ["tlp:green"])],
        "Attribute": attributes
        if attributes is not None
        else [
            attribute(
                1,
                "domain",
                "evil.example.com",
                True,
                Sighting=[
                    {
                        "uuid": "5f0c1a2e-3333-4a5b-9c3d-000000000003",
                        "type": "0",
                        "date_sighting": "1704200000",
                        "Organisation": {
                            "name": "SOC",
                            "uuid": "55f6ea5e-2c60-40e5-964f-47a8950d2100",
                        },
                    }
                ],
            ),
            attribute(2, "ip-dst", "198.51.100.7", False),
            attribute(3, "md5", "0123456789abcdef0123456789abcdef", True),
        ],
        "Object": objects or [],
    }
