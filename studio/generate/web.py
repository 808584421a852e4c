"""Web export of a generator snapshot: what a browser needs to draw the server's pictures itself.

GAN Lab (Kahng et al., "GAN Lab: Understanding Complex Deep Generative Models using Interactive
Visual Experimentation", IEEE VIS 2018) runs its models in the page with TensorFlow.js; the studio
does the same for its own trained generators (ui/web/gen.js), with the server's ``Sampler`` as the
reference for exactness and the fallback.

An export is two files beside the snapshot, like the GANSpace directions:

- ``step_XXXXXXXX.web-float32.json``: the spec. The generator as a short list of ops (``embed``,
  ``dense``, ``reshape``, ``relu``, ``leaky_relu``, ``deconv``, ``tanh``) whose tensors point
  into the binary; batch norm is folded into the dense or transposed-convolution layer before it
  (inference: ``x·γ/√(σ²+ε) + (β − μγ/√(σ²+ε))``, per output channel). Beside it, everything the
  page needs to make the server's latent: z size, ψ's centre, the GANSpace directions and their
  standard deviations, class names, the run and step a recipe names, and one check picture drawn
  by the ``Sampler`` (seed 0) that gen.js compares its own first picture with before it trusts a
  backend.
- ``step_XXXXXXXX.web-float32.bin``: every tensor, little-endian, 16-byte aligned. ``float16``
  halves it (``.web-float16.*``); gen.js widens it to float32 on load, so pictures then differ
  from the server's by the weights' rounding (measured in benchmarks/README.md), not exactly.

Keras's own TF.js converter pins tf-keras and fails on Keras 3; the layer walk here knows exactly
the layers ``studio.train.models.build_generator`` makes (mlp, dcgan, sngan, conditional or not).
Any other layer or setting gives ``ServerOnly`` with a sentence for people, never an exception:
that model keeps drawing on the server. So does a mixed-precision MLP, which the server computes in
reduced precision (the convolutional families' fast path computes in float32 whatever the policy).

The files are tagged with the snapshot's content hash and ``EXPORT_VERSION``; a stale pair is
written again. Both go through ``studio.core.paths`` atomic writes, the binary first, so the spec
on disk always describes a whole binary (it records the binary's size and sha256).
"""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from studio.core.paths import atomic_write_bytes, atomic_write_text
from studio.generate.directions import Directions, file_hash
from studio.generate.latent import seed_to_z

EXPORT_VERSION = 1  # bump when the spec or the binary layout changes: cached files are written again
DTYPES = ("float32", "float16")
CHECK_SEED = 0  # the check picture: this seed, ψ 1, class 0
DISPLAY_PX = 256  # pictures are shown (and PNGs saved) enlarged by a whole factor to about this
_ALIGN = 16


@dataclass(frozen=True)
class WebModel:
    """A generator the browser can run: the spec (JSON-ready) and the binary beside the snapshot."""

    spec: dict
    spec_path: Path
    weights_path: Path

    def weights(self) -> bytes:
        return self.weights_path.read_bytes()

    @property
    def nbytes(self) -> int:
        return int(self.spec["weights"]["bytes"])


@dataclass(frozen=True)
class ServerOnly:
    """This model draws on the server: ``reason`` says why, in a sentence for people."""

    reason: str


WebExport = WebModel | ServerOnly


def web_paths(snapshot: Path | str, dtype: str = "float32") -> tuple[Path, Path]:
    """``.../step_XXXXXXXX.weights.h5`` → (``step_XXXXXXXX.web-<dtype>.json``, ``....bin``)."""
    snapshot = Path(snapshot)
    stem = snapshot.name.split(".")[0]
    return snapshot.with_name(f"{stem}.web-{dtype}.json"), snapshot.with_name(f"{stem}.web-{dtype}.bin")


# ---- the layer walk ------------------------------------------------------------------------------


class _Unsupported(Exception):
    pass


def _bn_scale_shift(la) -> tuple[np.ndarray, np.ndarray]:
    """Inference batch norm as y = x·scale + shift (float64), per channel of the last axis."""
    c = la.get_config()
    if c["axis"] not in (-1, 3) or c.get("renorm") or c.get("synchronized"):
        raise _Unsupported("batch norm over another axis")
    mean = np.asarray(la.moving_mean, np.float64)
    var = np.asarray(la.moving_variance, np.float64)
    gamma = np.asarray(la.gamma, np.float64) if c["scale"] else np.ones_like(mean)
    beta = np.asarray(la.beta, np.float64) if c["center"] else np.zeros_like(mean)
    scale = gamma / np.sqrt(var + float(la.epsilon))
    return scale, beta - mean * scale


