"""Charts of the 統計 page, drawn on the server as SVG with matplotlib (object API only: no
pyplot state, safe in the server's threads) and Debian's IPA Gothic font, its glyphs written as
paths so that the SVG looks the same wherever it is opened. Deterministic output (fixed hash
salt, no date), so the same numbers give the same file."""

from __future__ import annotations

import io
import logging
import threading
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
from matplotlib import font_manager  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.ticker import PercentFormatter  # noqa: E402

from .definitions import BAND_NAMES, UNKNOWN  # noqa: E402
from .rates import Row  # noqa: E402

log = logging.getLogger("onshi.stats")
IPA_GOTHIC = Path("/usr/share/fonts/opentype/ipafont-gothic/ipag.ttf")  # Debian fonts-ipafont-gothic (./run installs it)
COLORS = {"visits": "#1f5fa8", "claims": "#c0392b", "claims_outpatient": "#7a4fb0", "registration": "#2e7d32", "published": "#222222"}
LABELS = {"visits": "件数ベース（R-S1）", "claims": "レセプト件数ベース（R-S2）", "claims_outpatient": "レセプト件数ベース・外来のみ（R-S2）",
          "registration": "利用登録率（R-S3）"}
_lock = threading.Lock()
_font: list[str] = []


def font_family() -> str:
    """The Japanese font, registered once; without it the charts fall back to DejaVu Sans (no kanji)."""
    with _lock:
        if not _font:
            if IPA_GOTHIC.exists():
                font_manager.fontManager.addfont(str(IPA_GOTHIC))
                _font.append(font_manager.FontProperties(fname=str(IPA_GOTHIC)).get_name())
            else:
                log.warning("%s is missing (apt-get install fonts-ipafont-gothic): chart text falls back to DejaVu Sans", IPA_GOTHIC)
                _font.append("DejaVu Sans")
        return _font[0]


def _figure(width: float, height: float) -> tuple[Figure, object]:
    fig = Figure(figsize=(width, height), dpi=100, layout="constrained")
    ax = fig.subplots()
    for spine in ("top", "right"):
        ax.spines[spine].set_visible(False)
    ax.grid(axis="y", color="#dddddd", linewidth=0.6)
    ax.set_axisbelow(True)
    return fig, ax


def _svg(fig: Figure) -> str:
    buf = io.StringIO()
    with matplotlib.rc_context({"svg.fonttype": "path", "svg.hashsalt": "onshi", "font.family": font_family(), "font.size": 11}):
        fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": "onshi (matplotlib)"})
    return buf.getvalue()


