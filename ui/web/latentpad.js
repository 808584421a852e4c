// Latent pad: Explore's picture and the sliders that move its point, in one piece of the page.
//
// Every answer from the server carries the picture for the current slider values and, for each
// slider, the pictures one step to either side ("prefetch", keyed by the full slider state). A
// slider step therefore shows its picture at once from what is already here, and the exact answer
// follows from the server (which also keeps the session's values, recipes and downloads in step).
//
// data: {sig, version, values: {key: number}, groups: [{title, caption, sliders: [{key, label, help,
//        unit, min, max, step, strip}]}], picture, picture_key, px, prefetch: {state key: dataURI}}
export default function (component) {
  const { data, parentElement, setStateValue } = component;
  let root = parentElement.querySelector(".gs-lp");
  if (!root) {
    root = document.createElement("div");
    root.className = "gs-lp";
    root.innerHTML = `<figure class="gs-lp-figure"><img class="gs-lp-picture" alt="The generated picture"></figure>
                      <div class="gs-lp-groups"></div>`;
    parentElement.appendChild(root);
    root.__state = { sig: null, version: null, values: {}, inputs: {}, prefetch: {}, timer: null, sent: 0 };
  }
  const st = root.__state;
  const picture = root.querySelector(".gs-lp-picture");
  const fmt = (v, unit) => (v > 0 ? "+" : v < 0 ? "−" : "±") + Math.abs(v).toFixed(1) + (unit ? " " + unit : "");
  // The state key, as Python writes it (studio-side: ui/components.latent_state_key).
  const stateKey = (values) =>
    Object.keys(values).sort().map((k) => {
      const v = Math.round(values[k] * 10) / 10;
      return k + "=" + (Math.abs(v) < 0.05 ? "0.0" : v.toFixed(1));
    }).join("|");

  const setInput = (key, v) => {
    const el = st.inputs[key];
    if (!el) return;
    el.range.value = String(v);
    el.value.textContent = fmt(v, el.unit);
    el.range.setAttribute("aria-valuetext", fmt(v, el.unit));
  };

  if (st.sig !== data.sig) {
    // Another seed, ψ, class, snapshot or set of sliders: pictures prefetched for the old ones are
    // keyed by slider state alone and must not be shown for the new.
    st.sig = data.sig;
    st.prefetch = {};
    st.inputs = {};
    const groups = root.querySelector(".gs-lp-groups");
    groups.innerHTML = "";
    for (const g of data.groups) {
      const box = document.createElement("section");
      box.className = "gs-lp-group";
      box.dataset.kind = g.kind || "";
      const h = document.createElement("div");
      h.className = "gs-lp-title";
      h.textContent = g.title;
      box.appendChild(h);
      if (g.caption) {
        const c = document.createElement("div");
        c.className = "gs-lp-caption";
        c.textContent = g.caption;
        box.appendChild(c);
      }
      for (const s of g.sliders) {
        const row = document.createElement("div");
        row.className = "gs-lp-slider" + (s.strip ? " gs-lp-has-strip" : "");
        row.dataset.key = s.key;
        row.innerHTML = `<div class="gs-lp-head"><label></label><span class="gs-lp-value"></span></div>
                         <input type="range">`;
        row.querySelector("label").textContent = s.label;
        if (s.help) row.title = s.help;
        const range = row.querySelector("input");
        Object.assign(range, { min: s.min, max: s.max, step: s.step });
        range.setAttribute("aria-label", s.label);
        range.addEventListener("input", () => moved(s.key, Number(range.value)));
        const wrap = document.createElement("div");
        wrap.className = "gs-lp-control";
        wrap.appendChild(row);
        if (s.strip) {
          const strip = document.createElement("img");
          strip.className = "gs-lp-strip";
          strip.src = s.strip;
          strip.alt = s.label + ": the picture at −2, −1, 0, +1, +2";
          wrap.appendChild(strip);
        }
        box.appendChild(wrap);
        st.inputs[s.key] = { range, value: row.querySelector(".gs-lp-value"), unit: s.unit };
      }
      groups.appendChild(box);
    }
    st.version = null; // a new set of sliders takes its values from Python
  }
  picture.style.width = data.px + "px";
  if (st.version !== data.version) {
    st.version = data.version;
    st.values = { ...data.values };
  }
  for (const [k, v] of Object.entries(st.values)) setInput(k, v);
  // Pictures the server drew for states near the one it answered: keep a bounded pool.
  Object.assign(st.prefetch, data.prefetch || {});
  st.prefetch[data.picture_key] = data.picture;
  const keys = Object.keys(st.prefetch);
  if (keys.length > 400) for (const k of keys.slice(0, keys.length - 400)) delete st.prefetch[k];

  function show() {
    const src = st.prefetch[stateKey(st.values)];
    if (src && picture.getAttribute("src") !== src) picture.setAttribute("src", src);
  }
  function send() {
    clearTimeout(st.timer);
    const now = performance.now();
    const wait = Math.max(0, 60 - (now - st.sent)); // at most one rerun request per 60 ms
    st.timer = setTimeout(() => {
      st.sent = performance.now();
      setStateValue("values", { ...st.values });
    }, wait);
  }
  function moved(key, v) {
    st.values[key] = v;
    setInput(key, v);
    show();
    send();
  }
  show();
  return () => clearTimeout(st.timer);
}
