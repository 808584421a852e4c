// takeaway.js: the controls of an exported "Take it with you" page (ui/web/takeaway.html).
//
// studio/media/standalone.py inlines gen.js, then this file, then a call of startTakeaway with
// gen.js's functions, into one <script type="module">: nothing is fetched, so the page works from
// file:// with no server and no network. The runtime, its WebAssembly binary and the weights sit
// in the page as base64 of gzip (DecompressionStream unpacks them); the weights' bytes are stored
// plane by plane (every tensor value's first byte, then every second byte, ...), which gzip
// squeezes better than interleaved floats.
//
// Its helpers are prefixed tk: they share one module scope with gen.js's functions.
//
// The picture is a canvas with role="img" and aria-label "The generated picture"; it carries
// data-drawn (pictures drawn so far) and data-backend for tests and benchmarks.

export async function startTakeaway(gen) {
  const $ = (id) => document.getElementById(id);
  const status = $("gs-status");
  const canvas = $("gs-picture");
  const data = JSON.parse($("gs-data").textContent);
  const spec = data.spec;
  try {
    await tkLoadRuntime();
  } catch (e) {
    status.textContent = "This browser cannot run the picture maker in this page (" + e.message + ").";
    status.classList.add("error");
    return;
  }
  const tf = globalThis.tf;
  const weights = await tkUnpack($("gs-weights").textContent, data.weights_planes);
  const wasm = await tkGunzip(tkBase64($("gs-wasm").textContent));
  const wasmUrl = URL.createObjectURL(new Blob([wasm], { type: "application/wasm" }));
  const wasmPaths = {
    "tfjs-backend-wasm.wasm": wasmUrl,
    "tfjs-backend-wasm-simd.wasm": wasmUrl,
    "tfjs-backend-wasm-threaded-simd.wasm": wasmUrl,
  };
  // No server to fall back on here: use the fastest backend that runs, and say how close it is.
  const g = await gen.createGenerator(tf, spec, weights, { wasmPaths, tolerance: null, backends: data.backends });
  if (!g.ok) {
    status.textContent = "This browser cannot run the picture maker in this page.";
    status.classList.add("error");
    return;
  }
  canvas.dataset.backend = g.backend;
  const px = spec.image_size * spec.display_scale;
  canvas.style.width = canvas.style.height = px + "px";

  // ---- controls ----
  const seedBox = $("gs-seed"), psi = $("gs-psi"), psiValue = $("gs-psi-value");
  const classBox = $("gs-class-box"), classSel = $("gs-class");
  seedBox.max = String(data.max_seed);
  seedBox.value = String(data.seed);
  psi.value = "1";
  if (spec.conditional) {
    classBox.hidden = false;
    spec.class_names.forEach((name, i) => classSel.add(new Option(name, String(i))));
  }
  const sliders = {}; // key ("dir_0", "zdim_3") -> range input
  const fmt = (v, unit) => (v > 0 ? "+" : v < 0 ? "−" : "±") + Math.abs(v).toFixed(1) + (unit ? " " + unit : "");
  const dirs = spec.latent.directions;
  const box = $("gs-sliders");
  function group(title, items) {
    const t = document.createElement("div");
    t.className = "group-title";
    t.textContent = title;
    box.appendChild(t);
    for (const s of items) {
      const row = document.createElement("div");
      row.className = "slider";
      row.innerHTML = '<div class="head"><span></span><span class="value"></span></div><input type="range">';
      row.querySelector("span").textContent = s.label;
      const range = row.querySelector("input");
      Object.assign(range, { min: -data.slider_range, max: data.slider_range, step: 0.1, value: 0 });
      range.setAttribute("aria-label", s.label);
      range.dataset.key = s.key;
      const value = row.querySelector(".value");
      const show = () => (value.textContent = fmt(Number(range.value), s.unit));
      range.addEventListener("input", () => (show(), draw()));
      show();
      sliders[s.key] = { range, show };
      box.appendChild(row);
    }
  }
  if (dirs && dirs.vectors.length) {
    const n = Math.min(data.max_sliders, dirs.vectors.length);
    group(
      "Directions",
      Array.from({ length: n }, (_, i) => ({
        key: `dir_${i}`,
        label: `Direction ${i + 1} · ${(100 * dirs.variance_ratio[i]).toFixed(1)}%`,
        unit: "σ",
      })),
    );
  } else {
    const n = Math.min(data.max_sliders, spec.z_dim);
    group("Latent dimensions", Array.from({ length: n }, (_, i) => ({ key: `zdim_${i}`, label: `Dimension ${i}`, unit: "" })));
  }

  function state() {
    const values = {};
    for (const [k, s] of Object.entries(sliders)) values[k] = Number(s.range.value);
    const seed = Math.max(0, Math.min(data.max_seed, Math.trunc(Number(seedBox.value) || 0)));
    return { seed, psi: Number(psi.value), values, label: spec.conditional ? Number(classSel.value) : null };
  }

  // ---- drawing: one picture at a time, always the latest state ----
  let busy = false, again = false, drawn = 0, last = null;
  let baseKey = null, base = null; // truncate(seed_to_z(seed), ψ) of the current seed and ψ
  async function draw() {
    if (busy) {
      again = true;
      return;
    }
    busy = true;
    try {
      do {
        again = false;
        const s = state();
        psiValue.textContent = s.psi.toFixed(2);
        const t0 = performance.now();
        const key = s.seed + "|" + s.psi;
        if (key !== baseKey) {
          base = gen.truncate(gen.seedToZ(s.seed, spec.z_dim), s.psi, spec.latent.truncation_mean);
          baseKey = key;
        }
        const z = gen.latentFor(spec, { z: base, values: s.values });
        const pixels = await g.generate(z, s.label ?? 0);
        gen.drawPixels(canvas, pixels, spec);
        last = { ...s, z, pixels };
        canvas.dataset.drawn = String(++drawn);
        status.textContent = `Drawn in this page in ${(performance.now() - t0).toFixed(1)} ms (${g.backend}).`;
      } while (again);
    } catch (e) {
      status.textContent = "Could not draw this picture (" + e.message + ").";
      status.classList.add("error");
    } finally {
      busy = false;
    }
  }
  seedBox.addEventListener("input", draw);
  psi.addEventListener("input", draw);
  classSel.addEventListener("change", draw);
  $("gs-surprise").addEventListener("click", () => {
    seedBox.value = String(crypto.getRandomValues(new Uint32Array(1))[0] % (data.max_seed + 1));
    draw();
  });
  $("gs-reset").addEventListener("click", () => {
    for (const s of Object.values(sliders)) (s.range.value = "0"), s.show();
    draw();
  });
  $("gs-download").addEventListener("click", async () => {
    if (!last) return;
    const offsets = (prefix) =>
      Object.fromEntries(
        Object.entries(last.values)
          .filter(([k, v]) => k.startsWith(prefix) && v)
          .map(([k, v]) => [k.slice(prefix.length), v]),
      );
    const recipe = {
      run_id: spec.run_id,
      step: spec.step,
      z: Array.from(last.z),
      seed: last.seed,
      psi: last.psi,
      label: last.label,
      class_name: last.label === null ? null : spec.class_names[last.label],
      dim_offsets: offsets("zdim_"),
      direction_offsets: offsets("dir_"),
      scale: spec.display_scale,
      studio_version: data.studio_version,
    };
    const png = await gen.pngWithRecipe(last.pixels, spec, recipe);
    const a = document.createElement("a");
    a.href = URL.createObjectURL(new Blob([png], { type: "image/png" }));
    a.download = `${spec.run_id}-step${spec.step}-seed${last.seed}.png`;
    document.body.appendChild(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(a.href), 10_000);
  });
  await draw();
}

async function tkGunzip(bytes) {
  const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("gzip"));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

async function tkLoadRuntime() {
  if (typeof DecompressionStream === "undefined") throw new Error("no DecompressionStream");
  for (const el of document.querySelectorAll("script.gs-runtime")) {
    const bytes = await tkGunzip(tkBase64(el.textContent));
    const s = document.createElement("script");
    s.textContent = new TextDecoder().decode(bytes);
    document.head.appendChild(s); // an inline script runs as it is added
  }
  if (!globalThis.tf) throw new Error("TensorFlow.js did not start");
}

function tkBase64(b64) {
  const s = atob(b64.trim());
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}

async function tkUnpack(b64, planes) {
  // gzip of the weights' byte planes → the weights' own bytes (an ArrayBuffer).
  const shuffled = await tkGunzip(tkBase64(b64));
  const out = new Uint8Array(shuffled.length);
  const n = shuffled.length / planes;
  for (let p = 0; p < planes; p++) {
    const plane = shuffled.subarray(p * n, (p + 1) * n);
    for (let i = 0; i < n; i++) out[i * planes + p] = plane[i];
  }
  return out.buffer;
}