def _styled(fn):  # noqa: ANN001, ANN202
    """Draw inside the rc context too, so that text objects are made with the Japanese font."""

    def wrapper(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        with matplotlib.rc_context({"font.family": font_family(), "font.size": 11, "axes.unicode_minus": False}):
            return fn(*args, **kwargs)

    return wrapper


@_styled
def series(lines: dict[str, list[Row]], title: str) -> str:
    """The monthly national series of several formulas on one line chart (rates in %)."""
    fig, ax = _figure(9.6, 3.8)
    months = sorted({r.month for rows in lines.values() for r in rows})
    for key, rows in lines.items():
        by_month = {r.month: r.rate for r in rows if r.group == "all"}
        xs = [i for i, m in enumerate(months) if by_month.get(m) is not None]
        ys = [by_month[months[i]] * 100 for i in xs]
        ax.plot(xs, ys, marker="o", color=COLORS[key], label=LABELS[key], linewidth=2)
        for x, y in zip(xs, ys):
            ax.annotate(f"{y:.1f}", (x, y), textcoords="offset points", xytext=(0, 6), ha="center", fontsize=8, color=COLORS[key])
    ax.set_xticks(range(len(months)), months, rotation=45 if len(months) > 8 else 0, ha="right" if len(months) > 8 else "center")
    ax.set_ylim(0, 100)
    ax.yaxis.set_major_formatter(PercentFormatter(100, decimals=0))
    ax.set_title(title)
    ax.legend(loc="upper left", frameon=False)
    return _svg(fig)


@_styled
def by_age(bars: dict[str, list[Row]], title: str, published: dict[str, float] | None = None, published_label: str = "") -> str:
    """Rates by age band (grouped bars per formula), with published values marked."""
    fig, ax = _figure(9.6, 3.8)
    groups = [b for b in BAND_NAMES if any(r.group == b for rows in bars.values() for r in rows)]
    width = 0.8 / max(1, len(bars))
    for i, (key, rows) in enumerate(bars.items()):
        rate = {r.group: r.rate for r in rows}
        xs = [g + (i - (len(bars) - 1) / 2) * width for g in range(len(groups))]
        ys = [(rate.get(b) or 0) * 100 for b in groups]
        ax.bar(xs, ys, width=width, color=COLORS[key], label=LABELS[key])
    if published:
        pts = [(groups.index(b), v * 100) for b, v in published.items() if b in groups]
        if pts:
            ax.scatter([p[0] for p in pts], [p[1] for p in pts], marker="D", s=40, color=COLORS["published"], zorder=3, label=published_label)
    ax.set_xticks(range(len(groups)), groups)
    ax.set_ylim(0, 100)
    ax.yaxis.set_major_formatter(PercentFormatter(100, decimals=0))
    ax.set_xlabel("年齢階級（受診日の年齢）")
    ax.set_title(title)
    ax.legend(loc="upper right", frameon=False, fontsize=9)
    return _svg(fig)


@_styled
def by_branch(rows: list[Row], national: float | None, title: str, key: str = "registration") -> str:
    """The 47 協会けんぽ branches as bars, highest first, with the national figure marked."""
    shown = sorted((r for r in rows if r.rate is not None and r.group != UNKNOWN), key=lambda r: -r.rate)
    fig, ax = _figure(9.6, max(3.0, 0.22 * len(shown) + 1.2))
    ax.grid(axis="y", visible=False)
    ax.grid(axis="x", color="#dddddd", linewidth=0.6)
    names = [r.label.removesuffix("支部") for r in shown]
    ax.barh(range(len(shown)), [r.rate * 100 for r in shown], color=COLORS[key], height=0.7)
    ax.set_yticks(range(len(shown)), names, fontsize=8)
    ax.invert_yaxis()
    if national is not None:
        ax.axvline(national * 100, color=COLORS["published"], linestyle="--", linewidth=1.2, label=f"全国 {national * 100:.1f}%")
        ax.legend(loc="lower right", frameon=True, framealpha=0.9, fontsize=9)
    ax.set_xlim(0, 100)
    ax.xaxis.set_major_formatter(PercentFormatter(100, decimals=0))
    ax.set_title(title)
    return _svg(fig)


@_styled
def whatif_changes(rows: list[dict], title: str) -> str:
    """What a policy change would have done, by month: visits that become self-pay or stop being,
    and the change in returned and 不詳 claims."""
    fig, ax = _figure(9.6, 3.8)
    months = sorted({r["month"] for r in rows})
    series_ = {
        "10割になる受診": ("became_self_pay", "#c0392b"),
        "10割でなくなる受診": ("no_longer_self_pay", "#2e7d32"),
        "返戻の増減": ("returned_delta", "#7a4fb0"),
        "不詳レセプトの増減": ("unknown_delta", "#e67e22"),
    }
    width = min(0.8, 0.3 * max(1, len(months))) / len(series_)
    for i, (label, (key, color)) in enumerate(series_.items()):
        ys = []
        for m in months:
            mine = [r for r in rows if r["month"] == m]
            if key == "returned_delta":
                ys.append(sum(r["returned_claims_after"] - r["returned_claims_before"] for r in mine))
            elif key == "unknown_delta":
                ys.append(sum(r["unknown_claims_after"] - r["unknown_claims_before"] for r in mine))
            else:
                ys.append(sum(r[key] for r in mine))
        ax.bar([x + (i - 1.5) * width for x in range(len(months))], ys, width=width, color=color, label=label)
    ax.axhline(0, color="#555555", linewidth=0.8)
    ax.set_xticks(range(len(months)), months)
    ax.set_xlim(-0.5 - 0.5 / max(1, len(months)), len(months) - 0.5 + 0.5 / max(1, len(months)))
    ax.set_ylabel("件数")
    ax.set_title(title)
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.1), ncol=4, frameon=False, fontsize=9)
    return _svg(fig)


__all__ = ["by_age", "by_branch", "font_family", "series", "whatif_changes"]
