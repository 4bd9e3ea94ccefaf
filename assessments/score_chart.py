"""Scores over time as a server-rendered SVG: pure drawing, no database.

The caller (treatment.measurement.selectors) builds a `Series` per instrument: the scored points with their
course baseline, response and remission already judged, and the dosing sessions to mark on the time axis.
The drawing uses SVG presentation attributes only (the CSP forbids inline styles), and every mark is repeated
in the table the template puts beside it, for screen readers.
"""

from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from html import escape

from django.utils import timezone
from django.utils.safestring import mark_safe

from .instruments import Instrument

WIDTH, HEIGHT = 640, 300
LEFT, RIGHT, TOP, BOTTOM = 44, 120, 14, 64  # the bottom holds the time axis, the dose labels and the legend
LABEL_W, LABEL_H = 34, 11  # room a short label takes: closer labels are moved down a line so none overlap
# Severity bands, mildest first: light fills that keep the points readable.
BAND_FILLS = ("#e8f5e9", "#f1f8e9", "#fff8e1", "#fff3e0", "#ffebee", "#fce4ec")
LINE, POINT, BASELINE, DOSE, TEXT = "#1f4e79", "#1f4e79", "#6a1b9a", "#8d6e63", "#333333"


@dataclass(frozen=True)
class Point:
    at: datetime
    total: int
    severity: str
    course: int  # 1-based course number the response belongs to (0: no course)
    is_baseline: bool = False
    baseline_total: int | None = None
    change_percent: int | None = None  # fall from the course baseline, in percent (negative: a rise)
    response: bool | None = None
    remission: bool | None = None
    on_behalf: bool = False
    entered_by: str = ""


@dataclass(frozen=True)
class Marker:
    at: datetime
    label: str


@dataclass
class Series:
    instrument: Instrument
    points: list = field(default_factory=list)
    doses: list = field(default_factory=list)  # Marker per dosing session
    course_starts: list = field(default_factory=list)  # Marker per course start

    @property
    def latest(self):
        return self.points[-1] if self.points else None

    @property
    def baseline(self):
        """The current (latest) course's baseline point, or None."""
        latest = self.latest
        if latest is None:
            return None
        return next((p for p in self.points if p.is_baseline and p.course == latest.course), None)


def _span(series):
    moments = [p.at for p in series.points] + [m.at for m in series.doses] + [m.at for m in series.course_starts]
    if not moments:
        now = timezone.now()
        return now - timedelta(days=14), now
    start, end = min(moments), max(moments)
    if end - start < timedelta(days=2):
        start, end = start - timedelta(days=1), end + timedelta(days=1)
    pad = (end - start) * 0.03
    return start - pad, end + pad


def _scale(series):
    low, high = series.instrument.min_score, series.instrument.max_score
    if high <= low:
        high = max([low + 1, *(p.total for p in series.points)])
    start, end = _span(series)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def x(moment):
        return LEFT + plot_w * ((moment - start) / (end - start))

    def y(score):
        return TOP + plot_h * (1 - (min(max(score, low), high) - low) / (high - low))

    return x, y, low, high


def _text(x, y, content, *, size=11, anchor="start", fill=TEXT, weight="normal"):
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" text-anchor="{anchor}" fill="{fill}" '
        f'font-weight="{weight}" font-family="system-ui, sans-serif">{escape(content)}</text>'
    )


def _bands(series, x, y, low, high):
    parts = []
    instrument = series.instrument
    for index, band in enumerate(instrument.bands):
        top_score = min(band.high + 1, high) if band.high < high else high
        bottom_score = max(band.low, low)
        y_top, y_bottom = y(top_score), y(bottom_score)
        fill = BAND_FILLS[min(index, len(BAND_FILLS) - 1)] if len(instrument.bands) <= len(BAND_FILLS) else "#f5f5f5"
        parts.append(
            f'<rect x="{LEFT}" y="{y_top:.1f}" width="{WIDTH - LEFT - RIGHT}" height="{y_bottom - y_top:.1f}" '
            f'fill="{fill}"/>'
        )
        parts.append(_text(WIDTH - RIGHT + 4, (y_top + y_bottom) / 2 + 4, band.label, size=10))
    return parts


