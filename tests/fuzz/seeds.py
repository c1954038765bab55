"""The hand-written seeds of each target's corpus (``python -m tests.fuzz.seeds`` writes them).

Small inputs of the real shapes, written here rather than copied from any
third-party data: each target's folder under tests/fuzz/corpus/ holds these
(``seed-*``) and the inputs fuzzing found that add coverage (named by their
SHA-1, as libFuzzer's merge writes them).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import orjson

from tests.fuzz.samples import INDICATORS, OBJECTS

CORPUS = Path(__file__).resolve().parent / "corpus"
_ID = "8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"
_T = "2026-11-01T10:00:00.000Z"


def _j(doc: Any) -> bytes:
    return orjson.dumps(doc)


def _stix() -> list[bytes]:
    lifted = {
        "type": "bundle",
        "id": f"bundle--{_ID}",
        "spec_version": "2.0",
        "objects": [
            {
                "type": "indicator",
                "id": f"indicator--{_ID}",
                "created": "2017-01-01T00:00:00Z",
                "modified": "2017-01-01T00:00:00Z",
                "labels": ["malicious-activity"],
                "pattern": "[file:name = 'a.exe']",
                "valid_from": "2017-01-01T00:00:00Z",
            },
            {
                "type": "malware",
                "id": "malware--31b940d4-6f7f-459a-80ea-9c1f17b58abc",
                "created": "2017-01-01T00:00:00.000Z",
                "modified": "2017-01-01T00:00:00.000Z",
                "name": "x",
                "labels": ["trojan"],
            },
            {
                "type": "identity",
                "id": "identity--31b940d4-6f7f-459a-80ea-9c1f17b58abd",
                "created": "2017-01-01T00:00:00.000Z",
                "modified": "2017-01-01T00:00:00.000Z",
                "name": "Unit",
                "identity_class": ["organization"],
            },
        ],
    }
    more: list[dict[str, Any]] = [
        {
            "type": "observed-data",
            "spec_version": "2.1",
            "id": "observed-data--b67d30ff-02ac-498a-92f9-32f845f448cf",
            "created": _T,
            "modified": _T,
            "first_observed": _T,
            "last_observed": _T,
            "number_observed": 1,
            "objects": {"0": {"type": "ipv4-addr", "value": "198.51.100.3"}},
        },
        {
            "type": "file",
            "spec_version": "2.1",
            "id": "file--5a27d487-c542-5f97-a131-a8866b477b46",
            "hashes": {
                "SHA-256": "ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb"
            },
            "name": "a.exe",
            "size": 12,
        },
        {
            "type": "network-traffic",
            "spec_version": "2.1",
            "id": "network-traffic--630d7bb1-0bbc-53a6-a6d4-f3c2d35c2734",
            "src_ref": "ipv4-addr--4d22aae0-2bf9-5427-8819-e4f6abf20a53",
            "protocols": ["tcp"],
            "dst_port": 443,
        },
        {
            "type": "artifact",
            "spec_version": "2.1",
            "id": "artifact--6f437177-6e48-5cf8-9d9e-872a2bddd641",
            "mime_type": "text/plain",
            "payload_bin": "aGVsbG8=",
        },
        {
            "type": "relationship",
            "spec_version": "2.1",
            "id": "relationship--57b56a43-b8b0-4cba-9deb-34e3e1faed9e",
            "created": _T,
            "modified": _T,
            "relationship_type": "indicates",
            "source_ref": f"indicator--{_ID}",
            "target_ref": "malware--31b940d4-6f7f-459a-80ea-9c1f17b58abc",
        },
        {
            "type": "x-acme-widget",
            "spec_version": "2.1",
            "id": "x-acme-widget--1d6a8b7c-2e4f-4a3b-9c8d-7e6f5a4b3c2d",
            "created": _T,
            "modified": _T,
            "x_acme_size": 3,
        },
        {
            "type": "location",
            "spec_version": "2.1",
            "id": "location--a6e9345f-5a15-4c29-8bb3-7dcc5d168d64",
            "created": _T,
            "modified": _T,
            "latitude": 48.8566,
            "longitude": 2.3522,
        },
    ]
    return [
        _j(lifted),
        *(_j(obj) for obj in OBJECTS),
        _j(more),
        b'{"type":"bundle","id":"bundle--' + _ID.encode() + b'","objects":[]}',
    ]


_PATTERNS = [
    *INDICATORS,
    "[file:name = 'x' OR file:size > 10 AND file:size <= 20]",
    "[email-message:from_ref.value NOT LIKE '%@example.com'] AND [x-foo:bar IN (1, 2, 3)]",
    "([ipv4-addr:value = '1.2.3.4'] OR [ipv6-addr:value = '::1']) REPEATS 3 TIMES",
    "[network-traffic:extensions.'http-request-ext'.request_header.'User-Agent' = 'x']",
    "[process:child_refs[*].name = 'cmd.exe'] START t'2020-01-01T00:00:00Z' "
    "STOP t'2021-01-01T00:00:00.5Z'",
    "[EXISTS windows-registry-key:values[0].data]",
    "[artifact:payload_bin = b'aGVsbG8=' AND artifact:x = h'0a0b']",
    "[x509-certificate:issuer ISSUPERSET 'a' AND (file:x = true OR file:y = -1.5)]",
    "[a:b MATCHES '(a+)+$']",
]


def _matches() -> list[bytes]:
    bundle = {
        "type": "bundle",
        "id": f"bundle--{_ID}",
        "objects": [
            {
                "type": "observed-data",
                "spec_version": "2.1",
                "id": "observed-data--b67d30ff-02ac-498a-92f9-32f845f448cf",
                "created": _T,
                "modified": _T,
                "first_observed": _T,
                "last_observed": "2026-11-01T10:00:05.000Z",
                "number_observed": 2,
                "object_refs": [
                    "ipv4-addr--4d22aae0-2bf9-5427-8819-e4f6abf20a53",
                    "network-traffic--630d7bb1-0bbc-53a6-a6d4-f3c2d35c2734",
                ],
            },
            {
                "type": "ipv4-addr",
                "id": "ipv4-addr--4d22aae0-2bf9-5427-8819-e4f6abf20a53",
                "value": "198.51.100.7",
            },
            {
                "type": "network-traffic",
                "id": "network-traffic--630d7bb1-0bbc-53a6-a6d4-f3c2d35c2734",
                "dst_ref": "ipv4-addr--4d22aae0-2bf9-5427-8819-e4f6abf20a53",
                "dst_port": 4444,
                "protocols": ["tcp"],
            },
        ],
    }
    embedded = {
        "type": "observed-data",
        "id": "observed-data--c67d30ff-02ac-498a-92f9-32f845f448cf",
        "created": _T,
        "modified": _T,
        "first_observed": _T,
        "last_observed": _T,
        "number_observed": 1,
        "objects": {
            "0": {"type": "domain-name", "value": "a.example"},
            "1": {"type": "url", "value": "https://a.example/abab"},
            "2": {"type": "file", "hashes": {"SHA-256": "ca97"}, "name": "a.exe"},
        },
    }
    out = []
    for n, pattern in enumerate(_PATTERNS):
        doc = bundle if n % 2 == 0 else [embedded, embedded]
        out.append(pattern.encode() + b"\n" + _j(doc))
    return out


_AGREEMENTS = [
    """# what this node shares with cert-b and cert-c
