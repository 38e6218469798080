"""Charts for the report: matplotlib (Agg backend, no display), Okabe-Ito colours, PNG files."""
from __future__ import annotations

import math
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only: no display, no GUI toolkit
import matplotlib.pyplot as plt  # noqa: E402

# Okabe & Ito (2008), "Color Universal Design": distinguishable with the common colour-vision deficiencies.
OKABE_ITO = ["#E69F00", "#56B4E9", "#009E73", "#F0E442", "#0072B2", "#D55E00", "#CC79A7", "#000000"]
OIC_COLOUR, OTHER_COLOUR, BAR_COLOUR = "#D55E00", "#0072B2", "#0072B2"
DPI = 100

plt.rcParams.update({"font.size": 9, "axes.titlesize": 11, "axes.spines.top": False, "axes.spines.right": False})


def _save(fig, path: Path) -> Path:
    fig.tight_layout()
    fig.savefig(path, dpi=DPI)
    plt.close(fig)
    return path


def bars(path: Path, labels: list[str], values: list[float], *, title: str, xlabel: str, ylabel: str,
         colours: list[str] | None = None, horizontal: bool = False) -> Path:
    """A simple bar chart (horizontal: the first label on top)."""
    fig, ax = plt.subplots(figsize=(6.4, 3.4))
    colours = colours or [BAR_COLOUR] * len(values)
    if horizontal:
        ax.barh(labels[::-1], values[::-1], color=colours[::-1])
    else:
        ax.bar(labels, values, color=colours)
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if not values:
        ax.text(0.5, 0.5, "no data", ha="center", va="center", transform=ax.transAxes)
    return _save(fig, path)


def grouped_bars(path: Path, labels: list[str], series: dict[str, list[float]], *, title: str, xlabel: str,
                 ylabel: str) -> Path:
    """Bars of several series side by side per label, one Okabe-Ito colour per series."""
    fig, ax = plt.subplots(figsize=(6.4, 3.4))
    n = max(len(series), 1)
    width = 0.8 / n
    for i, (name, values) in enumerate(series.items()):
        xs = [x + (i - (n - 1) / 2) * width for x in range(len(labels))]
        ax.bar(xs, values, width, label=name, color=OKABE_ITO[(i + 4) % len(OKABE_ITO)])
    ax.set_xticks(range(len(labels)), labels, rotation=20, ha="right")
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.legend(frameon=False)
    return _save(fig, path)


def network(path: Path, edges: list[tuple[str, str, float]], oic: set[str], *, title: str) -> Path:
    """Countries on a circle (OIC members on the left half, others on the right), edge width
    proportional to the weight; OIC members in vermillion, the others in blue."""
    nodes = sorted({a for a, _, _ in edges} | {b for _, b, _ in edges})
    left = [n for n in nodes if n in oic]
    right = [n for n in nodes if n not in oic]
    pos = {}
    for group, start in ((left, math.pi / 2), (right, -math.pi / 2)):
        for i, n in enumerate(group):
            angle = start + math.pi * (i + 0.5) / max(len(group), 1)
            pos[n] = (math.cos(angle), math.sin(angle))
    fig, ax = plt.subplots(figsize=(7.5, 7.5))
    top = max((w for _, _, w in edges), default=1)
    for a, b, w in sorted(edges, key=lambda e: e[2]):
        both = a in oic and b in oic
        ax.plot([pos[a][0], pos[b][0]], [pos[a][1], pos[b][1]], color=OIC_COLOUR if both else "#999999",
                linewidth=0.3 + 6 * w / top, alpha=0.55, zorder=1)
    for n, (x, y) in pos.items():
        ax.scatter([x], [y], s=120, color=OIC_COLOUR if n in oic else OTHER_COLOUR, zorder=2, edgecolors="white")
        ax.annotate(n, (x, y), xytext=(x * 1.09, y * 1.09), ha="center", va="center", fontsize=8)
    ax.scatter([], [], color=OIC_COLOUR, label="OIC member state")
    ax.scatter([], [], color=OTHER_COLOUR, label="other country")
    ax.plot([], [], color="#999999", linewidth=3, label="edge width: joint projects + works")
    ax.legend(loc="lower center", bbox_to_anchor=(0.5, -0.08), ncol=3, frameon=False)
    ax.set_title(title)
    ax.set_aspect("equal")
    ax.axis("off")
    return _save(fig, path)
