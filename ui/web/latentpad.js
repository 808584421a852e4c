// Latent pad: Explore's picture and the sliders that move its point, in one piece of the page.
//
// Every answer from the server carries the picture for the current slider values and, for each
// slider, the pictures one step to either side ("prefetch", keyed by the full slider state). A
// slider step therefore shows its picture at once from what is already here, and the exact answer
// follows from the server (which also keeps the session's values, recipes and downloads in step).
//
// In-page generation (issue 15): when data.web names the snapshot's web export, the page loads
// TF.js and ui/web/gen.js from the app's static folder and draws every slider input event itself,
// synchronously, from the latent the server would use (seed → z, ψ, sliders, class). It then tells
// the server only the settled values (at once on "change": a released pointer or a key press; or
// 250 ms after the last input while no pointer holds the slider), and
// reports {sig, backend} as the state value "engine" so the server stops prefetching. The server's
// own picture still replaces the page's when its answer for the same state arrives. If anything
// fails (no WebGL/WASM, a load error, the check picture off) the pad stays as described above.
//
// data: {sig, version, values: {key: number}, groups: [{title, caption, sliders: [{key, label, help,
//        unit, min, max, step, strip}]}], picture, picture_key, px, prefetch: {state key: dataURI},
//        web: null | {sig, gen, runtime: [URL], wasm, spec, weights}, point: {seed, psi, label}}
//
// Static files: Streamlit 1.67 sends .js and .wasm with their real types, older servers sent
// text/plain with nosniff; either way scripts and the .wasm are fetched as bytes and run from
// blob: URLs of the right type.
export default function (component) {
  const { data, parentElement, setStateValue } = component;
  let root = parentElement.querySelector(".gs-lp");
  if (!root) {
    root = document.createElement("div");
    root.className = "gs-lp";
    root.innerHTML = `<figure class="gs-lp-figure"><img class="gs-lp-picture" alt="The generated picture">
                      <figcaption class="gs-lp-engine"></figcaption></figure>
                      <div class="gs-lp-groups"></div>`;
    parentElement.appendChild(root);
    root.__state = { sig: null, version: null, values: {}, inputs: {}, prefetch: {}, timer: null, sent: 0,
                     web: null, gen: null, base: null, canvas: document.createElement("canvas"), drawn: 0 };
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
        range.addEventListener("change", () => st.gen && send(0));
        // Held by a pointer: not settled, however long it rests; "change" follows the release.
        range.addEventListener("pointerdown", () => (st.held = true));
        range.addEventListener("pointerup", () => (st.held = false));
        range.addEventListener("lostpointercapture", () => (st.held = false));
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
  st.point = data.point || null;
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

  const engine = root.querySelector(".gs-lp-engine");
  function show() {
    const src = st.prefetch[stateKey(st.values)];
    if (src && picture.getAttribute("src") !== src) picture.setAttribute("src", src);
    else if (!src && st.gen) draw();
  }
  function draw() {
    // The page's own picture of the current point: synchronous, so every input event gets one.
    const g = st.gen, p = st.point;
    if (!g || !p) return;
    const t0 = performance.now();
    const baseKey = p.seed + "|" + p.psi;
    if (!st.base || st.base.key !== baseKey) {
      st.base = { key: baseKey, z: g.lib.truncate(g.lib.seedToZ(p.seed, g.spec.z_dim), p.psi) };
    }
    const z = g.lib.latentFor(g.spec, { z: st.base.z, values: st.values });
    g.lib.drawPixels(st.canvas, g.generateSync(z, p.label ?? 0), g.spec);
    picture.setAttribute("src", st.canvas.toDataURL("image/png"));
    picture.dataset.drawn = String(++st.drawn);
    picture.dataset.source = "browser";
    engine.textContent = `Drawn in this browser (${g.label}) · ${(performance.now() - t0).toFixed(1)} ms`;
  }
  function send(delay) {
    clearTimeout(st.timer);
    if (st.gen && st.held && delay === undefined) return; // drawn here and still held: wait for "change"
    const now = performance.now();
    // Drawn here: tell the server the values once they settle. Drawn there: at most every 60 ms.
    const wait = delay !== undefined ? delay : st.gen ? 250 : Math.max(0, 60 - (now - st.sent));
    st.timer = setTimeout(() => {
      st.sent = performance.now();
      setStateValue("values", { ...st.values });
    }, wait);
  }
  function moved(key, v) {
    st.values[key] = v;
    setInput(key, v);
    if (st.gen) draw();
    else show();
    send();
  }
  // The server's answer for the state it drew is exact: it wins over the page's own picture.
  if (data.picture_key === stateKey(st.values)) {
    if (picture.getAttribute("src") !== data.picture) picture.setAttribute("src", data.picture);
    picture.dataset.source = "server";
  } else show();
  startWeb(data.web);
  return () => clearTimeout(st.timer);

  function startWeb(web) {
    if (!web) {
      st.web = null;
      if (st.gen) st.gen.dispose();
      st.gen = null;
      delete root.dataset.engine;
      engine.textContent = "";
      return;
    }
    if (st.web === web.sig) return;
    st.web = web.sig;
    if (st.gen) {
      // Another snapshot: never draw the new point with the old weights while the new ones load.
      st.gen.dispose();
      st.gen = null;
      delete root.dataset.engine;
      engine.textContent = "";
    }
    const sig = web.sig;
    loadWeb(web).then(
      (g) => {
        if (st.web !== sig) return g && g.dispose();
        if (!g || !g.ok) {
          // Nothing alarming on the page: the server keeps drawing, as before. Why, for devtools:
          root.dataset.webError = g ? g.reason + " " + JSON.stringify(g.tried) : "no answer";
          return;
        }
        if (st.gen) st.gen.dispose();
        st.gen = g;
        root.dataset.engine = g.backend;
        engine.textContent = `Drawn in this browser (${g.label})`;
        setStateValue("engine", { sig, backend: g.backend });
      },
      () => {}
    );
  }
}

const BACKEND_NAMES = { webgl: "WebGL", wasm: "WebAssembly", cpu: "JavaScript" };
const blobUrl = (parts, type) => URL.createObjectURL(new Blob(parts, { type }));

async function fetchOk(url) {
  const r = await fetch(url);
  if (!r.ok) throw new Error(`${url}: ${r.status}`);
  return r;
}

let runtime = null; // one TF.js and one gen.js per page, whatever pads come and go
function loadRuntime(web) {
  if (!runtime) {
    runtime = (async () => {
      const lib = await import(blobUrl([await (await fetchOk(web.gen)).text()], "text/javascript"));
      if (!(globalThis.tf && globalThis.tf.wasm)) {
        for (const url of web.runtime) {
          const src = blobUrl([await (await fetchOk(url)).text()], "text/javascript");
          await new Promise((resolve, reject) => {
            const s = document.createElement("script");
            s.src = src;
            s.onload = resolve;
            s.onerror = () => reject(new Error(`could not run ${url}`));
            document.head.appendChild(s);
          });
        }
      }
      const wasm = blobUrl([await (await fetchOk(web.wasm)).arrayBuffer()], "application/wasm");
      const wasmPaths = {
        "tfjs-backend-wasm.wasm": wasm,
        "tfjs-backend-wasm-simd.wasm": wasm,
        "tfjs-backend-wasm-threaded-simd.wasm": wasm,
      };
      return { lib, tf: globalThis.tf, wasmPaths };
    })();
    runtime.catch(() => (runtime = null)); // a later pad may try again
  }
  return runtime;
}

/** The generator of `web` on the fastest backend that draws the server's check picture, or null. */
async function loadWeb(web) {
  try {
    const { lib, tf, wasmPaths } = await loadRuntime(web);
    const [spec, weights] = await Promise.all([
      fetchOk(web.spec).then((r) => r.json()),
      fetchOk(web.weights).then((r) => r.arrayBuffer()),
    ]);
    const backends = web.backends || lib.backendOrder();
    const g = await lib.createGenerator(tf, spec, weights, { wasmPaths, backends });
    if (!g.ok) return g;
    return { ...g, lib, spec, label: BACKEND_NAMES[g.backend] || g.backend };
  } catch (e) {
    return { ok: false, reason: String((e && e.message) || e), tried: [] };
  }
}