def _axes(series, x, y, low, high):
    parts = [
        f'<line x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{HEIGHT - BOTTOM}" stroke="{TEXT}" stroke-width="1"/>',
        f'<line x1="{LEFT}" y1="{HEIGHT - BOTTOM}" x2="{WIDTH - RIGHT}" y2="{HEIGHT - BOTTOM}" stroke="{TEXT}" '
        'stroke-width="1"/>',
    ]
    step = max(1, round((high - low) / 5))
    for score in range(low, high + 1, step):
        parts.append(_text(LEFT - 6, y(score) + 4, str(score), size=10, anchor="end"))
    for moment, label in time_ticks(*_span(series)):
        px = x(moment)
        parts.append(
            f'<line x1="{px:.1f}" y1="{HEIGHT - BOTTOM}" x2="{px:.1f}" y2="{HEIGHT - BOTTOM + 4}" stroke="{TEXT}"/>'
        )
        parts.append(_text(px, HEIGHT - BOTTOM + 30, label, size=10, anchor="middle"))
    return parts


def time_ticks(start, end):
    """[(moment, label)] at whole local days, Mondays or first days of the month, whichever gives 2 to 7
    ticks over the span: the marks a reader expects on a calendar, not arbitrary fractions of the span."""
    tz = timezone.get_current_timezone()
    first = datetime.combine(timezone.localtime(start, tz).date(), time(0), tzinfo=tz)
    days = max(1, (end - start).days)
    if days <= 14:
        step = 1 if days <= 7 else 2
        candidates = [first + timedelta(days=n) for n in range(0, days + 2, step)]
    elif days <= 7 * 10:
        monday = first + timedelta(days=(7 - first.weekday()) % 7)
        weeks = 1 if days <= 7 * 6 else 2
        candidates = [monday + timedelta(weeks=n) for n in range(0, days // 7 + 2, weeks)]
    else:
        candidates, month = [], first.replace(day=1)
        while month <= end:
            candidates.append(month)
            month = (month + timedelta(days=32)).replace(day=1)
        candidates = candidates[:: max(1, len(candidates) // 6)]
    monthly = days > 7 * 10
    return [(m, f"{m:%b}" if monthly else f"{m:%b} {m.day}") for m in candidates if start <= m <= end]


def _doses(series, x, y):
    parts = []
    for marker in series.course_starts:
        px = x(marker.at)
        parts.append(
            f'<line x1="{px:.1f}" y1="{TOP}" x2="{px:.1f}" y2="{HEIGHT - BOTTOM}" stroke="{BASELINE}" '
            'stroke-width="1" stroke-dasharray="2 3"/>'
        )
        parts.append(_text(px + 3, TOP + 10, marker.label, size=10, fill=BASELINE))
    labels = _Labels()
    for marker in series.doses:
        px = x(marker.at)
        base = HEIGHT - BOTTOM
        parts.append(
            f'<line x1="{px:.1f}" y1="{TOP}" x2="{px:.1f}" y2="{base}" stroke="{DOSE}" stroke-width="1" '
            'stroke-dasharray="4 3"/>'
        )
        parts.append(
            f'<path d="M{px - 5:.1f},{base + 12} L{px + 5:.1f},{base + 12} L{px:.1f},{base + 3} Z" fill="{DOSE}"/>'
        )
        parts.append(_text(px, labels.at(px, base + 22), marker.label, size=9, anchor="middle", fill=DOSE))
    return parts


def _thresholds(series, x, y):
    parts = []
    instrument = series.instrument
    baseline = series.baseline
    right = WIDTH - RIGHT
    if instrument.remission_below is not None:
        level = y(instrument.remission_below)
        parts.append(
            f'<line x1="{LEFT}" y1="{level:.1f}" x2="{right}" y2="{level:.1f}" stroke="#2e7d32" stroke-width="1" '
            'stroke-dasharray="6 3"/>'
        )
        parts.append(
            _text(LEFT + 4, level - 3, f"remission below {instrument.remission_below}", size=9, fill="#2e7d32")
        )
    if baseline is not None and instrument.response_fall_percent is not None:
        target = baseline.total * (100 - instrument.response_fall_percent) / 100
        level = y(target)
        parts.append(
            f'<line x1="{x(baseline.at):.1f}" y1="{level:.1f}" x2="{right}" y2="{level:.1f}" stroke="{BASELINE}" '
            'stroke-width="1" stroke-dasharray="2 2"/>'
        )
        parts.append(_text(right - 4, level - 3, f"response: {target:g} or less", size=9, anchor="end", fill=BASELINE))
    return parts


class _Labels:
    """Places short labels, moving one down a line while it would overlap one already placed (responses on the
    same day, or dosing sessions close together)."""

    def __init__(self):
        self.placed = []

    def at(self, px, py):
        while any(abs(px - qx) < LABEL_W and abs(py - qy) < LABEL_H for qx, qy in self.placed):
            py += LABEL_H
        self.placed.append((px, py))
        return py


def _points(series, x, y):
    parts, labels = [], _Labels()
    for course in sorted({p.course for p in series.points}):
        coords = " ".join(f"{x(p.at):.1f},{y(p.total):.1f}" for p in series.points if p.course == course)
        parts.append(f'<polyline points="{coords}" fill="none" stroke="{LINE}" stroke-width="2"/>')
    for point in series.points:
        px, py = x(point.at), y(point.total)
        if point.is_baseline:
            parts.append(
                f'<rect x="{px - 5:.1f}" y="{py - 5:.1f}" width="10" height="10" fill="{BASELINE}" stroke="#fff"/>'
            )
            parts.append(
                _text(px, labels.at(px, py - 9), "baseline", size=10, anchor="middle", fill=BASELINE, weight="bold")
            )
        else:
            parts.append(f'<circle cx="{px:.1f}" cy="{py:.1f}" r="4.5" fill="{POINT}" stroke="#fff"/>')
        marks = [m for m, on in (("response", point.response), ("remission", point.remission)) if on]
        if marks and not point.is_baseline:
            text = " + ".join(marks)
            parts.append(
                _text(px, labels.at(px, py + 16), text, size=9, anchor="middle", fill="#2e7d32", weight="bold")
            )
    return parts


def _legend(series, simple):
    """One line under the axis naming each kind of mark the chart draws."""
    y0, items = HEIGHT - 8, []
    if series.doses:
        items.append(("dose", "dosing session"))
    if series.baseline is not None:
        items.append(("baseline", "course baseline"))
    if not simple and series.instrument.response_fall_percent is not None and series.baseline is not None:
        items.append(("response", f"response ({series.instrument.response_fall_percent}% fall)"))
    if not simple and series.instrument.remission_below is not None:
        items.append(("remission", "remission"))
    parts, px = [], LEFT
    for kind, label in items:
        if kind == "dose":
            parts.append(f'<path d="M{px},{y0} L{px + 10},{y0} L{px + 5},{y0 - 9} Z" fill="{DOSE}"/>')
        elif kind == "baseline":
            parts.append(f'<path d="M{px},{y0} h9 v-9 h-9 Z" fill="{BASELINE}"/>')
        else:
            colour, dash = ("#2e7d32", "6 3") if kind == "remission" else (BASELINE, "2 2")
            parts.append(
                f'<line x1="{px}" y1="{y0 - 4}" x2="{px + 16}" y2="{y0 - 4}" stroke="{colour}" '
                f'stroke-dasharray="{dash}"/>'
            )
        parts.append(_text(px + 20, y0, label, size=10))
        px += 30 + 6 * len(label)
    return parts


def render_svg(series: Series, *, element_id: str, simple: bool = False):
    """The chart as safe SVG markup; `element_id` makes its title and description ids unique on the page.
    `simple` (the patient's own view) leaves out the response and remission threshold lines."""
    x, y, low, high = _scale(series)
    name = series.instrument.short_name
    summary = f"{name} totals over time: {len(series.points)} response{'s' if len(series.points) != 1 else ''}"
    if series.doses:
        summary += f", {len(series.doses)} dosing session{'s' if len(series.doses) != 1 else ''} marked"
    summary += ". The table beside the chart lists every value."
    body = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" class="score-chart" role="img" '
        f'aria-labelledby="{element_id}-title {element_id}-desc" preserveAspectRatio="xMinYMin meet">',
        f'<title id="{element_id}-title">{escape(name)} scores over time</title>',
        f'<desc id="{element_id}-desc">{escape(summary)}</desc>',
        *_bands(series, x, y, low, high),
        *_axes(series, x, y, low, high),
        *_doses(series, x, y),
        *([] if simple else _thresholds(series, x, y)),
        *_points(series, x, y),
        *_legend(series, simple),
    ]
    if not series.points:
        body.append(_text(LEFT + 12, TOP + 28, f"No {name} responses yet.", size=13))
    body.append("</svg>")
    return mark_safe("".join(body))  # noqa: S308 (every text is escaped above; numbers are formatted)
