// gen.js: the studio's generators, drawn in the viewer's browser with TensorFlow.js 4.22.
//
// Plain ES module, no build step, no imports: the page passes the `tf` namespace in (loaded from
// ui/web/vendor/tfjs/ by loadRuntime in a browser, by require() under Node), and an exported HTML
// file inlines this file as it is. The engine writes what it reads: studio/generate/web.py (a spec
// of ops plus one binary of weights, batch norm already folded). The server's Sampler stays the
// reference: every latent here is computed exactly as studio.generate.latent computes it, and a
// backend is only used after it drew the spec's check picture within 2 grey levels of the server's.
//
// Latents. seedToZ(seed, n) is NumPy's default_rng(seed).standard_normal(n), bit for bit, cast to
// float32: SeedSequence (O'Neill's seed_seq hash, as numpy/random/bit_generator.pyx) → PCG64
// (128-bit LCG, XSL-RR output; BigInt arithmetic) → NumPy's 256-layer ziggurat (Marsaglia & Tsang
// 2000) with NumPy's own tables (written below by scripts/ziggurat_tables.py). ψ, latent-dimension
// offsets and GANSpace directions then follow the Explore page's float32 arithmetic step by step
// (Math.fround after every operation NumPy does in float32), so the page's z equals the server's.
//
// Using it (the Explore latent pad, or any page):
//   const tf = await loadRuntime(vendorUrl);             // <script> tags for core + backends
//   const g = await createGenerator(tf, spec, weights, {wasmPrefix: vendorUrl});
//   if (!g.ok) -> draw on the server (g.reason says why; say nothing alarming)
//   const z = latentFor(spec, {seed, psi, values});      // values: {"dir_0": 1.5, "zdim_3": -1}
//   const px = await g.generate(z, label);               // Uint8Array H*W*C, = studio to_uint8
//   drawPixels(canvas, px, spec);                        // canvas: role="img",
//                                                        // aria-label="The generated picture"

// ---- seed → z: SeedSequence, PCG64, ziggurat -----------------------------------------------------

const M32 = 0xffffffff;
const INIT_A = 0x43b0d7e5, MULT_A = 0x931e8875, INIT_B = 0x8b51f9dd, MULT_B = 0x58f38ded;
const MIX_MULT_L = 0xca01f9dd, MIX_MULT_R = 0x4973f715;
const MASK64 = (1n << 64n) - 1n;
const MASK128 = (1n << 128n) - 1n;
const PCG_MULT = 0x2360ed051fc65da44385df649fccf645n;
const TWO_POW_M53 = 1 / 9007199254740992;

function seedWords(seed) {
  // _coerce_to_uint32_array: a non-negative integer as 32-bit words, least significant first.
  let n = typeof seed === "bigint" ? seed : BigInt(seed);
  if (n < 0n) throw new RangeError("a seed is a whole number of at least 0");
  const words = [];
  if (n === 0n) words.push(0);
  while (n > 0n) {
    words.push(Number(n & 0xffffffffn));
    n >>= 32n;
  }
  return words;
}

function seedPool(seed) {
  // SeedSequence(seed).pool: 4 words of mixed entropy.
  const entropy = seedWords(seed);
  let hashConst = INIT_A;
  const hashmix = (value) => {
    value = (value ^ hashConst) >>> 0;
    hashConst = Math.imul(hashConst, MULT_A) >>> 0;
    value = Math.imul(value, hashConst) >>> 0;
    return (value ^ (value >>> 16)) >>> 0;
  };
  const mix = (x, y) => {
    const r = (Math.imul(MIX_MULT_L, x) - Math.imul(MIX_MULT_R, y)) >>> 0;
    return (r ^ (r >>> 16)) >>> 0;
  };
  const pool = [0, 1, 2, 3].map((i) => hashmix(i < entropy.length ? entropy[i] : 0));
  for (let src = 0; src < 4; src++)
    for (let dst = 0; dst < 4; dst++) if (src !== dst) pool[dst] = mix(pool[dst], hashmix(pool[src]));
  for (let src = 4; src < entropy.length; src++)
    for (let dst = 0; dst < 4; dst++) pool[dst] = mix(pool[dst], hashmix(entropy[src]));
  return pool;
}

function generateState64(pool, n) {
  // SeedSequence.generate_state(n, np.uint64): 2n words, paired little-endian.
  let hashConst = INIT_B;
  const words = [];
  for (let i = 0; i < 2 * n; i++) {
    let v = (pool[i % 4] ^ hashConst) >>> 0;
    hashConst = Math.imul(hashConst, MULT_B) >>> 0;
    v = Math.imul(v, hashConst) >>> 0;
    words.push((v ^ (v >>> 16)) >>> 0);
  }
  const out = [];
  for (let i = 0; i < n; i++) out.push(BigInt(words[2 * i]) | (BigInt(words[2 * i + 1]) << 32n));
  return out;
}

export class PCG64 {
  // NumPy's PCG64 (not DXSM): state ← state·mult + inc (mod 2^128), output XSL-RR of the new state.
  constructor(seed) {
    const [s0, s1, i0, i1] = generateState64(seedPool(seed), 4);
    this.inc = (((i0 << 64n) | i1) << 1n | 1n) & MASK128;
    this.state = 0n;
    this.step();
    this.state = (this.state + ((s0 << 64n) | s1)) & MASK128;
    this.step();
  }
  step() {
    this.state = (this.state * PCG_MULT + this.inc) & MASK128;
  }
  next64() {
    this.step();
    const hi = this.state >> 64n;
    const x = (hi ^ this.state) & MASK64;
    const rot = hi >> 58n;
    return ((x >> rot) | (x << ((64n - rot) & 63n))) & MASK64;
  }
  nextDouble() {
    return Number(this.next64() >> 11n) * TWO_POW_M53;
  }
  standardNormal() {
    // random_standard_normal of numpy/random/src/distributions/distributions.c.
    for (;;) {
      let r = this.next64();
      const idx = Number(r & 0xffn);
      r >>= 8n;
      const sign = Number(r & 1n);
      const rabs = Number((r >> 1n) & 0xfffffffffffffn); // 52 bits: exact as a number
      let x = rabs * ZIG_WI[idx];
      if (sign) x = -x;
      if (rabs < ZIG_KI[idx]) return x;
      if (idx === 0) {
        for (;;) {
          const xx = -ZIG_INV_R * Math.log1p(-this.nextDouble());
          const yy = -Math.log1p(-this.nextDouble());
          if (yy + yy > xx * xx) return Math.floor(rabs / 256) % 2 ? -(ZIG_R + xx) : ZIG_R + xx;
        }
      } else if ((ZIG_FI[idx - 1] - ZIG_FI[idx]) * this.nextDouble() + ZIG_FI[idx] < Math.exp(-0.5 * x * x)) {
        return x;
      }
    }
  }
}

/** studio.generate.latent.seed_to_z: default_rng(seed).standard_normal(zDim) as float32. */
export function seedToZ(seed, zDim) {
  const rng = new PCG64(seed);
  const z = new Float32Array(zDim);
  for (let i = 0; i < zDim; i++) z[i] = rng.standardNormal();
  return z;
}

