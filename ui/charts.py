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
    layout = {
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
    if marker_step is not None:
        layout["shapes"] = [
            {
                "type": "line",
                "x0": marker_step,
                "x1": marker_step,
                "y0": 0,
                "y1": 1,
                "xref": x,
                "yref": f"{y} domain",
                "line": {"color": "#e0e0e0", "dash": "dash", "width": 1},
            }
            for x, y in (("x", "y"), ("x2", "y2"))
        ]
    return {"data": data, "layout": layout}
