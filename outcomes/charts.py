"""The outcome charts as server-rendered SVG, in the house style of assessments/score_chart.py: pure drawing from
the figures, presentation attributes only (the CSP forbids inline styles), every value repeated in the table the
template puts beside the chart."""

from html import escape

from django.utils.safestring import mark_safe

WIDTH = 640
LINE_COLOURS = ("#1f4e79", "#6a1b9a", "#8d6e63")
BAR, WHISKER, GRID, TEXT = "#1f4e79", "#333333", "#dddddd", "#333333"


def _svg(height, label, body):
    return mark_safe(  # noqa: S308 (every text is escaped in _text; numbers are formatted)
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" width="100%" role="img" '
        f'aria-label="{escape(label)}">{"".join(body)}</svg>'
    )


def _text(x, y, text, anchor="start", size=12):
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" fill="{TEXT}" text-anchor="{anchor}">{escape(text)}</text>'
    )


def bar_chart(bars, *, label, maximum=None, unit=""):
    """Horizontal bars, one per (label, value, interval or None); an interval is drawn as a whisker."""
    left, right, row = 200, 60, 28
    height = 24 + row * max(len(bars), 1)
    values = [value or 0 for _label, value, _interval in bars]
    highs = [interval[1] for _label, _value, interval in bars if interval]
    top = maximum or max([*values, *highs, 1])
    scale = (WIDTH - left - right) / top
    body = [f'<line x1="{left}" y1="4" x2="{left}" y2="{height - 16}" stroke="{GRID}"/>']
    body.append(_text(left, height - 2, "0", "middle", 10))
    body.append(_text(WIDTH - right, height - 2, f"{top:g}{unit}", "middle", 10))
    for n, (name, value, interval) in enumerate(bars):
        y = 8 + n * row
        body.append(_text(left - 8, y + 14, name, "end"))
        if value is None:
            body.append(_text(left + 4, y + 14, "not defined"))
            continue
        body.append(
            f'<rect x="{left}" y="{y + 3}" width="{value * scale:.1f}" height="16" fill="{BAR}" opacity="0.8"/>'
        )
        if interval:
            low, high = (left + bound * scale for bound in interval)
            body.append(f'<line x1="{low:.1f}" y1="{y + 11}" x2="{high:.1f}" y2="{y + 11}" stroke="{WHISKER}"/>')
            body += [
                f'<line x1="{x:.1f}" y1="{y + 5}" x2="{x:.1f}" y2="{y + 17}" stroke="{WHISKER}"/>' for x in (low, high)
            ]
        body.append(_text(left + value * scale + 6, y + 14, f"{value:g}{unit}"))
    return _svg(height, label, body)


def line_chart(series, *, label, x_label, y_label):
    """Lines over whole-number x: `series` maps a name to [(x, y)], drawn with a legend."""
    left, right, top, bottom, height = 48, 120, 14, 40, 260
    points = [point for line in series.values() for point in line]
    if not points:
        return _svg(60, label, [_text(WIDTH / 2, 30, "No scores yet for these filters.", "middle")])
    x_max = max(max(x for x, _y in points), 1)
    y_low, y_high = min(0, *(y for _x, y in points)), max(0, *(y for _x, y in points))
    y_span = (y_high - y_low) or 1

    def at(x, y):
        return left + x * (WIDTH - left - right) / x_max, top + (y_high - y) * (height - top - bottom) / y_span

    zero = at(0, 0)[1]
    body = [f'<line x1="{left}" y1="{zero:.1f}" x2="{WIDTH - right}" y2="{zero:.1f}" stroke="{GRID}"/>']
    body += [_text(at(x, 0)[0], height - bottom + 16, str(x), "middle", 10) for x in range(x_max + 1)]
    body += [_text(left - 6, at(0, y)[1] + 4, f"{y:g}", "end", 10) for y in (y_low, y_high)]
    body.append(_text((left + WIDTH - right) / 2, height - 4, x_label, "middle"))
    body.append(_text(4, top - 2, y_label, "start", 10))
    for n, (name, line) in enumerate(series.items()):
        colour = LINE_COLOURS[n % len(LINE_COLOURS)]
        coordinates = [at(x, y) for x, y in line]
        path = " ".join(f"{x:.1f},{y:.1f}" for x, y in coordinates)
        body.append(f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2"/>')
        body += [f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{colour}"/>' for x, y in coordinates]
        legend_y = top + 16 * n + 6
        body.append(f'<rect x="{WIDTH - right + 12}" y="{legend_y - 8}" width="10" height="10" fill="{colour}"/>')
        body.append(_text(WIDTH - right + 26, legend_y + 1, name))
    return _svg(height, label, body)
