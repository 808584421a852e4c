// Runs ui/web/gen.js under Node with the vendored TensorFlow.js build (no native add-ons): the
// Node half of the parity tests (tests/test_web_parity.py, tests/test_web_latent.py).
//
//   node tests/js/webgen_node.mjs job.json   → one JSON object on stdout
//
// job: {gen, vendor, backends: ["cpu", "wasm"], models: [{spec, weights, cases}], calls}, where a
// case is {seed, psi, values, label} or {z: [...], label}. Answers, per model: {z: [base64 float32
// ...], backends: {name: {pixels: [base64 uint8 ...], check, ms}}}. Models without "weights" only
// get their latents (the seed → z tests). calls: [[function name, ...arguments]] of gen.js's
// exports, answered in "calls" (typed arrays as base64).
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { pathToFileURL } from "node:url";
import path from "node:path";

const job = JSON.parse(readFileSync(process.argv[2], "utf8"));
const gen = await import(pathToFileURL(path.resolve(job.gen)).href);
const b64 = (typed) => Buffer.from(typed.buffer, typed.byteOffset, typed.byteLength).toString("base64");

function loadTF(vendor) {
  // The UMD builds' CommonJS branch: the backends require("@tensorflow/tfjs-core"), which is the
  // vendored core here; the CPU backend also names "seedrandom", which only its random kernels use.
  const require = createRequire(import.meta.url);
  const Module = require("node:module");
  const core = path.join(vendor, "tf-core.es2017.min.js");
  const resolve = Module._resolveFilename;
  Module._resolveFilename = function (req, ...rest) {
    return req === "@tensorflow/tfjs-core" ? core : resolve.call(this, req, ...rest);
  };
  const load = Module._load;
  Module._load = function (req, ...rest) {
    return req === "seedrandom" ? {} : load.call(this, req, ...rest);
  };
  const tf = require(core);
  require(path.join(vendor, "tf-backend-cpu.es2017.min.js"));
  tf.wasm = require(path.join(vendor, "tf-backend-wasm.es2017.min.js"));
  tf.env().set("IS_TEST", true); // no "install tfjs-node" banner
  return tf;
}

const out = { models: [], calls: [] };
for (const [fn, ...args] of job.calls || []) {
  const v = await gen[fn](...args);
  out.calls.push(ArrayBuffer.isView(v) ? b64(v) : v);
}
const tf = job.vendor ? loadTF(job.vendor) : null;
for (const m of job.models || []) {
  const spec = JSON.parse(readFileSync(m.spec, "utf8"));
  const zs = m.cases.map((c) => (c.z ? Float32Array.from(c.z) : gen.latentFor(spec, c)));
  const res = { z: zs.map(b64), backends: {} };
  if (m.weights) {
    const buf = readFileSync(m.weights);
    const weights = buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength);
    for (const name of job.backends) {
      const g = await gen.createGenerator(tf, spec, weights, { backends: [name], wasmPaths: job.vendor + path.sep });
      if (!g.ok) {
        res.backends[name] = { error: g.reason, tried: g.tried };
        continue;
      }
      const t0 = performance.now();
      const pixels = [];
      for (let i = 0; i < zs.length; i++) pixels.push(await g.generate(zs[i], m.cases[i].label ?? 0));
      res.backends[name] = { pixels: pixels.map(b64), check: g.check, ms: (performance.now() - t0) / zs.length };
      g.dispose();
    }
  }
  out.models.push(res);
}
process.stdout.write(JSON.stringify(out));
