"""The report's charts as inline SVG, drawn with matplotlib (imported here only: it is heavy)."""

from __future__ import annotations

import io
import re
from collections.abc import Sequence

from coach.log.summary import PainPoint, WeekRow
from coach.i18n import _, format_date

COUNTED, NOT_COUNTED, TARGET, PAIN, CHANGE = "#2e7d32", "#b0bec5", "#37474f", "#1565c0", "#c62828"
WIDTH_IN, HEIGHT_IN = 7.0, 2.4


def _figure():
    import matplotlib

    matplotlib.rcParams.update({
        "svg.fonttype": "path",  # letters as shapes: the file needs no font
        "svg.hashsalt": "coach",  # the same ids on every run
        "font.size": 9,
        "axes.spines.top": False,
        "axes.spines.right": False,
    })
    from matplotlib.figure import Figure

    return Figure(figsize=(WIDTH_IN, HEIGHT_IN), layout="constrained")


def _svg(fig, label: str) -> str:
    buffer = io.StringIO()
    fig.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None})
    text = buffer.getvalue()
    text = text[text.index("<svg"):]  # the XML declaration and doctype do not belong inside HTML
    text = re.sub(r"<metadata>.*?</metadata>", "", text, count=1, flags=re.S)
    # The size goes to the stylesheet: the chart scales to its column and never runs off a page.
    text = re.sub(r'<svg([^>]*?) width="[^"]*" height="[^"]*"', r'<svg\1', text, count=1)
    return text.replace("<svg", f'<svg role="img" aria-label="{label}"', 1)


def weeks_chart(rows: Sequence[WeekRow], target: tuple[int, int] | None, label: str) -> str:
    """Sessions a week, those that count and those that don't, against the weekly target."""
    fig = _figure()
    ax = fig.add_subplot()
    xs = list(range(len(rows)))
    counted = [r.counted for r in rows]
    ax.bar(xs, counted, color=COUNTED, label=_("counts"))
    ax.bar(xs, [r.started - r.counted for r in rows], bottom=counted, color=NOT_COUNTED, label=_("did not count"))
    if target is not None:
        low, high = target
        ax.axhline(low, color=TARGET, linestyle="--", linewidth=1,
                   label=_("target {range}").format(range=low if low == high else f"{low}–{high}"))
        if high != low:
            ax.axhspan(low, high, color=TARGET, alpha=0.08, linewidth=0)
    step = max(1, len(rows) // 12)
    ax.set_xticks(xs[::step], [format_date(r.monday, "MMMdd", "%d %b") for r in rows][::step])
    ax.set_ylabel(_("sessions a week"))
    top = max([r.started for r in rows] + [target[1] if target else 0, 1])
    ax.set_ylim(0, top * 1.15 + 0.5)
    ax.yaxis.get_major_locator().set_params(integer=True)
    ax.legend(loc="upper left", fontsize=8, frameon=False, ncols=3)
    return _svg(fig, label)


def pain_chart(points: Sequence[PainPoint], label: str) -> str:
    """Pain scores over time; each change of 2 points or more from the score before is marked and labelled."""
    fig = _figure()
    ax = fig.add_subplot()
    times = [p.at.replace(tzinfo=None) for p in points]  # local wall-clock time, as it was logged
    ax.plot(times, [p.pain for p in points], color=PAIN, marker="o", markersize=3, linewidth=1.2, label=_("pain"))
    changed = [p for p in points if p.change is not None]
    if changed:
        ax.scatter([p.at.replace(tzinfo=None) for p in changed], [p.pain for p in changed], s=70, facecolors="none",
                   edgecolors=CHANGE, linewidths=1.5, zorder=3, label=_("changed by 2 or more"))
        for p in changed:
            ax.annotate(f"{p.change:+d}", (p.at.replace(tzinfo=None), p.pain), textcoords="offset points", xytext=(0, 7),
                        ha="center", fontsize=8, color=CHANGE)
    if min(times) == max(times):  # one moment: give the date axis a span to put its ticks on
        from datetime import timedelta

        ax.set_xlim(times[0] - timedelta(days=1), times[0] + timedelta(days=1))
    ax.set_ylim(-0.5, 11)
    ax.set_yticks(range(0, 11, 2))
    ax.set_ylabel(_("pain (0–10)"))
    fig.autofmt_xdate(rotation=0, ha="center")
    from matplotlib.dates import AutoDateLocator, ConciseDateFormatter

    locator = AutoDateLocator(maxticks=8)
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(ConciseDateFormatter(locator))
    ax.legend(loc="upper left", fontsize=8, frameon=False, ncols=2)
    return _svg(fig, label)
