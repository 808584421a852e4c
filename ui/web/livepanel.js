// Live panel: the part of the Train page that changes every second while a run trains — progress,
// hints, the loss chart and the fixed-noise grid — updated in place. Streamlit's own elements are
// re-rendered on every rerun (React + CSS-in-JS for each), and its chart element rebuilds and
// re-themes the whole Plotly figure; that work ran on the same two cores as the training. Here a
// rerun changes a few text nodes, swaps the grid picture when there is a new one, and hands new
// points to Plotly.react only when there are new points.
//
// plotly.js is the plotly Python package's own copy, served by Streamlit's static file serving
// (the browser caches it); one promise loads it for every chart on the page.
//
// data: {src: URL of plotly.min.js | null, progress: {fraction, text}, hints: [{kind, text}],
//        message, chart: {sig, figure} | null, chart_every_ms, chart_share, chart_empty, smoothing, smoothing_help,
//        grid: dataURI | null, grid_caption, grid_empty}
// Reports the smoothing weight as the state value "smoothing" (remembered for the session).
const loadPlotly = (src) => {
  if (window.Plotly) return Promise.resolve(window.Plotly);
  if (!window.__gsPlotly) {
    window.__gsPlotly = new Promise((resolve, reject) => {
      const s = document.createElement("script");
      s.src = src;
      s.async = true;
      s.onload = () => (window.Plotly ? resolve(window.Plotly) : reject(new Error("no Plotly")));
      s.onerror = () => { window.__gsPlotly = null; reject(new Error("could not load " + src)); };
      document.head.appendChild(s);
    });
  }
  return window.__gsPlotly;
};

// Streamlit's theme, from the CSS variables of the element the chart sits in.
const themed = (layout, el) => {
  const css = getComputedStyle(el);
  const v = (name, fallback) => css.getPropertyValue(name).trim() || fallback;
  const text = v("--st-text-color", "#fafafa");
  const grid = v("--st-border-color", "rgba(128,128,128,0.25)");
  const out = {
    ...layout,
    paper_bgcolor: "rgba(0,0,0,0)",
    plot_bgcolor: "rgba(0,0,0,0)",
    font: { color: text, family: v("--st-font", "sans-serif") },
    hoverlabel: { bgcolor: v("--st-secondary-background-color", "#262730"), font: { color: text } },
  };
  for (const k of Object.keys(layout)) {
    if (/^[xy]axis\d*$/.test(k)) out[k] = { gridcolor: grid, zerolinecolor: grid, linecolor: grid, ...layout[k] };
  }
  return out;
};

// TensorBoard-style exponential moving average, debiased at the start; gaps (null) stay gaps.
const smooth = (ys, w) => {
  if (!(w > 0)) return ys;
  let last = 0, n = 0;
  return ys.map((y) => {
    if (y === null || !Number.isFinite(y)) return null;
    n += 1;
    last = last * w + (1 - w) * y;
    return last / (1 - Math.pow(w, n));
  });
};

