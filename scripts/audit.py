"""Known-vulnerable dependencies: pip-audit over the environment this Python runs in.

`make audit` (a step of `make test`) runs this. pip-audit asks its vulnerability
service (PyPI's advisories by default) about every installed distribution but
the editable project itself; any known vulnerability that is not in IGNORED
fails the step, with the advisory, the installed version and the fixed ones.

A dependency the service cannot answer for is listed as not audited. Where the
service answers for none at all (a network that reaches only the package index,
not its per-version records), the step says so loudly and passes, unless
``--require-service`` is given: then it fails. SECURITY.md says which service
answers where.

Usage: python scripts/audit.py [--require-service] [pip-audit options ...]
"""

from __future__ import annotations

import json
import subprocess
import sys

# Advisories ignored on purpose: id -> why (each one is also listed in SECURITY.md).
IGNORED: dict[str, str] = {}


def main(argv: list[str]) -> int:
    require = "--require-service" in argv
    extra = [a for a in argv if a != "--require-service"]
    command = [sys.executable, "-m", "pip_audit", "--local", "--skip-editable"]
    command += ["--format", "json", "--progress-spinner", "off"]
    for advisory in IGNORED:
        command += ["--ignore-vuln", advisory]
    run = subprocess.run([*command, *extra], capture_output=True, text=True, check=False)
    try:
        report = json.loads(run.stdout)
    except json.JSONDecodeError:
        sys.stderr.write(run.stderr[-4000:])
        print(f"audit: pip-audit failed (exit {run.returncode}) before reporting", file=sys.stderr)
        return 2
    deps = [d for d in report.get("dependencies", []) if "editable" not in d.get("skip_reason", "")]
    skipped = [d for d in deps if "skip_reason" in d]
    audited = [d for d in deps if "skip_reason" not in d]
    vulnerable = [(d, v) for d in audited for v in d.get("vulns", [])]
    for dep, vuln in vulnerable:
        fixed = ", ".join(vuln.get("fix_versions", [])) or "no fixed release"
        aliases = ", ".join(vuln.get("aliases", []))
        print(
            f"VULNERABLE {dep['name']} {dep['version']}: {vuln['id']}"
            + (f" ({aliases})" if aliases else "")
            + f"; fixed in {fixed}"
        )
    print(
        f"audit: {len(audited)} dependencies audited, {len(vulnerable)} known vulnerabilities, "
        f"{len(skipped)} not audited, {len(IGNORED)} advisories ignored (SECURITY.md)"
    )
    if vulnerable:
        print(
            "audit: raise the dependency's floor in pyproject.toml, or ignore the advisory "
            "in scripts/audit.py with its reason in SECURITY.md",
            file=sys.stderr,
        )
        return 1
    if deps and not audited:
        reason = skipped[0]["skip_reason"]
        print(
            "audit: WARNING: the vulnerability service answered for no dependency, so "
            f"nothing was audited (first reason: {reason})",
            file=sys.stderr,
        )
        return 1 if require else 0
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
