"""Chart geometry for server-rendered inline SVG (templates/reports/_charts.html).

No chart library and no JavaScript: call centers run on closed networks, the pages must work
without a CDN or a build step, and a bar or line chart is a few rectangles and polylines
whose coordinates are computed here."""
from __future__ import annotations

PALETTE = ("#2b6cb0", "#c05621", "#2f855a", "#b83280", "#6b46c1", "#b7791f", "#2c7a7b",
           "#9b2c2c")


def bar_chart(items: list[tuple[str, float, str]], width: int = 640, bar: int = 18,
              gap: int = 6, label_width: int = 200) -> dict | None:
    """Horizontal bars: items are (label, value, value as shown)."""
    items = [item for item in items if item[1] is not None]
    if not items:
        return None
    top = max(value for _label, value, _shown in items) or 1
    room = width - label_width - 70
    bars = []
    for i, (label, value, shown) in enumerate(items):
        length = max(1.0, room * value / top) if value else 0.0
        bars.append({"y": i * (bar + gap), "width": round(length, 1), "label": label,
                     "shown": shown, "color": PALETTE[0]})
    return {"width": width, "height": len(items) * (bar + gap), "bar": bar,
            "label_width": label_width, "bars": bars}


def line_chart(periods: list[str], series: list[dict], width: int = 720, height: int = 220,
               percent: bool = False, top: float | None = None) -> dict | None:
    """One polyline per series over the periods; None values leave a gap. `top`: a fixed
    scale (a score out of 5) instead of the largest value."""
    if not periods or not series:
        return None
    left, bottom, top_pad, right = 48, 28, 10, 10
    plot_w, plot_h = width - left - right, height - bottom - top_pad
    values = [v for s in series for v in s["values"] if v is not None]
    fixed = top
    top = fixed or (1.0 if percent else max(values or [0]) or 1)
    step = plot_w / max(1, len(periods) - 1)

    def x(i):
        return round(left + i * step, 1)

    def y(v):
        return round(top_pad + plot_h - plot_h * v / top, 1)

    lines = []
    for n, s in enumerate(series):
        segments, current = [], []
        for i, v in enumerate(s["values"]):
            if v is None:
                if current:
                    segments.append(current)
                current = []
                continue
            current.append(f"{x(i)},{y(v)}")
        if current:
            segments.append(current)
        lines.append({"name": s["name"], "color": PALETTE[n % len(PALETTE)],
                      "segments": [" ".join(points) for points in segments],
                      "dots": [{"x": x(i), "y": y(v)} for i, v in enumerate(s["values"])
                               if v is not None] if len(periods) <= 60 else []})
    every = max(1, len(periods) // 8)
    ticks_x = [{"x": x(i), "label": p} for i, p in enumerate(periods) if i % every == 0]
    ticks_y = []
    for k in range(5):
        v = top * k / 4
        ticks_y.append({"y": y(v), "label": f"{v:.0%}" if percent else f"{v:g}" if fixed else
                        (f"{v:,.0f}" if top >= 4 else f"{v:.1f}")})
    return {"width": width, "height": height, "left": left, "right": width - right,
            "top": top_pad, "bottom": top_pad + plot_h, "lines": lines, "ticks_x": ticks_x,
            "ticks_y": ticks_y}
