"""A grouped horizontal bar chart as plain SVG (no plotting library): one group per dataset
plus the overall mean, one bar per system, normalised score on a shared axis."""
import math
from xml.sax.saxutils import escape

COLOURS = ["#1f77b4", "#aec7e8", "#ff7f0e", "#2ca02c", "#98df8a", "#d62728", "#9467bd", "#8c564b"]


def grouped_bars(groups, systems, values, title, lo=None, hi=1.0, notes=None, palette=None):
    """groups: row labels; values[(system, group)] -> float or None (missing); notes[(system,
    group)] -> a word drawn beside that bar (e.g. "killed"); palette: every system name that
    may appear, in order, so that a system keeps its colour when others are absent."""
    notes = notes or {}
    palette = palette or systems
    colour = {s: COLOURS[i % len(COLOURS)] for i, s in enumerate(palette)}
    colour.update({s: COLOURS[(len(palette) + i) % len(COLOURS)]
                   for i, s in enumerate(x for x in systems if x not in colour)})
    present = [v for v in values.values() if v is not None]
    lo = min([0.0] + present) if lo is None else lo
    lo = max(math.floor(lo * 4) / 4, -1.0)  # worse than -1: drawn clipped, labelled with its value
    bar, gap, left, right, top = 9, 10, 190, 60, 50
    plot_w = 520
    group_h = bar * len(systems) + gap
    legend_h = 18 * ((len(systems) + 3) // 4)
    height = top + group_h * len(groups) + 30 + legend_h
    width = left + plot_w + right

    def x(v):
        v = min(max(v, lo), hi)
        return left + (v - lo) / (hi - lo) * plot_w

    out = ['<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" '
           'font-family="sans-serif" font-size="11">' % (width, height),
           '<rect width="100%" height="100%" fill="white"/>',
           '<text x="%d" y="20" font-size="14" font-weight="bold">%s</text>' % (left, escape(title))]
    step = 0.25 if hi - lo <= 1.25 else 0.5
    ticks = [hi - step * i for i in range(int(round((hi - lo) / step)) + 1)]
    axis_bottom = top + group_h * len(groups)
    for t in ticks:
        out.append('<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="%s"/>' % (
            x(t), top - 5, x(t), axis_bottom, "#444" if abs(t) < 1e-9 else "#ddd"))
        out.append('<text x="%.1f" y="%d" text-anchor="middle">%g</text>' % (x(t), axis_bottom + 14, round(t, 2) + 0.0))
    out.append('<text x="%d" y="%d" text-anchor="middle">normalised score (0 = constant predictor, '
               '1 = best system on the dataset)</text>' % (left + plot_w // 2, axis_bottom + 28))
    for gi, group in enumerate(groups):
        y0 = top + gi * group_h
        weight = ' font-weight="bold"' if gi == len(groups) - 1 and group.startswith("mean") else ""
        out.append('<text x="%d" y="%.1f" text-anchor="end"%s>%s</text>' % (
            left - 8, y0 + bar * len(systems) / 2 + 4, weight, escape(group)))
        for si, system in enumerate(systems):
            v = values.get((system, group))
            y = y0 + si * bar
            if v is None:
                out.append('<text x="%.1f" y="%d" fill="#999" font-size="8">n/a</text>' % (x(0) + 2, y + 8))
                continue
            x0, x1 = sorted((x(0), x(v)))
            out.append('<rect x="%.1f" y="%d" width="%.1f" height="%d" fill="%s">'
                       '<title>%s %s: %.3f</title></rect>' % (
                           x0, y, max(x1 - x0, 0.5), bar - 1, colour[system],
                           escape(system), escape(group), v))
            if (system, group) in notes:
                out.append('<text x="%.1f" y="%d" font-size="8">%s</text>' % (
                    max(x0, x1) + 3, y + 8, escape(notes[(system, group)])))
            if v < lo:
                out.append('<text x="%.1f" y="%d" font-size="8">%.2f</text>' % (x(lo) + 2, y + 8, v))
    for si, system in enumerate(systems):
        lx = left + (si % 4) * 130
        ly = axis_bottom + 42 + 18 * (si // 4)
        out.append('<rect x="%d" y="%d" width="12" height="10" fill="%s"/>' % (
            lx, ly - 9, colour[system]))
        out.append('<text x="%d" y="%d">%s</text>' % (lx + 16, ly, escape(system)))
    out.append("</svg>")
    return "\n".join(out) + "\n"
