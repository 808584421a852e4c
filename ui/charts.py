"""Plotly figures of a run's metrics: shared by the Train and Checkpoints pages."""

from __future__ import annotations

import numpy as np

MAX_POINTS = 600  # drawn per trace; longer histories are downsampled (kept light for live redraws)


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


def loss_figure(rows: list[dict], smoothing: float = 0.0, marker_step: int | None = None,
                height: int = 420, probabilistic: bool = True):
    """Two panels: D loss and G loss on top; mean D(x) and D(G(z)) below."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    rows = [r for r in rows if "d_loss" in r]
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, vertical_spacing=0.08, row_heights=[0.6, 0.4],
                        subplot_titles=("Losses", "What D says: real vs generated" if probabilistic
                                        else "Critic scores: real vs generated"))
    rows_d = _downsample(rows)
    steps = [r["step"] for r in rows_d]
    for key, name, color, row in (("d_loss", "D loss", "#ff6f61", 1), ("g_loss", "G loss", "#4fc3f7", 1),
                                  ("d_real", "D(x)", "#ffd54f", 2), ("d_fake", "D(G(z))", "#81c784", 2)):
        vals = np.array([r.get(key, np.nan) for r in rows_d], dtype=float)
        fig.add_trace(go.Scatter(x=steps, y=_smooth(vals, smoothing), name=name, mode="lines",
                                 line=dict(color=color, width=2)), row=row, col=1)
    if marker_step is not None:
        for row in (1, 2):
            fig.add_vline(x=marker_step, line=dict(color="#e0e0e0", dash="dash", width=1), row=row, col=1)
    fig.update_layout(height=height, margin=dict(l=10, r=10, t=60, b=10), uirevision="keep",
                      legend=dict(orientation="h", yanchor="bottom", y=1.08, x=0),
                      hovermode="x unified")  # no template: st.plotly_chart's Streamlit theme styles it (~7 KB less a redraw)
    fig.update_xaxes(title_text="step", row=2, col=1)
    return fig