// ---- the Explore page's latent arithmetic, in float32 ---------------------------------------------

const f32 = Math.fround;

/** latent.truncate: mean + ψ·(z − mean), each step in float32 (mean null: the origin). */
export function truncate(z, psi, mean = null) {
  const p = f32(psi);
  const out = new Float32Array(z.length);
  for (let i = 0; i < z.length; i++) {
    const m = mean ? mean[i] : 0;
    out[i] = f32(m + f32(p * f32(z[i] - m)));
  }
  return out;
}

/** latent.add_offsets: offsets[i] (as float32) added to dimension i. */
export function addOffsets(z, offsets) {
  const out = Float32Array.from(z);
  for (const [i, v] of offsets) {
    if (!(i >= 0 && i < out.length)) throw new RangeError(`latent dimension ${i} out of range`);
    out[i] = f32(out[i] + f32(v));
  }
  return out;
}

/** directions.Directions.apply: z + Σ amount_i·std_i·direction_i, accumulated in float32 in order. */
export function applyDirections(z, directions, amounts) {
  const off = new Float32Array(z.length);
  for (const [i, a] of amounts) {
    const d = directions.vectors[i];
    if (!d) throw new RangeError(`direction ${i} out of range`);
    const s = f32(f32(a) * directions.stds[i]);
    for (let j = 0; j < off.length; j++) off[j] = f32(off[j] + f32(s * d[j]));
  }
  const out = new Float32Array(z.length);
  for (let j = 0; j < z.length; j++) out[j] = f32(z[j] + off[j]);
  return out;
}

/** Slider values {"dir_0": σ, "zdim_3": v} → ([[i, v]...] dimensions, [[i, σ]...] directions), zeros
 * left out, each ascending: the order the Explore page adds them in (ui/components latent pad keys). */
export function sliderOffsets(values) {
  const dims = [], dirs = [];
  for (const [k, v] of Object.entries(values || {})) {
    if (!v) continue;
    if (k.startsWith("zdim_")) dims.push([Number(k.slice(5)), v]);
    else if (k.startsWith("dir_")) dirs.push([Number(k.slice(4)), v]);
  }
  dims.sort((a, b) => a[0] - b[0]);
  dirs.sort((a, b) => a[0] - b[0]);
  return { dims, dirs };
}

/** The point Explore draws: truncate(seed_to_z(seed), ψ), then the dimension sliders, then the
 * direction sliders (pages/explore.py _latent_for). `z` instead of `seed` starts from a given latent. */
export function latentFor(spec, { seed = null, z = null, psi = 1, values = {} } = {}) {
  const lat = spec.latent || {};
  const base = z ? Float32Array.from(z) : truncate(seedToZ(seed, spec.z_dim), psi, lat.truncation_mean);
  const { dims, dirs } = sliderOffsets(values);
  let out = addOffsets(base, dims);
  if (dirs.length && lat.directions) out = applyDirections(out, lat.directions, dirs);
  return out;
}

// ---- pixels --------------------------------------------------------------------------------------

function rintHalfEven(x) {
  const f = Math.floor(x), d = x - f;
  return d < 0.5 ? f : d > 0.5 ? f + 1 : f % 2 === 0 ? f : f + 1;
}

/** studio.core.images.to_uint8: clip(rint((x + 1)·127.5)) with each step in float32. */
export function toUint8(floats) {
  const out = new Uint8Array(floats.length);
  for (let i = 0; i < floats.length; i++) {
    const v = rintHalfEven(f32(f32(floats[i] + 1) * 127.5));
    out[i] = v < 0 ? 0 : v > 255 ? 255 : v;
  }
  return out;
}

/** Draw uint8 pixels (H·W·C, C = 1 or 3) on a canvas of the picture's own size (CSS enlarges it). */
export function drawPixels(canvas, pixels, spec) {
  const n = spec.image_size, c = spec.channels;
  if (canvas.width !== n) canvas.width = n;
  if (canvas.height !== n) canvas.height = n;
  const ctx = canvas.getContext("2d");
  const img = ctx.createImageData(n, n);
  const d = img.data;
  for (let p = 0, q = 0; p < n * n; p++, q += c) {
    d[4 * p] = pixels[q];
    d[4 * p + 1] = pixels[c === 3 ? q + 1 : q];
    d[4 * p + 2] = pixels[c === 3 ? q + 2 : q];
    d[4 * p + 3] = 255;
  }
  ctx.putImageData(img, 0, 0);
}

function fromBase64(b64) {
  const s = atob(b64);
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}

// ---- the runtime ---------------------------------------------------------------------------------

export const VENDOR_FILES = [
  "tf-core.es2017.min.js",
  "tf-backend-cpu.es2017.min.js",
  "tf-backend-webgl.es2017.min.js",
  "tf-backend-wasm.es2017.min.js",
];

/** Load TensorFlow.js from `vendorUrl` (a folder URL ending in "/") with <script> tags; resolves to
 * the global `tf`. Loading twice is harmless. */
export async function loadRuntime(vendorUrl) {
  if (globalThis.tf && globalThis.tf.wasm && globalThis.tf.findBackendFactory("webgl")) return globalThis.tf;
  for (const name of VENDOR_FILES) {
    await new Promise((resolve, reject) => {
      const s = document.createElement("script");
      s.src = vendorUrl + name;
      s.onload = resolve;
      s.onerror = () => reject(new Error(`could not load ${name}`));
      document.head.appendChild(s);
    });
  }
  return globalThis.tf;
}

function float16ToFloat32(u16) {
  const out = new Float32Array(u16.length);
  for (let i = 0; i < u16.length; i++) {
    const h = u16[i], s = h & 0x8000 ? -1 : 1, e = (h >> 10) & 0x1f, m = h & 0x3ff;
    out[i] = e === 0 ? s * m * 2 ** -24 : e === 31 ? (m ? NaN : s * Infinity) : s * (1 + m / 1024) * 2 ** (e - 15);
  }
  return out;
}

function tensorData(weights, entry) {
  const n = entry.shape.reduce((a, b) => a * b, 1);
  if (entry.dtype === "float16") return float16ToFloat32(new Uint16Array(weights, entry.offset, n));
  return new Float32Array(weights, entry.offset, n);
}

/** Keras's Conv2DTranspose(4×4, strides 2, "same") kernel (4, 4, Cout, Cin) as four 2×2 stride-1
 * convolution kernels (2, 2, Cin, Cout), one per output phase p = 2a + b (row parity a, column
 * parity b); phaseUp runs them and depthToSpace(2) interleaves their outputs. Input pixel m reaches
 * output 2m + k − 1 through tap k (studio/generate/sampling.py _deconv4x4s2), so output row 2m sees
 * inputs m − 1, m through taps 3, 1 (the convolution padded one row above), and row 2m + 1 sees m,
 * m + 1 through taps 2, 0 (padded one row below); the same along columns. Every multiply-add of
 * these is one the transposed convolution does: a single 3×3 convolution to 4·Cout channels would
 * do 9/4 as many, most of them with zero taps (measured on WebAssembly for the 64 px DCGAN: 45 ms
 * a picture that way, 21 ms this way). TF.js's own conv2dTranspose is a plain loop on the
 * WebAssembly backend and many passes on WebGL; a convolution is XNNPACK there and one shader
 * here, and ReLU and bias fuse into it. */