members = ["cert-b", "cert-c"]
collections = ["shared"]
tlp_ceiling = "amber"
unmarked_tlp = "green"
min_confidence = 50
embargo_hours = 24
attribution = "anonymous"
share_sightings = false
min_standing = -0.5

[types]
allow = []
exclude = ["identity", "note"]

[labels]
require = []
exclude = ["internal-only"]

[jurisdiction]
EU = ["EU", "DE", "FR"]

[redact]
personal = ["email", "phone", "internal-address", "profile-path", "user-account", "x509-name"]
fields = ["x_analyst_notes"]
""",
    'name = "everyone"\nmembers = ["*"]\ntlp_ceiling = "clear"\n[redact]\npersonal = ["all"]\n',
    'members = ["partner"]\ntlp_ceiling = "red"\nembargo_hours = 0.5\n'
    '[types]\nallow = ["indicator", "sighting", "note"]\n',
    'peer = "node-a"\nreshare = false\nred_recipients = ["cert-b"]\n',
    'members = ["partner"]\ntlp_ceiling = "amber+strict"\n[jurisdiction]\nEU = []\n',
]

_QUERIES = [
    b"application/taxii+json;version=2.1\nlimit=10&added_after=2026-01-01T00:00:00.000Z",
    b"*/*;q=0.5, application/json\nmatch[type]=indicator,sighting&match[version]=all",
    b"application/taxii+json\nmatch[id]=indicator--" + _ID.encode() + b"&match[version]=first",
    b"120\nnext=1764547200000000&match[spec_version]=2.1&limit=1",
    b"Wed, 21 Oct 2026 07:28:00 GMT\nmatch[version]=2026-11-02T10:00:00.000Z,last",
    b"text/html\nmatch[foo]=1&limit=0",
]


def _envelopes() -> list[bytes]:
    page = {"more": True, "next": "1764547200000000", "objects": OBJECTS[:3]}
    return [
        _j({"objects": OBJECTS}),
        _j(page),
        _j({"more": False, "objects": []}),
        _j({"title": "Not Found", "http_status": "404", "description": "no such collection"}),
        b'{"objects": {"type": "indicator"}}',
    ]


_ZEEK = [
    b"#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n#path\tconn\n"
    b"#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\tservice\n"
    b"#types\ttime\tstring\taddr\tport\taddr\tport\tenum\tstring\n"
    b"1764547200.123456\tCx1\t10.0.0.5\t51234\t198.51.100.7\t4444\ttcp\t-\n"
    b"1764547201.0\tCx2\t10.0.0.5\t51235\t203.0.113.9\t53\tudp\tdns\n#close\t2026-12-01-00-00-00\n",
    b"#separator \\x09\n#path\tdns\n"
    b"#fields\tts\tuid\tid.orig_h\tid.resp_h\tquery\tanswers\n"
    b"1764547200.5\tCd1\t10.0.0.5\t10.0.0.1\tlogin.bad.example\t198.51.100.7,192.0.2.1\n",
    b"#separator \\x09\n#path\thttp\n"
    b"#fields\tts\tid.orig_h\tid.resp_h\thost\turi\tuser_agent\tmethod\n"
    b"1764547200.5\t10.0.0.5\t198.51.100.7\ta.example\t/abab\tcurl/8\\x20x\tGET\n",
    b"#separator \\x09\n#path\tssl\n#fields\tts\tid.orig_h\tid.resp_h\tserver_name\tja3\n"
    b"1764547200.5\t10.0.0.5\t198.51.100.7\ta.example\t0123456789abcdef0123456789abcdef\n",
    b"#separator \\x09\n#path\tfiles\n#fields\tts\tfuid\ttx_hosts\tsha256\tmd5\tfilename\n"
    b"1764547200.5\tF1\t198.51.100.7\t"
    b"ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb\t-\ta.exe\n",
    b"#separator \\x09\n#path\tx509\n"
    b"#fields\tts\tid\tcertificate.serial\tcertificate.subject\tcertificate.issuer\t"
    b"certificate.not_valid_before\tcertificate.not_valid_after\tsan.dns\n"
    b"1764547200.5\tF2\t0A1B\tCN=a.example\tCN=CA\t1700000000.0\t1800000000.0\ta.example,b.example\n",
    b'{"ts":1764547200.1,"uid":"C1","id.orig_h":"10.0.0.5","id.orig_p":5,'
    b'"id.resp_h":"198.51.100.7","id.resp_p":4444,"proto":"tcp","_path":"conn"}\n'
    b'{"ts":"2026-12-01T00:00:00.000000Z","_path":"dns","query":"a.example",'
    b'"answers":["192.0.2.1"],"id.orig_h":"10.0.0.5","id.resp_h":"10.0.0.1"}\n',
]

_EVE = [
    b'{"timestamp":"2026-12-01T00:00:00.123456+0000","event_type":"flow","src_ip":"10.0.0.5",'
    b'"src_port":51234,"dest_ip":"198.51.100.7","dest_port":4444,"proto":"TCP"}\n'
    b'{"timestamp":"2026-12-01T00:00:01.000000+0000","event_type":"dns","src_ip":"10.0.0.5",'
    b'"dest_ip":"10.0.0.1","dns":{"type":"answer","rrname":"a.example","rrtype":"A",'
    b'"rdata":"192.0.2.1","answers":[{"rrname":"a.example","rrtype":"A","rdata":"192.0.2.1"}]}}\n',
    b'{"timestamp":"2026-12-01T00:00:02.000000+0000","event_type":"http","src_ip":"10.0.0.5",'
    b'"dest_ip":"198.51.100.7","http":{"hostname":"a.example","url":"/abab",'
    b'"http_user_agent":"curl/8","http_method":"GET","status":200}}\n'
    b'{"timestamp":"2026-12-01T00:00:03.000000+0000","event_type":"tls","src_ip":"10.0.0.5",'
    b'"dest_ip":"198.51.100.7","tls":{"sni":"a.example","subject":"CN=a.example",'
    b'"issuerdn":"CN=CA","serial":"0A:1B","ja3":{"hash":"0123456789abcdef0123456789abcdef"}}}\n',
    b'{"timestamp":"2026-12-01T00:00:04.000000+0000","event_type":"fileinfo",'
    b'"src_ip":"198.51.100.7","dest_ip":"10.0.0.5","fileinfo":{"filename":"a.exe",'
    b'"sha256":"ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb","size":12}}\n'
    b'{"timestamp":"2026-12-01T00:00:05.000000+0000","event_type":"alert","src_ip":"10.0.0.5",'
    b'"dest_ip":"198.51.100.7","alert":{"signature":"ET x","signature_id":1}}\n',
]

_CSV = [
    b"2026-12-01T00:00:00Z,198.51.100.7,4444,login.bad.example,https://a.example/abab\n"
    b'1764547200,203.0.113.9,53,"a.example","https://a.example/x,y"\n'
    b"# a comment\n,,,,\n",
    b"time,ip,port\n2026-12-01T00:00:00Z,198.51.100.7\n",
]

_LISTS = [
    b"# Reference: https://lists.example/feed\n198.51.100.7 # c2\n203.0.113.0/24\n"
    b"login.bad.example\nhttps://a.example/abab\nbob@bad.example\n"
    b"ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb\n2001:db8::1\nnot a value\n",
    b"value,type,comment\n198.51.100.7,ipv4,c2\na.example,domain,\n"
    b"d41d8cd98f00b204e9800998ecf8427e,md5,empty file\n",
    b"\xff\xfe1\x009\x008\x00.\x005\x001\x00.\x001\x000\x000\x00.\x007\x00\n\x00",
    b"caf\xe9.example\n",
]


def seeds() -> dict[str, list[bytes]]:
    """Each target's seeds."""
    return {
        "stix": _stix(),
        "pattern_parse": [p.encode() for p in _PATTERNS],
        "pattern_match": _matches(),
        "agreement": [a.encode() for a in _AGREEMENTS],
        "taxii_query": _QUERIES,
        "taxii_envelope": _envelopes(),
        "zeek": _ZEEK,
        "eve": _EVE,
        "csv": _CSV,
        "lists": _LISTS,
    }


def write(corpus: Path = CORPUS) -> int:
    """Write the seeds (``seed-NN``) into each target's corpus folder; how many."""
    count = 0
    for target, items in seeds().items():
        folder = corpus / target
        folder.mkdir(parents=True, exist_ok=True)
        for n, data in enumerate(items):
            (folder / f"seed-{n:02d}").write_bytes(data)
            count += 1
    return count


if __name__ == "__main__":
    print(f"{write()} seeds written under {CORPUS}", file=sys.stderr)