export default function (component) {
  const { data, parentElement, setStateValue } = component;
  let root = parentElement.querySelector(".gs-live");
  if (!root) {
    root = document.createElement("div");
    root.className = "gs-live";
    root.innerHTML = `
      <div class="gs-live-progress" role="progressbar" aria-valuemin="0" aria-valuemax="100">
        <div class="gs-live-progress-text"></div>
        <div class="gs-live-progress-track"><div class="gs-live-progress-fill"></div></div>
      </div>
      <div class="gs-live-hints"></div>
      <div class="gs-live-message"></div>
      <div class="gs-live-body">
        <div class="gs-live-left">
          <div class="gs-live-smoothing">
            <div class="gs-live-smoothing-head"><label>Smoothing</label><span class="gs-live-smoothing-value"></span></div>
            <input type="range" min="0" max="0.99" step="0.01" aria-label="Smoothing">
          </div>
          <div class="gs-live-chart"></div>
          <div class="gs-live-empty gs-live-chart-empty"></div>
        </div>
        <figure class="gs-live-grid">
          <img alt="Fixed-noise samples">
          <figcaption></figcaption>
          <div class="gs-live-empty gs-live-grid-empty"></div>
        </figure>
      </div>`;
    parentElement.appendChild(root);
    root.__state = { smoothing: Number(data.smoothing) || 0, drawn: null, figure: null, timer: null };
  }
  const st = root.__state;
  const $ = (sel) => root.querySelector(sel);
  const setText = (el, text) => { if (el.textContent !== text) el.textContent = text; };

  // Progress and words.
  const pct = Math.round(Math.min(Math.max(data.progress.fraction, 0), 1) * 1000) / 10;
  $(".gs-live-progress-fill").style.width = pct + "%";
  $(".gs-live-progress").setAttribute("aria-valuenow", String(pct));
  setText($(".gs-live-progress-text"), data.progress.text);
  const hintsKey = JSON.stringify(data.hints);
  if (st.hintsKey !== hintsKey) {
    st.hintsKey = hintsKey;
    const box = $(".gs-live-hints");
    box.innerHTML = "";
    for (const h of data.hints) {
      const div = document.createElement("div");
      div.className = "gs-live-hint gs-live-hint-" + h.kind;
      div.setAttribute("role", h.kind === "error" ? "alert" : "status");
      div.textContent = h.text;
      box.appendChild(div);
    }
  }
  setText($(".gs-live-message"), data.message || "");

  // Fixed-noise grid: a new picture only when there is one.
  const img = $(".gs-live-grid img");
  if (data.grid) {
    if (img.getAttribute("src") !== data.grid) img.setAttribute("src", data.grid);
    img.hidden = false;
    setText($(".gs-live-grid figcaption"), data.grid_caption);
    setText($(".gs-live-grid-empty"), "");
  } else {
    img.hidden = true;
    setText($(".gs-live-grid figcaption"), "");
    setText($(".gs-live-grid-empty"), data.grid_empty);
  }

  // Smoothing: applied here, so moving it redraws at once without a trip to the server.
  const range = $(".gs-live-smoothing input");
  const showSmoothing = () => {
    range.value = String(st.smoothing);
    setText($(".gs-live-smoothing-value"), st.smoothing.toFixed(2));
    range.setAttribute("aria-valuetext", st.smoothing.toFixed(2));
  };
  range.title = data.smoothing_help || "";
  showSmoothing();

  // The chart.
  const plot = $(".gs-live-chart");
  const draw = (now) => {
    if (!st.figure || !data.src) return;
    const key = st.figure.sig + "|" + st.smoothing;
    if (key === st.drawn) return;            // nothing new (paused, or between log lines)
    if (document.hidden) return;             // a background tab: drawn when it is shown again
    // A Plotly redraw costs this computer's CPU, which the training shares (50-100 ms on a small
    // laptop core): new points are drawn at most every chart_every_ms, and no more often than keeps
    // the redraws under chart_share of one core. Progress and grid still follow every update.
    const every = Math.max(data.chart_every_ms || 0, (st.drawCost || 0) / (data.chart_share || 1));
    const wait = (st.lastDraw || -1e9) + every - performance.now();
    if (!now && wait > 0) {
      if (!st.drawTimer) st.drawTimer = setTimeout(() => { st.drawTimer = null; st.draw(); }, wait);
      return;
    }
    st.lastDraw = performance.now();
    const fig = st.figure.figure;
    const traces = fig.data.map((t) => ({ ...t, y: smooth(t.y, st.smoothing) }));
    loadPlotly(data.src)
      .then((Plotly) => {
        st.drawn = key;
        const t0 = performance.now();
        return Plotly.react(plot, traces, themed(fig.layout, root), { responsive: true, displaylogo: false })
          .then(() => { st.drawCost = performance.now() - t0; });
      })
      .catch(() => setText($(".gs-live-chart-empty"),
                           "The loss chart could not be drawn: this browser could not load plotly.js from the studio."));
  };
  range.oninput = () => {
    st.smoothing = Number(range.value);
    showSmoothing();
    draw(true);
    clearTimeout(st.timer);
    st.timer = setTimeout(() => setStateValue("smoothing", st.smoothing), 400);
  };
  st.draw = draw;
  if (!st.onVisible) {
    st.onVisible = () => { if (!document.hidden && root.isConnected && st.draw) st.draw(); };
    document.addEventListener("visibilitychange", st.onVisible);
  }
  if (data.chart) {
    plot.hidden = false;
    plot.style.minHeight = (data.chart.figure.layout.height || 400) + "px";
    setText($(".gs-live-chart-empty"), "");
    st.figure = data.chart;
    draw();
  } else {
    plot.hidden = true;
    setText($(".gs-live-chart-empty"), data.chart_empty);
  }
  return () => { clearTimeout(st.timer); clearTimeout(st.drawTimer); st.drawTimer = null; };
}