const PHASE_TAPS = [[3, 1], [2, 0]];
const PHASE_PAD = [[1, 0], [0, 1]];

function deconvAsPhaseKernels(kernel, shape) {
  const [, kw, cout, cin] = shape;
  const out = [];
  for (let a = 0; a < 2; a++)
    for (let b = 0; b < 2; b++) {
      const k = new Float32Array(4 * cin * cout);
      for (let i = 0; i < 2; i++)
        for (let j = 0; j < 2; j++) {
          const ka = PHASE_TAPS[a][i], kb = PHASE_TAPS[b][j];
          for (let ci = 0; ci < cin; ci++)
            for (let c = 0; c < cout; c++) k[((i * 2 + j) * cin + ci) * cout + c] = kernel[((ka * kw + kb) * cout + c) * cin + ci];
        }
      out.push(k);
    }
  return out;
}

function phaseKernels(tf, keep, w, shape) {
  const [, , cout, cin] = shape;
  return deconvAsPhaseKernels(w, shape).map((k) => keep(tf.tensor4d(k, [2, 2, cin, cout])));
}

/** The 4×4 stride-2 transposed convolution as its four phase convolutions (see above). */
function phaseUp(tf, x, kernels, fused) {
  const parts = kernels.map((filter, p) =>
    tf.fused.conv2d({ x, filter, strides: 1, pad: [[0, 0], PHASE_PAD[p >> 1], PHASE_PAD[p & 1], [0, 0]], ...fused }),
  );
  return tf.depthToSpace(tf.concat(parts, 3), 2);
}

const FUSABLE = { relu: "relu", leaky_relu: "leakyrelu" };

/** The forward pass of a graph spec (spec.graph: fastgan's gated units and skip-layer excitation):
 * op k reads the outputs of the ops in op.in (-1: the input), in the order the spec lists them. */
function graphForward(tf, spec, weights, keep) {
  const [H, W, C] = [spec.image_size, spec.image_size, spec.channels];
  const nodes = spec.ops.map((op) => {
    const [kh, kw, cout, cin] = op.kernel ? op.kernel.shape : [];
    if (op.op === "deconv" && kh === 4 && kw === 4 && op.strides[0] === 2 && op.strides[1] === 2 && op.padding === "same") {
      const kernels = phaseKernels(tf, keep, tensorData(weights, op.kernel), op.kernel.shape);
      const bias = op.bias ? keep(tf.tensor(tensorData(weights, op.bias), op.bias.shape, "float32")) : null;
      return { ...op, op: "phaseconv", kernels, bias };
    }
    if (op.op === "dense" || op.op === "deconv" || op.op === "conv") {
      const kernel = keep(tf.tensor(tensorData(weights, op.kernel), op.kernel.shape, "float32"));
      const bias = op.bias ? keep(tf.tensor(tensorData(weights, op.bias), op.bias.shape, "float32")) : null;
      return { ...op, kernel, bias };
    }
    return op;
  });
  return (x, batch) =>
    tf.tidy(() => {
      const input = tf.tensor2d(x, [batch, x.length / batch]);
      const vals = [];
      const at = (i) => (i < 0 ? input : vals[i]);
      for (const op of nodes) {
        const a = at(op.in[0]);
        let h;
        if (op.op === "dense") h = tf.matMul(a, op.kernel);
        else if (op.op === "reshape") h = tf.reshape(a, [batch, ...op.shape]);
        else if (op.op === "deconv") h = tf.conv2dTranspose(a, op.kernel, [batch, ...op.out], op.strides, op.padding);
        else if (op.op === "phaseconv") h = phaseUp(tf, a, op.kernels, {});
        else if (op.op === "conv") h = tf.conv2d(a, op.kernel, op.strides, op.padding);
        else if (op.op === "avgpool") h = tf.avgPool(a, op.pool, op.pool, "valid");
        else if (op.op === "multiply") h = tf.mul(a, at(op.in[1]));
        else if (op.op === "sigmoid") h = tf.sigmoid(a);
        else if (op.op === "silu") h = tf.mul(a, tf.sigmoid(a));
        else if (op.op === "relu") h = tf.relu(a);
        else if (op.op === "leaky_relu") h = tf.leakyRelu(a, op.alpha);
        else if (op.op === "tanh") h = tf.tanh(a);
        else throw new Error(`unknown op ${op.op}`);
        if (op.bias) h = tf.add(h, op.bias);
        vals.push(h);
      }
      return tf.reshape(vals[vals.length - 1], [batch, H * W * C]);
    });
}