def generator_ops(G) -> tuple[list[dict], list[np.ndarray]]:
    """The ops of generator ``G`` (a Keras model from ``build_generator``) and their float32 tensors.

    Tensor fields of an op hold indices into the returned list. Raises ``_Unsupported`` for a layer
    or setting the browser runtime does not implement. A branching generator gets a graph
    (``generator_graph``: each op names its inputs); the others one chain of ops.
    """
    if _is_graph(G):
        return generator_graph(G)
    layers = [la for la in G.layers if type(la).__name__ != "InputLayer"]
    ops: list[dict] = []
    tensors: list[np.ndarray] = []

    def add(a) -> int:
        tensors.append(np.ascontiguousarray(np.asarray(a, np.float64).astype(np.float32)))
        return len(tensors) - 1

    if layers and type(layers[0]).__name__ == "Embedding":
        emb, cat = layers[0], layers[1] if len(layers) > 1 else None
        if cat is None or type(cat).__name__ != "Concatenate" or cat.axis != -1 or emb.get_config().get("mask_zero"):
            raise _Unsupported("a class input wired in another way")
        ops.append({"op": "embed", "table": add(emb.embeddings)})
        layers = layers[2:]
    # The dense/deconv op whose kernel and bias stay open for a batch norm to fold into; "channels":
    # C of a Reshape to (h, w, C) right after a dense layer (unit j then feeds channel j % C).
    pending: dict | None = None

    def close():
        nonlocal pending
        if pending is not None:
            op = pending["op"]
            op["kernel"] = add(pending["kernel"])
            op["bias"] = None if pending["bias"] is None else add(pending["bias"])
            pending = None

    for la in layers:
        kind, c = type(la).__name__, la.get_config()
        if kind == "Dense":
            if c["activation"] != "linear":
                raise _Unsupported(f"a dense layer with a {c['activation']} activation")
            close()
            op = {"op": "dense", "units": int(c["units"])}
            ops.append(op)
            bias = np.asarray(la.bias, np.float64) if la.use_bias else None
            pending = {"op": op, "kernel": np.asarray(la.kernel, np.float64), "bias": bias, "channels": None}
        elif kind == "Reshape":
            shape = [int(d) for d in c["target_shape"]]
            if pending is not None and pending["op"]["op"] == "dense" and len(shape) == 3:
                pending["channels"] = shape[-1]  # a batch norm next acts on unit j's channel j % C
            else:
                close()
            ops.append({"op": "reshape", "shape": shape})
        elif kind == "BatchNormalization":
            if pending is None:
                raise _Unsupported("batch norm that does not follow a dense or transposed-convolution layer")
            scale, shift = _bn_scale_shift(la)
            k = pending["kernel"]
            if pending["op"]["op"] == "dense":
                ch = pending["channels"]
                if ch is None or k.shape[1] % ch or ch != scale.size:
                    raise _Unsupported("batch norm after a dense layer without a reshape to channels")
                scale, shift = np.tile(scale, k.shape[1] // ch), np.tile(shift, k.shape[1] // ch)
                pending["kernel"] = k * scale[None, :]
            else:  # deconv kernel (kh, kw, out, in)
                pending["kernel"] = k * scale[None, None, :, None]
            b = pending["bias"] if pending["bias"] is not None else np.zeros_like(scale)
            pending["bias"] = b * scale + shift
        elif kind == "ReLU":
            if c["max_value"] is not None or c["threshold"] != 0:
                raise _Unsupported("a clipped or shifted ReLU")
            close()
            slope = float(c["negative_slope"])
            ops.append({"op": "relu"} if slope == 0 else {"op": "leaky_relu", "alpha": slope})
        elif kind == "LeakyReLU":
            close()
            ops.append({"op": "leaky_relu", "alpha": float(c["negative_slope"])})
        elif kind == "Activation" and c["activation"] in ("tanh", "relu", "linear"):
            close()
            if c["activation"] != "linear":
                ops.append({"op": c["activation"]})
        elif kind == "Conv2DTranspose":
            if (
                c["data_format"] != "channels_last"
                or tuple(c["dilation_rate"]) != (1, 1)
                or c.get("groups", 1) != 1
                or c["output_padding"] is not None
                or c["activation"] != "linear"
                or c["padding"] not in ("same", "valid")
            ):
                raise _Unsupported("a transposed convolution with settings the browser runtime lacks")
            close()
            out = [int(d) for d in la.output.shape[1:]]
            op = {"op": "deconv", "strides": [int(s) for s in c["strides"]], "padding": c["padding"], "out": out}
            ops.append(op)
            bias = np.asarray(la.bias, np.float64) if la.use_bias else None
            pending = {"op": op, "kernel": np.asarray(la.kernel, np.float64), "bias": bias, "channels": None}
        else:
            raise _Unsupported(f"its {kind} layers")
    close()
    return ops, tensors


def _is_graph(G) -> bool:
    """True for a generator that is not one chain of layers (fastgan: gated units, skip excitation)."""
    return any(type(la).__name__ in ("Multiply", "Add") for la in G.layers)


def _inputs_of(la) -> list[str]:
    return [t._keras_history[0].name for t in la._inbound_nodes[0].input_tensors]


def generator_graph(G) -> tuple[list[dict], list[np.ndarray]]:
    """The ops of a branching generator ``G`` as a graph: op k's ``in`` lists the ops it reads (-1: z).

    Ops: ``dense``, ``reshape``, ``deconv``, ``conv`` (stride 1, same/valid), ``avgpool`` (pool =
    stride, valid), ``multiply``, ``sigmoid``, ``silu``, ``relu``, ``leaky_relu``, ``tanh``. Batch
    norm is folded into the dense, transposed-convolution or convolution layer before it (through a
    reshape to channels after a dense layer) when nothing else reads that layer. Layers come in
    ``G.layers`` order, which Keras keeps topological.
    """
    layers = [la for la in G.layers if type(la).__name__ != "InputLayer"]
    if len(G.inputs) != 1:
        raise _Unsupported("a class input")
    readers: dict[str, int] = {}
    for la in layers:
        for name in _inputs_of(la):
            readers[name] = readers.get(name, 0) + 1
    index = {G.inputs[0]._keras_history[0].name: -1}
    ops: list[dict] = []
    open_params: dict[int, dict] = {}  # op index → {"kernel", "bias"} (float64) until the end
    for la in layers:
        kind, c = type(la).__name__, la.get_config()
        ins = [index[n] for n in _inputs_of(la)]
        op: dict | None = None
        if kind == "Dense":
            if c["activation"] != "linear":
                raise _Unsupported(f"a dense layer with a {c['activation']} activation")
            op = {"op": "dense", "units": int(c["units"])}
            open_params[len(ops)] = {
                "kernel": np.asarray(la.kernel, np.float64),
                "bias": np.asarray(la.bias, np.float64) if la.use_bias else None,
            }
        elif kind == "Reshape":
            op = {"op": "reshape", "shape": [int(d) for d in c["target_shape"]]}
        elif kind in ("Conv2DTranspose", "Conv2D"):
            if (
                c["data_format"] != "channels_last"
                or tuple(c["dilation_rate"]) != (1, 1)
                or c.get("groups", 1) != 1
                or c.get("output_padding") is not None
                or c["activation"] != "linear"
                or c["padding"] not in ("same", "valid")
                or (kind == "Conv2D" and tuple(c["strides"]) != (1, 1))
            ):
                raise _Unsupported(f"a {kind} with settings the browser runtime lacks")
            op = {
                "op": "deconv" if kind == "Conv2DTranspose" else "conv",
                "strides": [int(s) for s in c["strides"]],
                "padding": c["padding"],
                "out": [int(d) for d in la.output.shape[1:]],
            }
            open_params[len(ops)] = {
                "kernel": np.asarray(la.kernel, np.float64),
                "bias": np.asarray(la.bias, np.float64) if la.use_bias else None,
            }
        elif kind == "BatchNormalization":
            src = ins[0]
            scale, shift = _bn_scale_shift(la)
            target, tile = src, 1
            if src >= 0 and ops[src]["op"] == "reshape" and len(ops[src]["shape"]) == 3:
                target = ops[src]["in"][0]
            p = open_params.get(target)
            consumers_ok = readers.get(layers_name(ops, src), 0) == 1 and (
                target == src or readers.get(layers_name(ops, target), 0) == 1
            )
            if p is None or not consumers_ok:
                raise _Unsupported("batch norm that does not follow a layer it can fold into")
            k = p["kernel"]
            if ops[target]["op"] == "dense":
                if k.shape[1] % scale.size:
                    raise _Unsupported("batch norm after a dense layer without a reshape to channels")
                tile = k.shape[1] // scale.size
                scale, shift = np.tile(scale, tile), np.tile(shift, tile)
                p["kernel"] = k * scale[None, :]
            elif ops[target]["op"] == "deconv":  # kernel (kh, kw, out, in)
                p["kernel"] = k * scale[None, None, :, None]
            else:  # conv kernel (kh, kw, in, out)
                p["kernel"] = k * scale[None, None, None, :]
            b = p["bias"] if p["bias"] is not None else np.zeros_like(scale)
            p["bias"] = b * scale + shift
            index[la.name] = src  # the folded layer's output is the batch norm's
            continue
        elif kind == "AveragePooling2D":
            pool = [int(d) for d in c["pool_size"]]
            if c["padding"] != "valid" or [int(d) for d in c["strides"]] != pool:
                raise _Unsupported("an average pooling with settings the browser runtime lacks")
            op = {"op": "avgpool", "pool": pool}
        elif kind == "Multiply":
            op = {"op": "multiply"}
        elif kind == "Activation" and c["activation"] in ("sigmoid", "silu", "tanh", "relu", "linear"):
            if c["activation"] == "linear":
                index[la.name] = ins[0]
                continue
            op = {"op": c["activation"]}
        elif kind == "ReLU" and c["max_value"] is None and c["threshold"] == 0:
            slope = float(c["negative_slope"])
            op = {"op": "relu"} if slope == 0 else {"op": "leaky_relu", "alpha": slope}
        elif kind == "LeakyReLU":
            op = {"op": "leaky_relu", "alpha": float(c["negative_slope"])}
        else:
            raise _Unsupported(f"its {kind} layers")
        op["in"] = ins
        op["name"] = la.name
        index[la.name] = len(ops)
        ops.append(op)
    tensors: list[np.ndarray] = []
    for i, p in open_params.items():
        tensors.append(np.ascontiguousarray(p["kernel"].astype(np.float32)))
        ops[i]["kernel"] = len(tensors) - 1
        if p["bias"] is not None:
            tensors.append(np.ascontiguousarray(p["bias"].astype(np.float32)))
            ops[i]["bias"] = len(tensors) - 1
        else:
            ops[i]["bias"] = None
    if index[G.layers[-1].name] != len(ops) - 1:
        raise _Unsupported("an output that is not its last layer")
    return ops, tensors


def layers_name(ops: list[dict], i: int) -> str:
    return ops[i]["name"] if i >= 0 else ""


def _pack(tensors: list[np.ndarray], dtype: str) -> tuple[bytes, list[dict]]:
    """One little-endian binary of every tensor in ``dtype``, each start aligned to 16 bytes."""
    parts, entries, offset = [], [], 0
    for t in tensors:
        data = t.astype("<f2" if dtype == "float16" else "<f4").tobytes()
        entries.append({"offset": offset, "shape": [int(d) for d in t.shape], "dtype": dtype})
        pad = -len(data) % _ALIGN
        parts += [data, b"\0" * pad]
        offset += len(data) + pad
    return b"".join(parts), entries


def _why_server_only(sampler) -> str | None:
    from studio.train.devices import resolve_precision

    cfg = sampler.cfg
    precision = resolve_precision(cfg.precision)
    if precision != "float32" and not sampler.fast_path:
        return (
            f"This {cfg.model} generator computes in {precision.replace('mixed_', '')} on the server, "
            "which the browser cannot match exactly, so it draws on the server."
        )
    return None


def unsupported_reason(sampler) -> str | None:
    """Why the browser cannot draw ``sampler``'s model (a sentence for people), or None if it can."""
    why = _why_server_only(sampler)
    if why:
        return why
    try:
        generator_ops(sampler.G)
    except _Unsupported as e:
        return _unsupported_sentence(sampler.cfg, e)
    return None


def _unsupported_sentence(cfg, e: _Unsupported) -> str:
    return f"The browser cannot run this {cfg.model} generator ({e}), so it draws on the server."


def _directions_json(d: Directions | None) -> dict | None:
    if d is None:
        return None
    # float32 → Python float is exact, and JSON keeps a double exactly: the page gets the same numbers.
    return {
        "vectors": np.asarray(d.directions, np.float32).astype(np.float64).tolist(),
        "stds": np.asarray(d.stds, np.float32).astype(np.float64).tolist(),
        "variance_ratio": np.asarray(d.variance_ratio, np.float32).astype(np.float64).tolist(),
        "layer": d.layer,
        "snapshot_hash": d.snapshot_hash,
    }


def build_web_export(sampler, dtype: str = "float32", directions: Directions | None = None, class_names=None):
    """(spec, weights bytes) of ``sampler``'s snapshot, or ``ServerOnly``. Writes nothing."""
    if dtype not in DTYPES:
        raise ValueError(f"dtype must be one of {DTYPES}, not {dtype!r}")
    why = _why_server_only(sampler)
    if why:
        return ServerOnly(why)
    try:
        ops, tensors = generator_ops(sampler.G)
    except _Unsupported as e:
        return ServerOnly(_unsupported_sentence(sampler.cfg, e))
    cfg = sampler.cfg
    blob, entries = _pack(tensors, dtype)
    for op in ops:  # tensor indices → where each tensor lies in the binary
        for key in ("table", "kernel", "bias"):
            if isinstance(op.get(key), int):
                op[key] = entries[op[key]]
    label = 0 if cfg.conditional else None
    # Two copies make a batch, which takes the Sampler's plain graph: the single-image XLA function
    # would compile just for this (1.5-2 s per architecture). The two agree to float rounding.
    z = np.repeat(seed_to_z(CHECK_SEED, cfg.z_dim)[None], 2, axis=0)
    check = sampler.generate(z, None if label is None else np.zeros(2, np.int32))[0]
    snap = sampler.run.snapshot_path(sampler.step)
    names = list(class_names or [])
    if cfg.conditional and len(names) != cfg.num_classes:
        names = [f"class {i}" for i in range(cfg.num_classes)]
    spec = {
        "format": "gan-studio-web",
        "version": EXPORT_VERSION,
        "family": cfg.model + ("-conditional" if cfg.conditional else ""),
        "graph": any("in" in op for op in ops),
        "run_id": sampler.run.id,
        "step": int(sampler.step),
        "snapshot_hash": file_hash(snap),
        "image_size": int(cfg.image_size),
        "channels": int(cfg.channels),
        "z_dim": int(cfg.z_dim),
        "conditional": bool(cfg.conditional),
        "num_classes": int(cfg.num_classes) if cfg.conditional else 0,
        "class_names": names if cfg.conditional else [],
        "display_scale": max(1, DISPLAY_PX // max(int(cfg.image_size), 1)),
        "ops": ops,
        "weights": {"dtype": dtype, "bytes": len(blob), "sha256": hashlib.sha256(blob).hexdigest()},
        "latent": {
            # studio.generate.latent.truncate(z, psi) with no mean: ψ pulls towards the origin.
            "truncation_mean": None,
            "directions": _directions_json(directions),
        },
        "check": {
            "seed": CHECK_SEED,
            "psi": 1.0,
            "label": label,
            "pixels": base64.b64encode(np.ascontiguousarray(check).tobytes()).decode("ascii"),
        },
    }
    return spec, blob


def _cached(spec_path: Path, bin_path: Path, want: dict) -> WebModel | None:
    try:
        spec = json.loads(spec_path.read_text(encoding="utf-8"))
        if any(spec.get(k) != v for k, v in want.items() if k != "latent") or spec["latent"] != want["latent"]:
            return None
        if bin_path.stat().st_size != spec["weights"]["bytes"]:
            return None
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return WebModel(spec, spec_path, bin_path)


def web_export(sampler, dtype: str = "float32", directions: Directions | None = None, class_names=None) -> WebExport:
    """The web export of ``sampler``'s snapshot: from the files beside it, else made and saved there.

    ``directions`` (GANSpace, ``directions.directions_for``) and ``class_names`` go into the spec
    for the page's sliders and class picker. Returns ``ServerOnly`` when the browser cannot draw
    this model; never raises for that.
    """
    why = _why_server_only(sampler)
    if why:
        return ServerOnly(why)
    snap = sampler.run.snapshot_path(sampler.step)
    spec_path, bin_path = web_paths(snap, dtype)
    cfg = sampler.cfg
    names = list(class_names or []) if cfg.conditional else []
    if cfg.conditional and len(names) != cfg.num_classes:
        names = [f"class {i}" for i in range(cfg.num_classes)]
    want = {
        "version": EXPORT_VERSION,
        "snapshot_hash": file_hash(snap),
        "class_names": names,
        "latent": {"truncation_mean": None, "directions": _directions_json(directions)},
    }
    hit = _cached(spec_path, bin_path, want)
    if hit is not None:
        return hit
    made = build_web_export(sampler, dtype, directions, names)
    if isinstance(made, ServerOnly):
        return made
    spec, blob = made
    atomic_write_bytes(bin_path, blob)  # the binary first: a spec on disk always has its whole binary
    atomic_write_text(spec_path, json.dumps(spec, separators=(",", ":")))
    return WebModel(spec, spec_path, bin_path)
