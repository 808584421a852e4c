"""The loss chart of a run's metrics, shared by the Train and Checkpoints pages.

Built as a plain Plotly figure dict (no ``plotly.graph_objects``): building graph objects and
subplots costs tens of milliseconds of Python a redraw, and the Train page redraws every second in
the same process that trains. The dict goes to ``st.plotly_chart`` (Checkpoints) or to the live
live panel that hands it to ``Plotly.react`` in the browser (Train, see ui/web/livepanel.js).
"""

from __future__ import annotations

import math

import numpy as np

MAX_POINTS = 600  # drawn per trace; longer histories are downsampled (kept light for live redraws)

TRACES = (
    ("d_loss", "D loss", "#ff6f61", 1),
    ("g_loss", "G loss", "#4fc3f7", 1),
    ("d_real", "D(x)", "#ffd54f", 2),
    ("d_fake", "D(G(z))", "#81c784", 2),
)
# Two rows sharing the step axis: losses on top (60%), what D says below (40%), 8% apart.
_DOMAINS = ([0.448, 1.0], [0.0, 0.368])


def _downsample(rows: list[dict]) -> list[dict]:
    if len(rows) <= MAX_POINTS:
        return rows
    idx = np.linspace(0, len(rows) - 1, MAX_POINTS).round().astype(int)
    return [rows[i] for i in idx]


def _smooth(values: np.ndarray, weight: float) -> np.ndarray:
    """TensorBoard-style exponential moving average, debiased at the start."""
    if weight <= 0 or len(values) == 0:
        return values
    out = np.empty_like(values)
    last, n = 0.0, 0
    for i, v in enumerate(values):
        n += 1
        last = last * weight + (1 - weight) * v
        out[i] = last / (1 - weight**n)
    return out


def _json_floats(values: np.ndarray) -> list[float | None]:
    """Floats for JSON: 6 significant digits (a chart needs no more), NaN and inf as gaps."""
    return [float(f"{v:.6g}") if math.isfinite(v) else None for v in values.tolist()]


def loss_spec(
    rows: list[dict],
    smoothing: float = 0.0,
    marker_step: int | None = None,
    height: int = 420,
    probabilistic: bool = True,
) -> dict:
    """Two panels: D loss and G loss on top; mean D(x) and D(G(z)) below. A Plotly figure dict."""
    rows = _downsample([r for r in rows if "d_loss" in r])
    steps = [int(r["step"]) for r in rows]
    data = []
    for key, name, color, row in TRACES:
        vals = np.array([r.get(key, np.nan) for r in rows], dtype=float)
        axes = {"xaxis": "x", "yaxis": "y"} if row == 1 else {"xaxis": "x2", "yaxis": "y2"}
        data.append(
            {
                "type": "scatter",
                "mode": "lines",
                "name": name,
                "x": steps,
                "y": _json_floats(_smooth(vals, smoothing)),
                "line": {"color": color, "width": 2},
                **axes,
            }
        )
    titles = ("Losses", "What D says: real vs generated" if probabilistic else "Critic scores: real vs generated")
    layout = _two_panels(titles, height)
    if marker_step is not None:
        layout["shapes"] = _step_lines(marker_step)
    return {"data": data, "layout": layout}


# ---- quality per snapshot (studio/quality, quality.jsonl) ------------------------------------------------
QUALITY_TRACES = (
    ("precision", "precision", "#ffd54f"),
    ("recall", "recall", "#4fc3f7"),
    ("coverage", "coverage", "#81c784"),
)
BEST_COLOR = "#ff6f61"