/** The forward pass of `spec` on the current tf backend. weights: ArrayBuffer of the binary. */
export function buildGenerator(tf, spec, weights) {
  if (weights.byteLength !== spec.weights.bytes) throw new Error("the weights do not match the spec");
  const kept = [];
  const keep = (t) => (kept.push(t), t);
  let table = null;
  const plan = [];
  const ops = spec.graph ? [] : spec.ops;
  for (let k = 0; k < ops.length; k++) {
    const op = ops[k];
    if (op.op === "embed") {
      // The class row is concatenated to z in JavaScript: exact, and one op fewer.
      table = { data: tensorData(weights, op.table), width: op.table.shape[1], rows: op.table.shape[0] };
      continue;
    }
    if (op.op !== "dense" && op.op !== "deconv") {
      plan.push(op);
      continue;
    }
    // An activation right after (a reshape may sit between) is fused into the layer: elementwise,
    // so it commutes with the reshape and with depthToSpace.
    let act = null, alpha = 0;
    const nxt = ops[k + 1] && ops[k + 1].op === "reshape" && op.op === "dense" ? k + 2 : k + 1;
    if (ops[nxt] && FUSABLE[ops[nxt].op]) {
      act = FUSABLE[ops[nxt].op];
      alpha = ops[nxt].alpha || 0;
    }
    const w = tensorData(weights, op.kernel);
    const b = op.bias ? tensorData(weights, op.bias) : null;
    const step = { op: op.op, act, alpha, out: op.out, strides: op.strides, padding: op.padding };
    const [kh, kw, cout] = op.kernel.shape;
    if (op.op === "deconv" && kh === 4 && kw === 4 && op.strides[0] === 2 && op.strides[1] === 2 && op.padding === "same") {
      step.op = "phaseconv";
      step.kernels = phaseKernels(tf, keep, w, op.kernel.shape);
      step.bias = keep(tf.tensor1d(b || new Float32Array(cout)));
    } else {
      step.kernel = keep(tf.tensor(w, op.kernel.shape, "float32"));
      step.bias = b ? keep(tf.tensor1d(b)) : null;
      if (op.op === "deconv") step.act = null; // conv2dTranspose has no fused form: apply it after
    }
    plan.push(step);
    if (step.act) {
      if (nxt === k + 2) plan.push(ops[k + 1]); // the reshape
      k = nxt;
    }
  }
  const inDim = spec.z_dim + (table ? table.width : 0);
  const [H, W, C] = [spec.image_size, spec.image_size, spec.channels];

  function input(zs, labels) {
    const x = new Float32Array(zs.length * inDim);
    zs.forEach((z, b) => {
      if (z.length !== spec.z_dim) throw new RangeError(`a latent has ${spec.z_dim} numbers, not ${z.length}`);
      x.set(z, b * inDim);
      if (table) {
        const y = labels ? labels[b] : 0;
        if (!(y >= 0 && y < table.rows)) throw new RangeError(`class must be between 0 and ${table.rows - 1}`);
        x.set(table.data.subarray(y * table.width, (y + 1) * table.width), b * inDim + spec.z_dim);
      }
    });
    return x;
  }

  const forward = spec.graph ? graphForward(tf, spec, weights, keep) : chainForward;

  function chainForward(x, batch) {
    return tf.tidy(() => {
      let h = tf.tensor2d(x, [batch, inDim]);
      for (const op of plan) {
        const fused = { bias: op.bias || undefined, activation: op.act || "linear", leakyreluAlpha: op.alpha };
        if (op.op === "dense") h = tf.fused.matMul({ a: h, b: op.kernel, ...fused });
        else if (op.op === "phaseconv") h = phaseUp(tf, h, op.kernels, fused);
        else if (op.op === "deconv") {
          h = tf.conv2dTranspose(h, op.kernel, [batch, ...op.out], op.strides, op.padding);
          if (op.bias) h = tf.add(h, op.bias);
        } else if (op.op === "reshape") h = tf.reshape(h, [batch, ...op.shape]);
        else if (op.op === "relu") h = tf.relu(h);
        else if (op.op === "leaky_relu") h = tf.leakyRelu(h, op.alpha);
        else if (op.op === "tanh") h = tf.tanh(h);
        else throw new Error(`unknown op ${op.op}`);
      }
      return tf.reshape(h, [batch, H * W * C]);
    });
  }

  return {
    spec,
    /** uint8 pixels (H·W·C) of latent z (Float32Array) and class label. */
    async generate(z, label = 0) {
      return (await this.generateBatch([z], [label]))[0];
    },
    /** generate() without awaiting: the backend's dataSync. Explore draws each slider input event
     * inside its handler this way, so no event goes without its picture. */
    generateSync(z, label = 0) {
      const out = forward(input([z], [label]), 1);
      try {
        return toUint8(out.dataSync());
      } finally {
        out.dispose();
      }
    },
    /** One pass for several latents: an array of uint8 pixel arrays. */
    async generateBatch(zs, labels = null) {
      const out = forward(input(zs, labels), zs.length);
      try {
        const floats = await out.data();
        const n = H * W * C;
        return zs.map((_, b) => toUint8(floats.subarray(b * n, (b + 1) * n)));
      } finally {
        out.dispose();
      }
    },
    dispose() {
      for (const t of kept) t.dispose();
      kept.length = 0;
    },
  };
}

/** How far (grey levels) `pixels` are from the spec's check picture, which the server drew. */
export function checkDifference(spec, pixels) {
  const want = fromBase64(spec.check.pixels);
  let max = 0, over1 = 0;
  for (let i = 0; i < want.length; i++) {
    const d = Math.abs(want[i] - pixels[i]);
    if (d > max) max = d;
    if (d > 1) over1++;
  }
  return { max, within1: 1 - over1 / want.length };
}

async function tryBackend(tf, name, opts) {
  if (!tf.findBackendFactory(name)) return false;
  if (name === "wasm") {
    // Threads need cross-origin isolation (no Streamlit or file:// page has it) and only the SIMD
    // binary is vendored: without SIMD there is no WebAssembly backend here.
    tf.env().set("WASM_HAS_MULTITHREAD_SUPPORT", false);
    if (!(await tf.env().getAsync("WASM_HAS_SIMD_SUPPORT"))) return false;
    if (opts.wasmPaths && !tryBackend.wasmPathsSet) {
      tf.wasm.setWasmPaths(opts.wasmPaths);
      tryBackend.wasmPathsSet = true;
    }
  }
  try {
    if (!(await tf.setBackend(name))) return false;
    await tf.ready();
  } catch (e) {
    return false;
  }
  // Half-float WebGL textures (some phones) would be visibly off the server's pictures.
  if (name === "webgl" && !tf.env().getBool("WEBGL_RENDER_FLOAT32_ENABLED")) return false;
  return true;
}

/** The order to try backends in: WebGL, WebAssembly, plain JavaScript, except that a WebGL drawn by
 * a software rasteriser (SwiftShader, llvmpipe: no GPU) comes after WebAssembly, which is several
 * times faster there (benchmarks/README.md). */
export function backendOrder() {
  let renderer = "";
  try {
    const gl = document.createElement("canvas").getContext("webgl2");
    const ext = gl && gl.getExtension("WEBGL_debug_renderer_info");
    renderer = ext ? String(gl.getParameter(ext.UNMASKED_RENDERER_WEBGL)) : "";
    const lose = gl && gl.getExtension("WEBGL_lose_context");
    if (lose) lose.loseContext();
  } catch (e) {
    renderer = "";
  }
  return /swiftshader|llvmpipe|software/i.test(renderer) ? ["wasm", "webgl", "cpu"] : ["webgl", "wasm", "cpu"];
}

/** A generator on the fastest backend that draws the server's check picture (WebGL, then
 * WebAssembly, then plain JavaScript). Resolves to {ok: true, backend, check, generate, ...} or
 * {ok: false, reason, tried}; never rejects. opts.backends: the order to try; opts.wasmPaths: the
 * folder URL of the .wasm file, or a map {file name: URL} (tf.wasm.setWasmPaths); opts.tolerance:
 * how close the check picture must come ({max: 2, within1: 0.99}, the bar), or null to take
 * the first backend that draws at all (a page with no server to fall back on). */
export async function createGenerator(tf, spec, weights, opts = {}) {
  const order = opts.backends || ["webgl", "wasm", "cpu"];
  const tol = opts.tolerance === undefined ? { max: 2, within1: 0.99 } : opts.tolerance;
  const tried = [];
  if (!spec || spec.format !== "gan-studio-web") return { ok: false, reason: "not a web export", tried };
  for (const name of order) {
    if (!(await tryBackend(tf, name, opts))) {
      tried.push({ backend: name, error: "not available" });
      continue;
    }
    let g = null;
    try {
      g = buildGenerator(tf, spec, weights);
      const c = spec.check;
      const z = truncate(seedToZ(c.seed, spec.z_dim), c.psi, spec.latent && spec.latent.truncation_mean);
      const diff = checkDifference(spec, await g.generate(z, c.label ?? 0));
      tried.push({ backend: name, ...diff });
      if (!tol || (diff.max <= tol.max && diff.within1 >= tol.within1)) {
        return { ok: true, backend: name, check: diff, tried, ...g };
      }
      g.dispose();
    } catch (e) {
      if (g) g.dispose();
      tried.push({ backend: name, error: String((e && e.message) || e) });
    }
  }
  return { ok: false, reason: "no backend here draws this model as the server does", tried };
}

