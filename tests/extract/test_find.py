from __future__ import annotations

from accord.extract import Finding, find_iocs


def _kept(text: str) -> dict[tuple[str, str], Finding]:
    return {(f.type, f.value): f for f in find_iocs(text)[0] if f.dropped is None}


def _all(text: str) -> dict[tuple[str, str], Finding]:
    return {(f.type, f.value): f for f in find_iocs(text)[0]}


def test_each_ioc_type_is_found_with_its_sentence() -> None:
    text = (
        "The dropper contacts hxxps://update-srv[.]com/gate.php and 185.25.51[.]200.\n"
        "It writes %APPDATA%\\Microsoft\\svc.exe and sets "
        "HKCU\\Software\\Microsoft\\Windows\\CurrentVersion\\Run\\svc.\n"
        "SHA-256 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08 "
        "exploits CVE-2023-23397 (T1059.001). Mail: ops[at]evil-mail[.]net.\n"
        "Ransom to 1BoatSLRHtKNngkdXEeobR76b53LETtpyT or 2001:db8::1 or fe80::1.\n"
    )
    kept = _kept(text)
    url = kept[("url", "https://update-srv.com/gate.php")]
    assert url.defanged
    assert url.mentions[0].written == "hxxps://update-srv[.]com/gate.php"
    assert url.evidence.startswith("The dropper contacts hxxps://update-srv[.]com")
    assert ("ipv4", "185.25.51.200") in kept
    assert ("file", "%APPDATA%\\Microsoft\\svc.exe") in kept
    assert ("registry-key", "HKCU\\Software\\Microsoft\\Windows\\CurrentVersion\\Run\\svc") in kept
    assert ("sha256", "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08") in kept
    assert ("cve", "CVE-2023-23397") in kept
    assert ("attack-id", "T1059.001") in kept
    assert ("email", "ops@evil-mail.net") in kept
    assert ("btc", "1BoatSLRHtKNngkdXEeobR76b53LETtpyT") in kept
    everything = _all(text)
    assert (
        everything[("ipv6", "2001:db8::1")].dropped == "documentation range (RFC 5737 / RFC 3849)"
    )
    assert everything[("ipv6", "fe80::1")].dropped is not None


def test_false_positives_are_dropped_with_a_reason() -> None:
    text = (
        "Read more at https://www.welivesecurity.com/2020/10/02/post and "
        "https://vendor-blog.example/x. We saw version 10.0.19041.1 and v2.3.1.4.\n"
        "Empty file: d41d8cd98f00b204e9800998ecf8427e. Config in config.json and Temp.NET.\n"
        "Detected as Win64/Spy.Agent.CC. C&C: bad-host[.]com, example.com, 192.0.2.7.\n"
    )
    everything = _all(text)
    kept = _kept(text)
    assert ("domain", "bad-host.com") in kept
    assert everything[("md5", "d41d8cd98f00b204e9800998ecf8427e")].dropped == "hash of empty input"
    assert everything[("ipv4", "192.0.2.7")].dropped is not None
    assert ("ipv4", "2.3.1.4") not in kept
    assert ("domain", "temp.net") not in kept
    assert ("domain", "spy.agent.cc") not in kept
    assert ("domain", "example.com") not in kept
    assert not any(t == "url" for t, _ in kept)  # references, in a report that defangs
    assert ("file", "config.json") in kept  # a file, not a domain
    assert ("domain", "config.json") not in everything


def test_sections_and_code_spans_type_their_values() -> None:
    text = (
        "== Mutexes\n* `wkssvmtx`\n* `Global\\BitStreamSvc`\n\n"
        "== Registry keys\n* `[HKLM\\SOFTWARE\\Classes\\Thing]`\n\n"
        "== Files\n* `++%TEMP%\\Usermode COM Manager.exe++`\n"
        "* link:misp-event.json[`misp-event.json`]\n"
    )
    everything = _all(text)
    assert everything[("mutex", "wkssvmtx")].kept
    assert everything[("mutex", "Global\\BitStreamSvc")].kept
    assert everything[("registry-key", "HKLM\\SOFTWARE\\Classes\\Thing")].kept
    assert everything[("file", "%TEMP%\\Usermode COM Manager.exe")].kept
    assert everything[("file", "misp-event.json")].dropped == "reference link target"


def test_mentions_are_bounded_and_counted() -> None:
    text = "evil[.]com " * 1000
    [finding] = find_iocs(text)[0]
    assert finding.count == 1000
    assert len(finding.mentions) == 5


def test_other_scripts_keep_their_iocs() -> None:
    text = "Сервер управления: evil[.]ru (185.1.2[.]3). 命令服务器是 bad[.]cn 。"
    kept = _kept(text)
    assert {("domain", "evil.ru"), ("ipv4", "185.1.2.3"), ("domain", "bad.cn")} <= set(kept)


def test_ten_megabytes_of_noise_end_with_bounded_findings() -> None:
    chunk = "1.2.3[.]4 a1b2c3d4e5f60718293a4b5c6d7e8f90 x[.]com%d.org "
    text = "".join(chunk.replace("%d", str(i)) for i in range(190_000))
    assert len(text) > 10_000_000
    findings, warnings = find_iocs(text)
    assert len(findings) <= 20_000
    assert warnings and "distinct values" in warnings[0]


def test_labelled_fuzzy_hashes_wallets_and_user_agents() -> None:
    imphash = "f34d5f2d4577ed6d9ceec516c1f5a744"
    tlsh = "T1" + "A" * 70
    text = (
        f"Imphash: {imphash}\n"
        "ssdeep: 3072:Z3z1hf1Qe9JyW7G0h3t7s:Z3hV1QwWyl\n"
        f"TLSH {tlsh}\n"
        "Payout to 0x52908400098527886E0F7030069857D2E4169EE7 and "
        "44AFFq5kSiGBoZ4NMDwYtN18obc8AemS33DBLWs3H7otXft3XjrpDtQGv7SqSsaBYBb98uNbr2VBBEt7f2wfn3RVGQBEP3A.\n"
        'User-Agent: "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Gecko/20100101 Firefox/115.0"\n'
    )
    kept = _kept(text)
    assert ("imphash", imphash) in kept
    assert ("ssdeep", "3072:Z3z1hf1Qe9JyW7G0h3t7s:Z3hV1QwWyl") in kept
    assert ("tlsh", tlsh) in kept
    assert ("eth", "0x52908400098527886E0F7030069857D2E4169EE7") in kept
    assert any(t == "xmr" for t, _ in kept)
    assert any(t == "user-agent" and v.startswith("Mozilla/5.0 (Windows NT") for t, v in kept)
    # An unlabelled ssdeep-looking string is not read as a hash.
    assert not any(t == "ssdeep" for t, _ in _kept("at 3072:Z3z1hf1Qe9JyW7G0h3t7s:Z3hV1QwWyl"))


def test_windows_paths_and_keys_are_one_finding_whatever_their_case() -> None:
    text = (
        "It drops C:\\Users\\Public\\a.html, later c:\\users\\public\\A.html; "
        "HKCU\\Run\\x, hkcu\\run\\x."
    )
    findings = find_iocs(text)[0]
    files = [f for f in findings if f.type == "file"]
    keys = [f for f in findings if f.type == "registry-key"]
    assert [(f.value, f.count) for f in files] == [("C:\\Users\\Public\\a.html", 2)]
    assert [(f.value, f.count) for f in keys] == [("HKCU\\Run\\x", 2)]
