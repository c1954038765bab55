"""accord agreement / policy / export --for, through Typer's CliRunner."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from accord.cli import app
from accord.policy import Tlp
from tests.cli_run import run, runner
from tests.policy.objects import indicator


@pytest.fixture
def home(tmp_path: Path) -> Path:
    h = tmp_path / "node"
    assert runner.invoke(app, ["init", str(h)]).exit_code == 0
    bundle = tmp_path / "b.json"
    objs = [
        indicator(1, Tlp.GREEN, description="phone +49 30 1234567"),
        indicator(2, Tlp.RED),
    ]
    bundle.write_bytes(
        orjson.dumps({"type": "bundle", "id": f"bundle--{objs[0]['id'][11:]}", "objects": objs})
    )
    assert run(h, "import", str(bundle), "--collection", "shared")[0] == 0
    code, _, err = run(h, "member", "add", "cert-b", "--jurisdiction", "de")
    assert code == 0, err
    (h / "agreements").mkdir()
    (h / "agreements" / "b.toml").write_text(
        'members = ["cert-b"]\ntlp_ceiling = "amber"\n[redact]\npersonal = ["phone"]\n'
    )
    return h


def test_agreement_list_show_check(home: Path) -> None:
    code, out, _ = run(home, "agreement", "list")
    assert code == 0 and "cert-b on *" in out and "ceiling TLP:AMBER" in out
    code, out, _ = run(home, "agreement", "show", "b")
    assert code == 0 and 'tlp_ceiling = "amber"' in out and " added sha256:" in out
    code, out, _ = run(home, "agreement", "check")
    assert code == 0 and "1 agreement(s) valid" in out
    (home / "agreements" / "x.toml").write_text('members = ["x"]\ntlp_ceiling = "blue"\n')
    code, _, err = run(home, "agreement", "check")
    assert code == 1 and "agreements/x.toml: tlp_ceiling" in err
    code, _, err = run(home, "agreement", "show", "nope")
    assert code == 1 and err.startswith("error: nope: no agreement")


def test_policy_explain_preview_and_export_for(home: Path, tmp_path: Path) -> None:
    code, out, _ = run(home, "policy", "explain", str(indicator(2)["id"]), "--to", "cert-b")
    assert code == 0 and out.startswith("withhold to cert-b")
    assert "TLP:RED is above the ceiling TLP:AMBER" in out
    code, out, _ = run(
        home, "policy", "explain", str(indicator(1)["id"]), "--to", "cert-b", "--json"
    )
    doc = orjson.loads(out)
    assert doc["verdict"] == "share-redacted" and doc["removed"][0]["value"] == "+49 30 1234567"
    code, out, _ = run(home, "policy", "preview", "--to", "cert-b", "--collection", "shared")
    assert code == 0
    row = next(line.split() for line in out.splitlines() if line.startswith("shared"))
    assert row[1:] == ["b", "0", "1", "1"]
    target = tmp_path / "for-b.json"
    code, _, err = run(
        home, "export", "--collection", "shared", "--for", "cert-b", "-o", str(target)
    )
    assert code == 0 and "exported 1 object(s)" in err
    data = target.read_bytes()
    assert b"+49 30 1234567" not in data and b"[redacted-phone]" in data
    assert str(indicator(2)["id"]).encode() not in data
    code, _, err = run(home, "export", "--for", "cert-b")
    assert code == 1 and "--for needs --collection" in err


def test_member_jurisdiction(home: Path) -> None:
    code, out, _ = run(home, "member", "jurisdiction", "cert-b", "eu")
    assert code == 0 and "jurisdiction EU" in out
    code, _, err = run(home, "member", "jurisdiction", "cert-b", "not a code")
    assert code == 1 and "not a jurisdiction code" in err
    code, _, err = run(home, "member", "jurisdiction", "nobody", "EU")
    assert code == 1 and "no member named 'nobody'" in err