// ---- PNG with the studio's recipe -----------------------------------------------------------------

/** Python's repr() of a float, as json.dumps writes it: "1.0", "0.1", "1e-05", "1.5e+16". */
export function pyFloat(x) {
  if (!Number.isFinite(x)) throw new RangeError("recipes hold finite numbers only");
  if (x === 0) return Object.is(x, -0) ? "-0.0" : "0.0";
  const [mant, expStr] = x.toExponential().split("e"); // shortest round-trip digits
  const exp = Number(expStr);
  const neg = mant.startsWith("-");
  const digits = mant.replace("-", "").replace(".", "");
  let s;
  if (exp < -4 || exp >= 16) {
    s = digits[0] + (digits.length > 1 ? "." + digits.slice(1) : "") + "e" + (exp < 0 ? "-" : "+");
    s += String(Math.abs(exp)).padStart(2, "0");
  } else if (exp < 0) {
    s = "0." + "0".repeat(-exp - 1) + digits;
  } else if (digits.length <= exp + 1) {
    s = digits + "0".repeat(exp + 1 - digits.length) + ".0";
  } else {
    s = digits.slice(0, exp + 1) + "." + digits.slice(exp + 1);
  }
  return (neg ? "-" : "") + s;
}

function pyString(s) {
  // json.dumps with ensure_ascii: everything outside ASCII as \uXXXX (UTF-16 units).
  return JSON.stringify(s).replace(/[\u007f-\uffff]/g, (c) => "\\u" + c.charCodeAt(0).toString(16).padStart(4, "0"));
}

/** A studio.generate.recipe.Recipe as Recipe.to_json() writes it: same keys, order and number
 * format. r: {run_id, step, z, seed, psi, label, class_name, dim_offsets, direction_offsets, scale,
 * studio_version}; the grid fields take their defaults. */
export function recipeJSON(r) {
  const num = (v) => pyFloat(Number(v));
  const int = (v) => String(Math.trunc(Number(v)));
  const opt = (v, f) => (v === null || v === undefined ? "null" : f(v));
  const dict = (d) => "{" + Object.entries(d || {}).map(([k, v]) => pyString(String(k)) + ":" + num(v)).join(",") + "}";
  const parts = [
    ["run_id", pyString(r.run_id)],
    ["step", int(r.step)],
    ["z", "[" + Array.from(r.z, num).join(",") + "]"],
    ["seed", opt(r.seed, int)],
    ["psi", num(r.psi ?? 1)],
    ["label", opt(r.label, int)],
    ["class_name", opt(r.class_name, pyString)],
    ["dim_offsets", dict(r.dim_offsets)],
    ["direction_offsets", dict(r.direction_offsets)],
    ["kind", pyString("image")],
    ["grid_z", "[]"],
    ["grid_labels", "[]"],
    ["ncols", "0"],
    ["pad", "2"],
    ["scale", int(r.scale ?? 1)],
    ["studio_version", pyString(r.studio_version || "0.1")],
    ["format", "1"],
  ];
  return "{" + parts.map(([k, v]) => JSON.stringify(k) + ":" + v).join(",") + "}";
}

/** Recipe.describe(): one line for people. */
export function describeRecipe(r) {
  const parts = [`run ${r.run_id}`, `step ${r.step}`];
  if (r.seed !== null && r.seed !== undefined) parts.push(`seed ${r.seed}`);
  if ((r.psi ?? 1) !== 1) parts.push(`ψ ${Number(r.psi.toPrecision(6))}`);
  if (r.label !== null && r.label !== undefined) parts.push(`class ${r.class_name || r.label}`);
  const moved = [r.dim_offsets, r.direction_offsets].reduce((n, d) => n + Object.values(d || {}).filter((v) => v).length, 0);
  if (moved) parts.push(`${moved} slider${moved > 1 ? "s" : ""} moved`);
  return parts.join(", ");
}

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

function crc32(bytes) {
  let c = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) c = CRC_TABLE[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type, data) {
  const out = new Uint8Array(12 + data.length);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, data.length);
  for (let i = 0; i < 4; i++) out[4 + i] = type.charCodeAt(i);
  out.set(data, 8);
  dv.setUint32(8 + data.length, crc32(out.subarray(4, 8 + data.length)));
  return out;
}

function textChunk(key, value) {
  // As Pillow's PngInfo.add_text: tEXt when the value is Latin-1, else an uncompressed iTXt.
  const latin1 = /^[\u0000-\u00ff]*$/.test(value);
  const enc = new TextEncoder();
  const k = Uint8Array.from(key, (ch) => ch.charCodeAt(0));
  if (latin1) {
    const v = Uint8Array.from(value, (ch) => ch.charCodeAt(0));
    const d = new Uint8Array(k.length + 1 + v.length);
    d.set(k, 0);
    d.set(v, k.length + 1);
    return chunk("tEXt", d);
  }
  const v = enc.encode(value);
  const d = new Uint8Array(k.length + 5 + v.length); // key 0 flag=0 method=0 lang 0 translated 0
  d.set(k, 0);
  d.set(v, k.length + 5);
  return chunk("iTXt", d);
}