def quality_spec(rows: list, best_step: int | None = None, marker_step: int | None = None, height: int = 360) -> dict:
    """Quality per scored snapshot (QualityRow list): KID with its standard error on top (lower is
    better), precision / recall / coverage below (0-1, higher is better); the best snapshot is a
    star on the KID curve with its step written beside it, ``marker_step`` a dashed line."""
    rows = [r for r in rows if r.kid is not None]
    steps = [int(r.step) for r in rows]
    kid = np.array([r.kid for r in rows], float)
    se = np.array([r.kid_se if r.kid_se is not None else np.nan for r in rows], float)
    data = [
        {
            "type": "scatter",
            "mode": "lines+markers",
            "name": "KID (lower is better)",
            "x": steps,
            "y": _json_floats(kid),
            "error_y": {"type": "data", "array": _json_floats(se), "visible": True, "thickness": 1, "width": 0},
            "line": {"color": "#ce93d8", "width": 2},
            "marker": {"size": 5},
            "xaxis": "x",
            "yaxis": "y",
        }
    ]
    for key, name, color in QUALITY_TRACES:
        vals = np.array([getattr(r, key) if getattr(r, key) is not None else np.nan for r in rows], float)
        data.append(
            {
                "type": "scatter",
                "mode": "lines+markers",
                "name": name,
                "x": steps,
                "y": _json_floats(vals),
                "line": {"color": color, "width": 2},
                "marker": {"size": 4},
                "xaxis": "x2",
                "yaxis": "y2",
            }
        )
    best = next((r for r in rows if r.step == best_step), None)
    if best is not None:
        data.append(
            {
                "type": "scatter",
                "mode": "markers+text",
                "name": "best snapshot",
                "x": [int(best.step)],
                "y": [float(f"{best.kid:.6g}")],
                "text": [f"best: step {best.step:,}"],
                "textposition": "top center",
                "cliponaxis": False,  # the best is often the highest point drawn: keep its words
                "marker": {"symbol": "star", "size": 16, "color": BEST_COLOR},
                "textfont": {"color": BEST_COLOR},
                "xaxis": "x",
                "yaxis": "y",
            }
        )
    layout = _two_panels(("Quality: KID against your pictures", "Diversity and fidelity"), height)
    # KID falls by orders of magnitude over a run (≈150 at step 0, ≈0.05 for good digits): a log axis
    # keeps the late improvements visible. The unbiased estimate can dip below 0 near the end; then linear.
    if len(kid) and np.all(kid > 0):
        layout["yaxis"]["type"] = "log"
    else:
        layout["yaxis"]["rangemode"] = "tozero"
    layout["yaxis2"]["range"] = [0, 1.05]
    if marker_step is not None:
        layout["shapes"] = _step_lines(marker_step)
    return {"data": data, "layout": layout}


def _two_panels(titles: tuple[str, str], height: int) -> dict:
    """The layout both charts share: two rows on one step axis, each with its title."""
    return {
        "height": height,
        "margin": {"l": 48, "r": 10, "t": 60, "b": 40},
        "uirevision": "keep",
        "hovermode": "x unified",
        "legend": {"orientation": "h", "yanchor": "bottom", "y": 1.08, "x": 0},
        "xaxis": {"anchor": "y", "domain": [0.0, 1.0], "matches": "x2", "showticklabels": False},
        "yaxis": {"anchor": "x", "domain": _DOMAINS[0]},
        "xaxis2": {"anchor": "y2", "domain": [0.0, 1.0], "title": {"text": "step"}},
        "yaxis2": {"anchor": "x2", "domain": _DOMAINS[1]},
        "annotations": [
            {
                "text": t,
                "x": 0.5,
                "y": d[1],
                "xref": "paper",
                "yref": "paper",
                "xanchor": "center",
                "yanchor": "bottom",
                "showarrow": False,
                "font": {"size": 16},
            }
            for t, d in zip(titles, _DOMAINS)
        ],
    }


def _step_lines(step: int) -> list[dict]:
    return [
        {
            "type": "line",
            "x0": step,
            "x1": step,
            "y0": 0,
            "y1": 1,
            "xref": x,
            "yref": f"{y} domain",
            "line": {"color": "#e0e0e0", "dash": "dash", "width": 1},
        }
        for x, y in (("x", "y"), ("x2", "y2"))
    ]
