"""What the templates need beyond Jinja: inert text, times, patterns, links, SVG charts.

STIX text is attacker-controlled. Jinja's autoescape makes markup inert; on top
of it `inert` shows bidirectional control characters (U+202E and kin, which
would reorder what the reader sees) as visible codes, `shorten` bounds a 200 kB
field to what a page can show, and `safe_url` keeps only http(s) links: a
``javascript:`` or ``data:`` URL is shown as text, never as a link.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

from markupsafe import Markup, escape

# Unicode bidirectional formatting characters (UAX #9) and zero-width joiners/marks.
_CONTROLS = re.compile("[\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]")
SHOWN = 4_000  # characters of one field shown on a page


def _code(m: re.Match[str]) -> str:
    return f"\x00U+{ord(m.group(0)):04X}\x01"


def inert(value: object, limit: int = SHOWN) -> Markup:
    """Escaped text, bidi controls shown as codes, at most ``limit`` characters."""
    text = "" if value is None else str(value)
    cut = len(text) > limit
    text = _CONTROLS.sub(_code, text[:limit])
    html = str(escape(text))
    html = html.replace("\x00", '<span class="ctl">').replace("\x01", "</span>")
    if cut:
        html += (
            f'<span class="cut"> … ({len(str(value)):,} characters, first {limit:,} shown)</span>'
        )
    return Markup(html)


def safe_url(value: object) -> str | None:
    """The URL when it is http or https, else None (shown as text, not linked)."""
    if not isinstance(value, str) or len(value) > 2_000 or _CONTROLS.search(value):
        return None
    try:
        scheme = urlsplit(value.strip()).scheme.lower()
    except ValueError:
        return None
    return value.strip() if scheme in ("http", "https") else None


def utc(us: int | None) -> str:
    """Microseconds since the epoch as ISO 8601 UTC."""
    if us is None:
        return ""
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(us / 1e6)) + "Z"


def when(us: int | None) -> Markup:
    """A <time> element: UTC in the text and on hover; console.js shows the user's zone."""
    if us is None:
        return Markup("never")
    stamp = utc(us)
    return Markup(f'<time datetime="{stamp}" title="{stamp} UTC">{stamp}</time>')


def when_text(stamp: object) -> Markup:
    """A STIX timestamp string as a <time> element."""
    if not isinstance(stamp, str) or not re.fullmatch(r"[0-9T:.\-]+Z", stamp):
        return inert(stamp)
    return Markup(f'<time datetime="{stamp}" title="{stamp} UTC">{stamp}</time>')


_TOKENS = re.compile(
    r"(?P<str>'(?:[^'\\]|\\.)*'?)|(?P<op>\b(?:AND|OR|NOT|FOLLOWEDBY|LIKE|MATCHES|ISSUBSET|"
    r"ISSUPERSET|IN|WITHIN|SECONDS|START|STOP|REPEATS|TIMES)\b|[=!<>]=?)|"
    r"(?P<path>[a-z0-9\-]+:[A-Za-z0-9_.\[\]*'\-]+)|(?P<br>[\[\]()])"
)


def pattern(value: object, limit: int = SHOWN) -> Markup:
    """A STIX pattern with its strings, operators and object paths marked for colour."""
    text = "" if value is None else str(value)
    shown = text[:limit]
    out: list[str] = []
    pos = 0
    for m in _TOKENS.finditer(shown):
        out.append(str(inert(shown[pos : m.start()], limit)))
        kind = m.lastgroup or "op"
        out.append(f'<span class="p-{kind}">{inert(m.group(0), limit)}</span>')
        pos = m.end()
    out.append(str(inert(shown[pos:], limit)))
    html = "".join(out)
    if len(text) > limit:
        html += f'<span class="cut"> … ({len(text):,} characters, first {limit:,} shown)</span>'
    return Markup(html)


# -- charts ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Bar:
    """One bar of a chart, in SVG user units."""

    x: float
    y: float
    width: float
    height: float
    label: str
    value: int


@dataclass(frozen=True, slots=True)
class Chart:
    """A bar chart drawn by the template as SVG (no script, no inline style)."""

    title: str
    bars: list[Bar]
    width: int
    height: int
    peak: int
    first: str
    last: str


def bar_chart(
    title: str, points: list[tuple[str, int]], width: int = 600, height: int = 140
) -> Chart:
    """Vertical bars, one per point, scaled to the largest."""
    peak = max((v for _, v in points), default=0)
    n = max(len(points), 1)
    slot = width / n
    bars = []
    for i, (label, value) in enumerate(points):
        h = 0.0 if peak == 0 else (height - 4) * value / peak
        bars.append(Bar(i * slot + 1, height - h, max(slot - 2, 1), h, label, value))
    first = points[0][0] if points else ""
    last = points[-1][0] if points else ""
    return Chart(title, bars, width, height, peak, first, last)


def hbar_chart(title: str, points: list[tuple[str, int]], width: int = 600) -> Chart:
    """Horizontal bars (counts by type), labels left of them."""
    peak = max((v for _, v in points), default=0)
    row = 22
    bars = []
    for i, (label, value) in enumerate(points):
        w = 0.0 if peak == 0 else (width - 260) * value / peak
        bars.append(Bar(180, i * row + 3, max(w, 1), row - 6, label, value))
    return Chart(title, bars, width, max(row * len(points), row), peak, "", "")


def day_label(day: int) -> str:
    return time.strftime("%Y-%m-%d", time.gmtime(day * 86_400))