async function zlib(bytes) {
  const stream = new Blob([bytes]).stream().pipeThrough(new CompressionStream("deflate"));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

/** PNG bytes of uint8 pixels (H·W·C, C = 1 grey or 3 RGB) enlarged `scale` times (nearest), with
 * text chunks {key: value} before the pixels, as studio.core.images.encode_png writes them. */
export async function encodePNG(pixels, size, channels, scale = 1, text = {}) {
  const n = size * scale;
  const raw = new Uint8Array(n * (n * channels + 1));
  for (let y = 0, o = 0; y < n; y++) {
    raw[o++] = 0; // filter: none
    const sy = Math.floor(y / scale);
    for (let x = 0; x < n; x++) {
      const p = (sy * size + Math.floor(x / scale)) * channels;
      for (let c = 0; c < channels; c++) raw[o++] = pixels[p + c];
    }
  }
  const ihdr = new Uint8Array(13);
  const dv = new DataView(ihdr.buffer);
  dv.setUint32(0, n);
  dv.setUint32(4, n);
  ihdr[8] = 8; // bit depth
  ihdr[9] = channels === 3 ? 2 : 0; // colour type: RGB or grey
  const parts = [
    Uint8Array.from([137, 80, 78, 71, 13, 10, 26, 10]),
    chunk("IHDR", ihdr),
    ...Object.entries(text).map(([k, v]) => textChunk(k, v)),
    chunk("IDAT", await zlib(raw)),
    chunk("IEND", new Uint8Array(0)),
  ];
  const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
  parts.reduce((o, p) => (out.set(p, o), o + p.length), 0);
  return out;
}

/** The PNG the Explore page would save for this picture: pixels enlarged by r.scale, the recipe
 * under "gan_studio_recipe", "Software" and "Description" (recipe.png_with_recipe). */
export async function pngWithRecipe(pixels, spec, r) {
  return encodePNG(pixels, spec.image_size, spec.channels, r.scale ?? 1, {
    gan_studio_recipe: recipeJSON(r),
    Software: `GAN Studio ${r.studio_version || "0.1"}`,
    Description: describeRecipe(r),
  });
}

// ---- ziggurat tables: generated by scripts/ziggurat_tables.py from NumPy 2.4.6 (do not edit)
// ki: NumPy's ki_double (integers below 2^52: exact as numbers); wi, fi: wi_double, fi_double;
// r, 1/r: ziggurat_nor_r, ziggurat_nor_inv_r (the tail).
const ZIG_R = 3.654152885361009;
const ZIG_INV_R = 0.2736612373297583;
const ZIG_KI = [
  4208095142473578, 0, 3387314423973544, 3838760076542274, 4030768804392682, 4136731738896254,
  4203757248105145, 4249917568205994, 4283617341590296, 4309289223136604, 4329489775174550, 4345795907393188,
  4359232558744730, 4370494503737299, 4380069246215646, 4388308869042394, 4395473957549321, 4401761481783924,
  4407323076021240, 4412277362218204, 4416718463613199, 4420722014516422, 4424349484777079, 4427651345409294,
  4430669422005229, 4433438668975191, 4435988524278344, 4438343955930065, 4440526279077425, 4442553800234660,
  4444442329865861, 4446205593658138, 4447855565093316, 4449402736340121, 4450856340408624, 4452224534496486,
  4453514552210512, 4454732830656798, 4455885117109368, 4456976558985043, 4458011780094444, 4458994945550386,
  4459929817254120, 4460819801517196, 4461667990089170, 4462477195632268, 4463249982500384, 4463988693531856,
  4464695473445501, 4465372289331869, 4466020948651920, 4466643115089764, 4467240322552142, 4467813987562542,
  4468365420260672, 4468895834186994, 4469406355006040, 4469898028300364, 4470371826548633, 4470828655385770,
  4471269359229841, 4471694726349190, 4472105493433674, 4472502349725738, 4472885940759935, 4473256871753524,
  4473615710685532, 4473962991097124, 4474299214642296, 4474624853414418, 4474940352071305, 4475246129778808,
  4475542581990776, 4475830082081194, 4476108982842610, 4476379617863426, 4476642302795321, 4476897336520866,
  4477145002230339, 4477385568415884, 4477619289790266, 4477846408136804, 4478067153096380, 4478281742896886,
  4478490385029917, 4478693276879082, 4478890606303906, 4479082552182886, 4479269284918997, 4479450966910588,
  4479627752990372, 4479799790834988, 4479967221347354, 4480130179013872, 4480288792238368, 4480443183654460,
  4480593470417939, 4480739764480586, 4480882172846772, 4481020797814010, 4481155737198612, 4481287084547452,
  4481414929336784, 4481539357158974, 4481660449897960, 4481778285894165, 4481892940099539, 4482004484223382,
  4482112986869492, 4482218513665204, 4482321127382802, 4482420888053758, 4482517853076245, 4482612077316275,
  4482703613202871, 4482792510817576, 4482878817978627, 4482962580320076, 4483043841366126, 4483122642600925,
  4483199023534056, 4483273021761922, 4483344673025224, 4483414011262724, 4483481068661428, 4483545875703378,
  4483608461209170, 4483668852378323, 4483727074826624, 4483783152620564, 4483837108308932, 4483888962951686,
  4483938736146144, 4483986446050596, 4484032109405372, 4484075741551420, 4484117356446452, 4484156966678662,
  4484194583478081, 4484230216725550, 4484263874959345, 4484295565379450, 4484325293849474, 4484353064896186,
  4484378881706674, 4484402746123075, 4484424658634833, 4484444618368474, 4484462623074794, 4484478669113436,
  4484492751434740, 4484504863558830, 4484514997551788, 4484523143998833, 4484529291974394, 4484533429008906,
  4484535541052219, 4484535612433424, 4484533625816926, 4484529562154580, 4484523400633636, 4484515118620291,
  4484504691598554, 4484492093104164, 4484477294653230, 4484460265665252, 4484440973380154, 4484419382768918,
  4484395456437370, 4484369154522621, 4484340434581640, 4484309251471359, 4484275557219678, 4484239300886654,
  4484200428415112, 4484158882469814, 4484114602264271, 4484067523374160, 4484017577536216, 4483964692431365,
  4483908791450714, 4483849793442887, 4483787612441036, 4483722157367660, 4483653331715198, 4483581033200083,
  4483505153387764, 4483425577285833, 4483342182902157, 4483254840764470, 4483163413397547, 4483067754753536,
  4482967709590562, 4482863112794072, 4482753788634692, 4482639549955636, 4482520197281720, 4482395517841076,
  4482265284489409, 4482129254525304, 4481987168383486, 4481838748191074, 4481683696169781, 4481521692864464,
  4481352395175570, 4481175434169564, 4480990412637506, 4480796902367134, 4480594441088331, 4480382529045225,
  4480160625140311, 4479928142586662, 4479684443993061, 4479428835793398, 4479160561915451, 4478878796564388,
  4478582635972392, 4478271088936406, 4477943065929958, 4477597366530538, 4477232664848704, 4476847492576192,
  4476440219183781, 4476009028690434, 4475551892286424, 4475066535915646, 4474550401693506, 4474000601739904,
  4473413862618200, 4472786458058295, 4472114126959004, 4471391972746494, 4470614338917719, 4469774653883156,
  4468865235838896, 4467877045039530, 4466799366045354, 4465619395558397, 4464321701199635, 4462887501169282,
  4461293691124341, 4459511507635972, 4457504658253067, 4455226650325010, 4452616884242348, 4449594783440798,
  4446050695647666, 4441831266659618, 4436714892174061, 4430368316897338, 4422264825074740, 4411517007702132,
  4396496531309976, 4373832704204284, 4335125104963628, 4251099761679434,
];
const ZIG_WI = [
  8.683627060801306e-16, 4.779330175727737e-17, 6.354352417405262e-17, 7.454870481247696e-17,
  8.3293668157931e-17, 9.068060405059482e-17, 9.714860076567762e-17, 1.0294750314241019e-16,
  1.0823430288447684e-16, 1.131147019610903e-16, 1.176635945702292e-16, 1.2193617278714363e-16,
  1.2597439914637093e-16, 1.2981099886264032e-16, 1.3347203736824123e-16, 1.3697864842571203e-16,
  1.4034823001242382e-16, 1.4359529452056943e-16, 1.4673208742364422e-16, 1.4976904668391037e-16,
  1.5271515003596198e-16, 1.5557818169460764e-16, 1.5836494009290885e-16, 1.6108140175274928e-16,
  1.6373285203969853e-16, 1.6632399058420835e-16, 1.6885901708676596e-16, 1.713417017655966e-16,
  1.737754436586486e-16, 1.7616331923000996e-16, 1.7850812316976727e-16, 1.8081240285799152e-16,
  1.830784876482675e-16, 1.853085138861802e-16, 1.8750444639373882e-16, 1.896680970077476e-16,
  1.918011406483862e-16, 1.9390512930625104e-16, 1.9598150426628824e-16, 1.9803160683128174e-16,
  2.000566877627333e-16, 2.0205791562071654e-16, 2.0403638415480212e-16, 2.0599311887403706e-16,
  2.079290829041402e-16, 2.0984518222370352e-16, 2.1174227035760342e-16, 2.1362115259449868e-16,
  2.1548258978581458e-16, 2.1732730177564367e-16, 2.191559705042727e-16, 2.2096924282235318e-16,
  2.2276773304789553e-16, 2.2455202529414355e-16, 2.263226755928568e-16, 2.280802138345017e-16,
  2.2982514554424684e-16, 2.3155795351040804e-16, 2.3327909928004356e-16, 2.3498902453470955e-16,
  2.3668815235791604e-16, 2.3837688840454243e-16, 2.4005562198135063e-16, 2.4172472704675025e-16,
  2.433845631371103e-16, 2.4503547622614954e-16, 2.466777995232705e-16, 2.4831185421610877e-16,
  2.4993795016204524e-16, 2.515563865329658e-16, 2.5316745241713583e-16, 2.547714273816944e-16,
  2.563685819989397e-16, 2.579591783392867e-16, 2.5954347043351707e-16, 2.6112170470670194e-16,
  2.6269412038597256e-16, 2.6426094988411895e-16, 2.658224191608307e-16, 2.6737874806323633e-16,
  2.689301506472616e-16, 2.704768354811995e-16, 2.720190059327732e-16, 2.735568604408679e-16,
  2.7509059277301666e-16, 2.7662039226963903e-16, 2.781464440759544e-16, 2.79668929362423e-16,
  2.8118802553450207e-16, 2.827039064324479e-16, 2.842167425218406e-16, 2.8572670107546015e-16,
  2.87233946347098e-16, 2.887386397378482e-16, 2.9024093995538423e-16, 2.9174100316669455e-16,
  2.9323898314471816e-16, 2.947350314092935e-16, 2.9622929736280665e-16, 2.977219284209029e-16,
  2.992130701386013e-16, 3.007028663321331e-16, 3.0219145919680615e-16, 3.036789894211802e-16,
  3.051655962978219e-16, 3.0665141783089545e-16, 3.081365908408297e-16, 3.0962125106629225e-16,
  3.111055332636893e-16, 3.125895713043999e-16, 3.140734982699446e-16, 3.1555744654528006e-16,
  3.1704154791040285e-16, 3.1852593363044065e-16, 3.2001073454440114e-16, 3.214960811527447e-16,
  3.2298210370394156e-16, 3.244689322801698e-16, 3.2595669688230784e-16, 3.2744552751437067e-16,
  3.2893555426753697e-16, 3.3042690740391284e-16, 3.3191971744017523e-16, 3.3341411523123725e-16,
  3.3491023205407785e-16, 3.364081996918765e-16, 3.37908150518595e-16, 3.394102175841489e-16,
  3.409145347003126e-16, 3.424212365275018e-16, 3.4393045866258313e-16, 3.454423377278584e-16,
  3.4695701146137835e-16, 3.4847461880874137e-16, 3.499953000165381e-16, 3.5151919672760744e-16,
  3.53046452078274e-16, 3.5457721079774357e-16, 3.5611161930983884e-16, 3.5764982583726505e-16,
  3.59191980508603e-16, 3.6073823546823514e-16, 3.6228874498941915e-16, 3.6384366559073444e-16,
  3.65403156156137e-16, 3.669673780588701e-16, 3.685364952894914e-16, 3.7011067458828983e-16,
  3.716900855823823e-16, 3.7327490092779435e-16, 3.7486529645684887e-16, 3.7646145133120287e-16,
  3.7806354820089604e-16, 3.7967177336979443e-16, 3.8128631696783774e-16, 3.829073731305243e-16,
  3.8453514018609596e-16, 3.8616982085091493e-16, 3.878116224335587e-16, 3.894607570481926e-16,
  3.9111744183782054e-16, 3.9278189920805415e-16, 3.944543570720877e-16, 3.9613504910761354e-16,
  3.9782421502646826e-16, 3.995221008578565e-16, 4.012289592460629e-16, 4.029450497636328e-16,
  4.04670639241075e-16, 4.0640600211422504e-16, 4.0815142079049387e-16, 4.0990718603532664e-16,
  4.1167359738030257e-16, 4.134509635544236e-16, 4.1523960294026883e-16, 4.170398440568316e-16,
  4.1885202607101123e-16, 4.206764993399015e-16, 4.2251362598620494e-16, 4.243637805093078e-16,
  4.262273504347798e-16, 4.2810473700531167e-16, 4.2999635591638323e-16, 4.3190263810026294e-16,
  4.338240305622791e-16, 4.357609972736849e-16, 4.3771402012585875e-16, 4.3968359995105214e-16,
  4.4167025761542035e-16, 4.4367453519065673e-16, 4.456969972112043e-16, 4.477382320247534e-16,
  4.49798853244555e-16, 4.518795013130059e-16, 4.539808451870034e-16, 4.561035841567422e-16,
  4.582484498109567e-16, 4.604162081631153e-16, 4.626076619547846e-16, 4.648236531543207e-16,
  4.670650656712631e-16, 4.693328283093329e-16, 4.716279179838351e-16, 4.739513632325867e-16,
  4.763042480533137e-16, 4.786877161048723e-16, 4.811029753147417e-16, 4.835513029411525e-16,
  4.860340511450812e-16, 4.885526531353603e-16, 4.91108629959527e-16, 4.937035980240335e-16,
  4.963392774403987e-16, 4.990175013091822e-16, 5.017402260718089e-16, 5.045095430818727e-16,
  5.073276915733542e-16, 5.101970732341562e-16, 5.131202686306784e-16, 5.161000557743228e-16,
  5.191394311757699e-16, 5.222416338000234e-16, 5.254101724177597e-16, 5.286488569504945e-16,
  5.3196183453384e-16, 5.353536311816497e-16, 5.388292001334053e-16, 5.423939782201712e-16,
  5.46053951907478e-16, 5.498157350892814e-16, 5.536866612467876e-16, 5.576748932926576e-16,
  5.617895553555417e-16, 5.660408920082422e-16, 5.704404621291389e-16, 5.750013768919895e-16,
  5.797385945724594e-16, 5.846692893455479e-16, 5.898133176477899e-16, 5.951938149641444e-16,
  6.008379696271908e-16, 6.067780409333449e-16, 6.130527208725282e-16, 6.197089894581626e-16,
  6.268046963301284e-16, 6.344122407127506e-16, 6.426239659548055e-16, 6.515603317344994e-16,
  6.613827885097664e-16, 6.723150462505587e-16, 6.846803417564259e-16, 6.98971833638762e-16,
  7.159994934830664e-16, 7.372424301798799e-16, 7.658936370805573e-16, 8.113849337656484e-16,
];
const ZIG_FI = [
  1.0, 0.9771017012676716, 0.9598790918001067, 0.9451989534422996,
  0.9320600759592305, 0.919991505039347, 0.9087264400521309, 0.8980959218983434,
  0.8879846607558334, 0.8783096558089174, 0.869008688036857, 0.8600336211963315,
  0.851346258458678, 0.8429156531122042, 0.8347162929868834, 0.8267268339462214,
  0.8189291916037024, 0.8113078743126563, 0.8038494831709643, 0.796542330422959,
  0.7893761435660246, 0.7823418326548025, 0.7754313049811872, 0.7686373157984863,
  0.7619533468367954, 0.7553735065070961, 0.7488924472191568, 0.742505296340151,
  0.7362075981268627, 0.7299952645614762, 0.7238645334686302, 0.717811932630722,
  0.7118342488782484, 0.7059285013327543, 0.7000919181365116, 0.6943219161261167,
  0.6886160830046718, 0.6829721616449949, 0.6773880362187735, 0.6718617198970821,
  0.6663913439087501, 0.6609751477766631, 0.6556114705796973, 0.6502987431108167,
  0.6450354808208223, 0.6398202774530566, 0.6346517992876236, 0.6295287799248367,
  0.6244500155470265, 0.6194143606058343, 0.6144207238889139, 0.6094680649257734,
  0.6045553906974678, 0.5996817526191253, 0.5948462437679874, 0.590047996332826,
  0.5852861792633715, 0.5805599961007909, 0.5758686829723537, 0.5712115067352532,
  0.5665877632561644, 0.5619967758145243, 0.557437893618766, 0.5529104904258323,
  0.5484139632552658, 0.5439477311900263, 0.5395112342569521, 0.5351039323804576,
  0.5307253044036621, 0.5263748471716845, 0.5220520746723218, 0.5177565172297564,
  0.513487720747327, 0.5092452459957479, 0.5050286679434681, 0.5008375751261487,
  0.4966715690524897, 0.49253026364386854, 0.48841328470545803, 0.4843202694266833,
  0.48025086590904675, 0.47620473271950586, 0.4721815384677302, 0.4681809614056936,
  0.46420268904817436, 0.46024641781284287, 0.45631185267871643, 0.4523987068618485,
  0.44850670150720306, 0.4446355653957394, 0.440785034665804, 0.43695485254798555,
  0.43314476911265226, 0.4293545410294414, 0.42558393133802197, 0.4218327092294959,
  0.4181006498378482, 0.4143875340408911, 0.41069314827018816, 0.40701728432947337,
  0.4033597392211145, 0.3997203149801972, 0.39609881851583245, 0.3924950614593156,
  0.3889088600187887, 0.3853400348400773, 0.38178841087339366, 0.3782538172456192,
  0.37473608713789114, 0.3712350576682395, 0.3677505697790326, 0.36428246812900406,
  0.36083060098964803, 0.3573948201457805, 0.3539749808000768, 0.3505709414814061,
  0.34718256395679364, 0.3438097131468507, 0.34045225704452187, 0.33711006663700605,
  0.33378301583071845, 0.3304709813791636, 0.3271738428136014, 0.3238914823763911,
  0.32062378495690536, 0.3173706380299136, 0.3141319315963372, 0.3109075581262865,
  0.30769741250429206, 0.30450139197665, 0.30131939610080305, 0.2981513266966855,
  0.2949970877999618, 0.2918565856170952, 0.2887297284821829, 0.28561642681550176,
  0.2825165930837076, 0.27943014176163794, 0.2763569892956683, 0.27329705406857707,
  0.27025025636587546, 0.26721651834356147, 0.2641957639972612, 0.2611879191327212,
  0.25819291133761924, 0.25521066995466196, 0.2522411260559422, 0.24928421241852852,
  0.24633986350126383, 0.2434080154227503, 0.2404886059405006, 0.2375815744312381,
  0.23468686187233, 0.23180441082433872, 0.22893416541468034, 0.22607607132238028,
  0.22323007576391748, 0.220396127480152, 0.21757417672433113, 0.21476417525117358,
  0.21196607630703018, 0.20917983462112508, 0.2064054063978808, 0.2036427493103349,
  0.2008918224946566, 0.19815258654577514, 0.1954250035141343, 0.19270903690358918,
  0.19000465167046499, 0.1873118142238003, 0.18463049242679927, 0.18196065559952251,
  0.17930227452284758, 0.17665532144373486, 0.17401977008183855, 0.17139559563750575,
  0.1687827748012113, 0.1661812857644819, 0.16359110823236558, 0.161012223437511,
  0.15844461415592428, 0.1558882647244792, 0.15334316106026286, 0.15080929068184568,
  0.14828664273257455, 0.14577520800599403, 0.14327497897351346, 0.1407859498144447,
  0.13830811644855073, 0.13584147657125376, 0.13338602969166916, 0.13094177717364436,
  0.12850872227999957, 0.1260868702201859, 0.12367622820159657, 0.1212768054847903,
  0.11888861344291006, 0.11651166562561087, 0.11414597782783849, 0.11179156816383809,
  0.1094484571468118, 0.1071166677746838, 0.10479622562248707, 0.10248715894193525,
  0.10018949876881002, 0.09790327903886246, 0.095628536713009, 0.09336531191269101,
  0.09111364806637376, 0.08887359206827589, 0.08664519445055807, 0.08442850957035347,
  0.0822235958132029, 0.08003051581466307, 0.07784933670209612, 0.07568013035892718,
  0.07352297371398132, 0.0713779490588904, 0.06924514439700676, 0.0671246538277885,
  0.0650165779712429, 0.06292102443775814, 0.06083810834953988, 0.05876795292093374,
  0.0567106901062029, 0.05466646132488892, 0.05263541827679219, 0.05061772386094778,
  0.04861355321586854, 0.04662309490193038, 0.044646552251294463, 0.04268414491647446,
  0.04073611065594094, 0.03880270740452615, 0.036884215688567305, 0.034980941461716125,
  0.03309321945857858, 0.0312214171919203, 0.02936593975813336, 0.027527235669603113,
  0.02570580400854891, 0.02390220330579588, 0.02211706270730885, 0.02035109623004451,
  0.018605121275724622, 0.016880083152543142, 0.01517708830793531, 0.013497450601739867,
  0.011842757857907879, 0.010214971439701459, 0.008616582769398726, 0.007050875471373222,
  0.0055224032992509916, 0.0040379725933630236, 0.0026090727461021593, 0.001260285930498598,
];
// ---- end of generated ziggurat tables
