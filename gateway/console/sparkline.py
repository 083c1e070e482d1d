"""Small charts drawn on the server: a sparkline of the last hour as inline SVG, so that the
page needs no chart library and no script, and reads the same with the script off."""

from __future__ import annotations

from collections.abc import Sequence

from markupsafe import Markup

WIDTH = 120
HEIGHT = 28
PAD = 2


def _points(values: Sequence[int], top: int) -> str:
    step = (WIDTH - 2 * PAD) / max(1, len(values) - 1)
    usable = HEIGHT - 2 * PAD
    low = HEIGHT - PAD
    pairs = [(PAD + i * step, low - v / top * usable) for i, v in enumerate(values)]
    return " ".join(f"{x:.1f},{y:.1f}" for x, y in pairs)


def sparkline(delivered: Sequence[int], failed: Sequence[int], *, label: str) -> Markup:
    """Two lines over the same scale: attempts delivered (solid) and failed (dashed), oldest
    bucket on the left. ``label`` is what a screen reader says instead of the picture."""
    top = max([1, *delivered, *failed])
    return Markup(
        '<svg class="spark" role="img" width="{w}" height="{h}" viewBox="0 0 {w} {h}" '
        'aria-label="{label}"><title>{label}</title>'
        '<line x1="{p}" y1="{base}" x2="{end}" y2="{base}" stroke="#d6dae1" stroke-width="1"/>'
        '<polyline fill="none" stroke="#1e6b3a" stroke-width="1.6" points="{ok}"/>'
        '<polyline fill="none" stroke="#a3221b" stroke-width="1.6" stroke-dasharray="3 2" '
        'points="{bad}"/></svg>'
    ).format(
        w=WIDTH,
        h=HEIGHT,
        p=PAD,
        end=WIDTH - PAD,
        base=HEIGHT - PAD,
        label=label,
        ok=_points(delivered, top),
        bad=_points(failed, top),
    )
