"""The regular expressions that find candidate IOCs in refanged text, and their validators.

Every expression is linear (no nested quantifiers over the same characters)
and every repetition is bounded, so ten megabytes of IOC-looking noise costs
time proportional to its length and nothing more.
"""

from __future__ import annotations

import hashlib
import ipaddress
import re

from publicsuffixlist import PublicSuffixList

# The public-suffix list bundled inside the `publicsuffixlist` package (no fetch).
# accept_unknown=False: "config.bak" has no public suffix, so it is no domain.
_PSL = PublicSuffixList(accept_unknown=False)

HEX = re.compile(
    r"(?<![0-9A-Za-z])(?:[0-9a-fA-F]{128}|[0-9a-fA-F]{64}|[0-9a-fA-F]{40}|[0-9a-fA-F]{32})"
    r"(?![0-9A-Za-z])"
)
HASH_TYPE = {32: "md5", 40: "sha1", 64: "sha256", 128: "sha512"}
SSDEEP = re.compile(r"(?<![\w:])\d{1,10}:[A-Za-z0-9/+]{3,128}:[A-Za-z0-9/+]{3,128}(?![\w:])")
TLSH = re.compile(r"(?<![0-9A-Za-z])T1[0-9A-Fa-f]{70}(?![0-9A-Za-z])")
IPV4 = re.compile(
    r"(?<![\w.])(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)"
    r"(?:/(?:3[0-2]|[12]?\d)(?!\d))?(?![\w.]*\w)(?!\.\d)"
)
IPV6 = re.compile(
    r"(?<![\w:.])(?=[0-9A-Fa-f:]*:[0-9A-Fa-f]*:)[0-9A-Fa-f:]{2,39}(?:/\d{1,3})?(?![\w:])"
)
_LABEL = r"(?:[a-z0-9](?:[a-z0-9\-]{0,61}[a-z0-9])?)"
DOMAIN = re.compile(
    rf"(?<![\w\-.@])(?:{_LABEL}\.){{1,10}}(?:xn--[a-z0-9\-]{{1,59}}|[a-z]{{2,24}})\.?(?![\w\-]|\.\w)",
    re.IGNORECASE,
)
URL = re.compile(
    r"\b(?:https?|ftp|sftp|tcp|udp|wss?)://[^\s<>\"'`\\{}|^\[\]]{1,2000}", re.IGNORECASE
)
EMAIL = re.compile(
    rf"(?<![\w.+\-])[A-Za-z0-9._%+\-]{{1,64}}@(?:{_LABEL}\.){{1,10}}[a-z]{{2,24}}(?![\w\-])",
    re.IGNORECASE,
)
CVE = re.compile(r"\bCVE-(?:19|20)\d\d-\d{4,7}\b", re.IGNORECASE)
ATTACK_ID = re.compile(r"(?<![\w\-])(?:TA\d{4}|T\d{4}(?:\.\d{3})?)(?![\w\-]|\.\d)")
REGKEY = re.compile(
    r"(?<![\w\\])(?:HKEY_LOCAL_MACHINE|HKEY_CURRENT_USER|HKEY_CLASSES_ROOT|HKEY_USERS|"
    r"HKEY_CURRENT_CONFIG|HKLM|HKCU|HKCR|HKU|HKCC)(?:\\[^\\\s\"'`<>|]{1,255}){1,30}\\?",
    re.IGNORECASE,
)
MUTEX = re.compile(r"(?<![\w\\])(?:Global|Local|Session\\\d+)\\[\w.\-{}$#@]{2,128}")
_EXT = (
    "exe|dll|sys|scr|cpl|ocx|drv|bat|cmd|ps1|psm1|vbs|vbe|js|jse|wsf|hta|lnk|msi|msp|"
    "doc|docx|docm|dot|dotm|xls|xlsx|xlsm|xlam|ppt|pptx|pptm|rtf|pdf|one|chm|iso|img|vhd|vhdx|"
    "zip|rar|7z|cab|gz|tgz|tar|jar|apk|ipa|dmg|pkg|app|elf|so|dylib|py|pyc|sh|pl|php|asp|aspx|"
    "jsp|dat|bin|tmp|ini|cfg|conf|log|txt|db|nls|plist|html|htm|svg|lua|ko|bak|key|crt|pem|xml|json"
)
FILE_EXT = frozenset(_EXT.split("|"))
FILENAME = re.compile(
    rf"(?<![\w\-.$~%\\/])[\w\-$~]{{1,200}}(?:\.[\w\-$~]{{1,60}}){{0,5}}\.(?:{_EXT})(?![\w\-])",
    re.IGNORECASE,
)
WINPATH = re.compile(
    r"(?<![\w\\])(?:%\w{1,40}%|[A-Za-z]:|\\\\[\w.\-]{1,64})(?:\\[^\\\s\"'`<>|*?:;,()]{1,255}){1,30}\\?"
)
UNIXPATH = re.compile(
    r"(?<![\w/.~])(?:~|/(?:tmp|var|etc|usr|home|opt|dev/shm|Library|Users|bin|sbin|lib|root|"
    r"private|System|Applications|data|proc|run))(?:/[^/\s\"'`<>|;,()]{1,255}){1,30}"
)
BTC = re.compile(r"(?<![\w])(?:bc1[ac-hj-np-z02-9]{11,71}|[13][a-km-zA-HJ-NP-Z1-9]{25,34})(?!\w)")
XMR = re.compile(r"(?<![\w])4[0-9AB][1-9A-HJ-NP-Za-km-z]{93}(?!\w)")
ETH = re.compile(r"(?<![\w])0x[a-fA-F0-9]{40}(?!\w)")
USER_AGENT = re.compile(r"Mozilla/[45]\.0 \([^)\n]{3,300}\)[^\n\"'`]{0,300}")
# A code span of Markdown / AsciiDoc: ``++value++`` or ``value``.
CODE_SPAN = re.compile(r"`\+\+([^`\n]{1,1024}?)\+\+`|`([^`\n]{1,1024})`")

_B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"


def base58check(value: str) -> bool:
    """Whether a legacy bitcoin address carries a valid Base58Check checksum."""
    n = 0
    for ch in value:
        n = n * 58 + _B58.index(ch)
    raw = n.to_bytes(25, "big") if n.bit_length() <= 200 else b""
    if len(raw) != 25:
        return False
    return hashlib.sha256(hashlib.sha256(raw[:21]).digest()).digest()[:4] == raw[21:]


def public_suffix(domain: str) -> str | None:
    """The domain's public suffix from the bundled list, or None when it has none."""
    return _PSL.publicsuffix(domain.lower())


def registrable(domain: str) -> str:
    """The registrable domain (``a.b.example.co.uk`` → ``example.co.uk``), or the domain."""
    return _PSL.privatesuffix(domain.lower()) or domain.lower()


def valid_ipv6(value: str) -> bool:
    addr = value.split("/", 1)[0]
    if addr.count(":") < 2:
        return False
    try:
        ipaddress.IPv6Address(addr)
    except ValueError:
        return False
    # "12:30::" is a time more often than an address: ask for hex letters or many groups.
    return addr.count(":") >= 4 or any(c in addr.lower() for c in "abcdef")
