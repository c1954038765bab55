"""False-positive rules: values a report mentions that are not indicators.

Each rule returns the reason a value is dropped, shown to the analyst in the
draft (dropped values stay visible, they are only left out of the STIX).
"""

from __future__ import annotations

import ipaddress

from accord.extract._patterns import registrable

# Hashes of empty input: a tool that hashed nothing prints these.
EMPTY_HASHES = frozenset(
    {
        "d41d8cd98f00b204e9800998ecf8427e",
        "da39a3ee5e6b4b0d3255bfef95601890afd80709",
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        "cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce"
        "47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e",
    }
)

# RFC 2606 / RFC 6761 names, and the TLDs no indicator lives under.
EXAMPLE_DOMAINS = frozenset({"example.com", "example.net", "example.org", "example.edu"})
RESERVED_TLDS = frozenset({"example", "test", "invalid", "localhost", "local", "lan", "internal"})

# Benign infrastructure reports mention as context (vendors, clouds, search,
# social, code hosting, standards bodies, sandboxes). Registrable domains; a
# hand-kept list in the spirit of MISP's warning lists, short enough to read.
BENIGN_DOMAINS = frozenset(
    """
    microsoft.com windows.com windowsupdate.com live.com office.com office365.com outlook.com
    msn.com bing.com azure.com azureedge.net microsoftonline.com sharepoint.com onedrive.com
    skype.com xbox.com visualstudio.com msdn.com technet.com sysinternals.com
    google.com googleapis.com gstatic.com googleusercontent.com youtube.com gmail.com
    blogspot.com android.com chrome.com chromium.org withgoogle.com goo.gl
    apple.com icloud.com mozilla.org mozilla.net firefox.com amazon.com amazonaws.com
    cloudfront.net aws.amazon.com facebook.com fb.com instagram.com whatsapp.com twitter.com
    x.com t.co linkedin.com telegram.org t.me reddit.com wikipedia.org wikimedia.org
    github.com githubusercontent.com github.io gitlab.com bitbucket.org sourceforge.net
    python.org nuget.org docker.com docker.io
    cloudflare.com akamai.net akamaihd.net fastly.net digicert.com verisign.com letsencrypt.org
    sectigo.com globalsign.com symantec.com mcafee.com kaspersky.com trendmicro.com sophos.com
    eset.com welivesecurity.com virusbulletin.com virustotal.com malwarebytes.com
    mandiant.com fireeye.com crowdstrike.com paloaltonetworks.com unit42.paloaltonetworks.com
    talosintelligence.com cisco.com checkpoint.com fortinet.com proofpoint.com securelist.com
    bitdefender.com avast.com zscaler.com sentinelone.com recordedfuture.com
    mitre.org attack.mitre.org cve.mitre.org nist.gov nvd.nist.gov cisa.gov us-cert.gov
    misp-project.org circl.lu first.org oasis-open.org ietf.org w3.org iana.org icann.org
    adobe.com oracle.com java.com ibm.com intel.com nvidia.com dropbox.com zoom.us
    yahoo.com baidu.com yandex.ru yandex.com mail.ru vk.com qq.com weibo.com
    wordpress.com wordpress.org medium.com archive.org web.archive.org pastebin.com
    bit.ly tinyurl.com shodan.io censys.io urlscan.io any.run hybrid-analysis.com
    abuse.ch bleepingcomputer.com thehackernews.com zdnet.com wired.com nytimes.com
    reuters.com bbc.co.uk theguardian.com washingtonpost.com schema.org openssl.org
    apache.org nginx.org jquery.com bootstrapcdn.com jsdelivr.net unpkg.com
    """.split()  # noqa: SIM905 (a list one reads, not a literal of 150 strings)
)
BENIGN_IPS = frozenset({"8.8.8.8", "8.8.4.4", "1.1.1.1", "1.0.0.1", "9.9.9.9", "208.67.222.222"})
# RFC 5737 and RFC 3849: addresses reserved for documentation.
DOC_NETS = tuple(
    ipaddress.ip_network(n)
    for n in ("192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24", "2001:db8::/32")
)


def hash_reason(value: str) -> str | None:
    if value in EMPTY_HASHES:
        return "hash of empty input"
    if len(set(value)) <= 2:
        return "placeholder hash (one or two repeated digits)"
    return None


def domain_reason(domain: str) -> str | None:
    d = domain.lower().rstrip(".")
    tld = d.rsplit(".", 1)[-1]
    if tld in RESERVED_TLDS:
        return "reserved name (RFC 6761)"
    reg = registrable(d)
    if reg in EXAMPLE_DOMAINS:
        return "documentation example (RFC 2606)"
    if reg in BENIGN_DOMAINS or d in BENIGN_DOMAINS:
        return "benign infrastructure (warning list)"
    return None


def ip_reason(value: str) -> str | None:
    try:
        net = ipaddress.ip_network(value, strict=False)
    except ValueError:
        return "not an address"
    if any(net.version == d.version and net.subnet_of(d) for d in DOC_NETS):  # type: ignore[arg-type]
        return "documentation range (RFC 5737 / RFC 3849)"
    addr = net.network_address
    if addr.is_private or addr.is_loopback or addr.is_link_local:
        return "private, loopback or link-local address"
    if addr.is_multicast or addr.is_reserved or addr.is_unspecified:
        return "reserved address"
    if str(addr) in BENIGN_IPS and net.num_addresses == 1:
        return "benign infrastructure (public DNS resolver)"
    return None


def email_reason(value: str) -> str | None:
    # A mailbox at a big provider is still the attacker's: only reserved names are dropped.
    d = value.rsplit("@", 1)[-1].lower()
    if d.rsplit(".", 1)[-1] in RESERVED_TLDS:
        return "reserved name (RFC 6761)"
    if registrable(d) in EXAMPLE_DOMAINS:
        return "documentation example (RFC 2606)"
    return None
