"""Generators loaded from snapshots, for sampling, exploring and exporting.

A ``Sampler`` owns its own generator instance (Keras models are not thread-safe, and the one being
trained must never be borrowed) and draws pictures inside a ``tf.function`` with a None-batch input
signature, without ``model.predict``'s fixed overhead per call (benchmarks/generation_speed.py).

For the convolutional generators (dcgan, sngan, conditional or not) the ``tf.function`` does not call
the Keras model: ``_FastGenerator`` computes the same thing from the model's own variables with
cheaper ops. Each 4×4 stride-2 transposed convolution becomes one matrix product of all 16 kernel
taps with the input pixels, followed by adding the taps into their output pixels ("col2im"); each
inference batch norm becomes a per-channel scale and offset of the layer's output (TensorFlow's own
``Conv2DTranspose`` is slow at batch 1 on CPUs; benchmarks/README.md has the numbers). Single
images (a slider move) additionally go through XLA, which fuses the col2im adds,
scales and ReLUs into a few loops; batches take the plain graph, in chunks. The traced and compiled
functions take the variables as arguments and are shared by all Samplers of one architecture, so
only the process's first Sampler of it pays for the XLA compile.
The output matches ``G(z, training=False)`` to float rounding (tests/test_sampling.py), but is not
bit-identical to it: a PNG made before this path existed may regenerate with a few pixels one
level off (the Explore page then says that some pixels differ).

The variables are read on every call, so weights swapped into ``Sampler.G`` (``set_weights``,
``load_weights``: ``generate.bank.SnapshotBank`` does this) are used at once. Any layer or setting the fast
path does not know (the mlp generator, other kernel sizes, ...) makes the Sampler call ``G`` itself,
as before. Mixed-precision generators are computed in float32 from their float32 variables.
"""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np

from studio.core.errors import StudioError
from studio.core.images import to_uint8
from studio.generate.latent import seed_to_z, truncate
from studio.train.config import RunConfig
from studio.train.models import build_generator
from studio.train.runs import Run


class Sampler:
    def __init__(self, run: Run | Path | str, step: int | str = "latest"):
        self.run = run if isinstance(run, Run) else Run.open(run)
        self.cfg: RunConfig = self.run.config
        path = self.run.snapshot_path(step)
        self.step = int(path.name[len("step_") :].split(".")[0])
        # TensorFlow only now: a missing run or snapshot is reported before its start-up log lines.
        import tensorflow as tf

        self.G = build_generator(self.cfg, name="generator")
        try:
            self.G.load_weights(str(path))
        except Exception as e:  # noqa: BLE001 - a damaged file is a person-level problem
            raise StudioError(f"The snapshot at step {self.step} of '{self.run.id}' could not be read ({e}).") from None
        cond = self.cfg.conditional
        G = self.G
        self._fast = _FastGenerator.of(G)
        self.fast_path = self._fast is not None  # False: G itself is called (see the module docstring)

        @tf.function(
            input_signature=[tf.TensorSpec([None, self.cfg.z_dim], tf.float32), tf.TensorSpec([None], tf.int32)],
            reduce_retracing=True,
        )
        def _gen(z, y):
            return G([z, y] if cond else z, training=False)

        self._gen = _gen  # the Keras path (mlp, or any layer _FastGenerator lacks)

    @property
    def z_dim(self) -> int:
        return self.cfg.z_dim

    def generate_float(self, z: np.ndarray, labels: np.ndarray | None = None) -> np.ndarray:
        """Images in [-1, 1], float32 (N,H,W,C), from latents (N, z_dim)."""
        import tensorflow as tf

        z = np.asarray(z, np.float32).reshape(-1, self.cfg.z_dim)
        if labels is None:
            labels = np.zeros(len(z), np.int32)
        labels = np.broadcast_to(np.asarray(labels, np.int32), (len(z),))
        if self.cfg.conditional and (labels.min() < 0 or labels.max() >= self.cfg.num_classes):
            raise StudioError(f"Class must be between 0 and {self.cfg.num_classes - 1}.")
        if self._fast is not None:
            return self._fast(z, np.ascontiguousarray(labels))
        return self._gen(tf.constant(z), tf.constant(labels)).numpy()

    def generate(self, z: np.ndarray, labels: np.ndarray | None = None) -> np.ndarray:
        """uint8 images (N,H,W,C) from latents (N, z_dim)."""
        return to_uint8(self.generate_float(z, labels))

    def from_seeds(self, seeds, psi: float = 1.0, labels=None) -> np.ndarray:
        z = np.stack([truncate(seed_to_z(s, self.cfg.z_dim), psi) for s in seeds])
        return self.generate(z, labels)


class _Compiled:
    """The fast path's two functions for one generator architecture (layer plan and variable shapes),
    shared by every Sampler of that architecture: the variables are arguments, not captures, so a new
    Sampler (another snapshot) neither traces nor compiles again (the XLA compile took ~1.5-2 s on 2
    busy cores). Each is traced at its first use."""

    def __init__(self, plan: tuple, z_dim: int):
        import tensorflow as tf

        def run(z, y, variables):
            return _run(plan, z, y, variables)

        self.z_dim = z_dim
        self.plain = tf.function(run, autograph=False)
        self.xla = tf.function(run, jit_compile=True, autograph=False)
        self.xla_works: bool | None = None  # known after the first single image
        self.first_lock = threading.Lock()  # held while the first single image compiles
        self._trace_lock = threading.Lock()
        self._concrete: dict = {}

    def concrete(self, name: str, variables: list):
        """The concrete function ``name``: "batch" (any batch size, plain graph) or "one" (one image,
        XLA). Called directly, they cost ~0.5 ms less Python per call than the tf.functions."""
        import tensorflow as tf

        fn = self._concrete.get(name)
        if fn is None:
            with self._trace_lock:
                fn = self._concrete.get(name)
                if fn is None:
                    n = 1 if name == "one" else None
                    fn = self._concrete[name] = (self.xla if name == "one" else self.plain).get_concrete_function(
                        tf.TensorSpec([n, self.z_dim], tf.float32), tf.TensorSpec([n], tf.int32), variables
                    )
        return fn


_COMPILED: dict[tuple, _Compiled] = {}
_COMPILED_LOCK = threading.Lock()


class _FastGenerator:
    """``G(z, training=False)`` of a DCGAN-family generator, from G's variables, as plain TensorFlow ops.

    Knows: an optional class ``Embedding`` concatenated after z; ``Dense`` layers (linear); one
    ``Reshape`` to (4, 4, C); then ``BatchNormalization`` over channels, plain ``ReLU`` and
    ``Conv2DTranspose`` 4×4, stride 2, "same", linear; a final tanh. ``of(G)`` is None for anything
    else.

    After the reshape the activations are kept channels-first, (C, B, H, W): each layer's matmul is
    then kernel (16·Cout, Cin) @ activations (Cin, B·H·W), weights on the left in their stored layout,
    which at batch 1 (B·H·W = 16 or 64 columns) ran ~1.5x faster than the other way round, and the
    col2im result is already the next layer's right-hand side. One transpose back to (B, H, W, C) at
    the end.
    """

    def __init__(self, plan: tuple, variables: list, largest_product: int):
        self.plan, self.variables = plan, variables  # variables: tf.Variables, in the order _run reads them
        # Batches go through in chunks whose largest matmul result (16 taps x Cout x pixels, 4x the
        # layer's output) stays within ~16 MB: at 64 px, batches of 64 took half the time in chunks of
        # 8-16 as in one call (2-core EPYC); 32 px needs no chunks at 64.
        self.chunk = max(1, (16 << 20) // (4 * largest_product))
        self._compiled: _Compiled | None = None

    @classmethod
    def of(cls, G) -> _FastGenerator | None:
        layers = [la for la in G.layers if type(la).__name__ != "InputLayer"]
        plan, variables, side, largest = [], [], 0, 1
        if layers and type(layers[0]).__name__ == "Embedding":
            # build_generator's conditional head: Concatenate()([z, Embedding(y)]).
            if (
                len(layers) < 2
                or type(layers[1]).__name__ != "Concatenate"
                or layers[1].axis != -1
                or layers[0].get_config().get("mask_zero")
            ):
                return None
            plan.append(("embedding", None))
            variables.append(layers[0].embeddings)
            layers = layers[2:]
        for la in layers:
            kind, c = type(la).__name__, la.get_config()
            if not side:  # before the reshape to (4, 4, C)
                if kind == "Dense" and c["activation"] == "linear":
                    plan.append(("dense", bool(la.use_bias)))
                    variables += [la.kernel, la.bias] if la.use_bias else [la.kernel]
                elif kind == "Reshape" and len(c["target_shape"]) == 3 and plan and plan[-1][0] == "dense":
                    plan.append(("reshape", tuple(int(d) for d in c["target_shape"])))
                    side = plan[-1][1][0]
                else:
                    return None
            elif (
                kind == "BatchNormalization"
                and c["axis"] in (-1, 3)
                and c["center"]
                and c["scale"]
                and not c.get("renorm")
                and not c.get("synchronized")
            ):
                plan.append(("bn", float(la.epsilon)))
                variables += [la.gamma, la.beta, la.moving_mean, la.moving_variance]
            elif kind == "ReLU" and c["max_value"] is None and c["negative_slope"] == 0 and c["threshold"] == 0:
                plan.append(("relu", None))
            elif (
                kind == "Conv2DTranspose"
                and tuple(c["kernel_size"]) == (4, 4)
                and tuple(c["strides"]) == (2, 2)
                and c["padding"] == "same"
                and c["data_format"] == "channels_last"
                and c["output_padding"] is None
                and tuple(c["dilation_rate"]) == (1, 1)
                and c.get("groups", 1) == 1
                and c["activation"] == "linear"
            ):
                plan.append(("deconv", bool(la.use_bias)))
                variables += [la.kernel, la.bias] if la.use_bias else [la.kernel]
                largest = max(largest, 16 * int(la.kernel.shape[2]) * side * side)
                side *= 2
            elif kind == "Activation" and c["activation"] == "tanh" and plan and plan[-1][0] == "deconv":
                plan.append(("tanh", None))
            else:
                return None
        if not plan or plan[-1][0] != "tanh":
            return None
        return cls(tuple(plan), [v.value for v in variables], largest)  # the tf.Variables Keras wraps

    def compiled(self, z_dim: int) -> _Compiled:
        if self._compiled is None:
            key = (self.plan, z_dim, tuple((tuple(v.shape), v.dtype.name) for v in self.variables))
            with _COMPILED_LOCK:
                if key not in _COMPILED:
                    _COMPILED[key] = _Compiled(self.plan, z_dim)
                self._compiled = _COMPILED[key]
        return self._compiled

    def __call__(self, z: np.ndarray, labels: np.ndarray) -> np.ndarray:
        """Images (N,H,W,C) in [-1, 1] from latents z (N, z_dim) and int32 labels (N,).

        A single image goes through XLA, which fuses the col2im adds, scales and ReLUs into a few loops:
        ~1.7x faster than the plain graph at batch 1 on 2 cores. Batches take the plain graph (XLA would
        compile once per batch size), in chunks of ``self.chunk``. Either way, the same latents in the
        same batch size always take the same path: the same pixels every time.
        """
        import tensorflow as tf

        c = self.compiled(z.shape[1])
        if len(z) == 1 and c.xla_works is not False:
            one = c.concrete("one", self.variables)
            if c.xla_works:
                return one(tf.constant(z), tf.constant(labels), self.variables).numpy()
            with c.first_lock:  # the first single image: compile, or find XLA missing
                if c.xla_works is None:
                    try:
                        out = one(tf.constant(z), tf.constant(labels), self.variables).numpy()
                        c.xla_works = True
                        return out
                    except tf.errors.OpError:  # decided before any picture was drawn through it
                        c.xla_works = False
            return self(z, labels)
        batch, n = c.concrete("batch", self.variables), self.chunk
        parts = [
            batch(tf.constant(z[i : i + n]), tf.constant(labels[i : i + n]), self.variables).numpy()
            for i in range(0, max(len(z), 1), n)
        ]
        return parts[0] if len(parts) == 1 else np.concatenate(parts)


def _run(plan, z, y, variables):
    """The generator's forward pass (inference) from its plan and variables; inside a tf.function."""
    import tensorflow as tf

    def per_channel(v):  # (C,) against (C, B, H, W)
        return v[:, None, None, None]

    take = iter([tf.cast(v, tf.float32) for v in variables]).__next__
    h = z
    for kind, static in plan:
        if kind == "embedding":
            h = tf.concat([z, tf.gather(take(), y)], axis=-1)
        elif kind == "dense":
            h = tf.matmul(h, take())
            if static:
                h = h + take()
        elif kind == "reshape":
            h = tf.transpose(tf.reshape(h, (-1, *static)), (3, 0, 1, 2))
        elif kind == "bn":
            gamma, beta, mean, var = take(), take(), take(), take()
            scale = gamma * tf.math.rsqrt(var + static)
            h = h * per_channel(scale) + per_channel(beta - mean * scale)
        elif kind == "relu":
            h = tf.nn.relu(h)
        elif kind == "deconv":
            h = _deconv4x4s2(h, take())
            if static:
                h = h + per_channel(take())
        else:
            h = tf.tanh(h)
    return tf.transpose(h, (1, 2, 3, 0))


def _deconv4x4s2(x, kernel):
    """``Conv2DTranspose(k=4, strides=2, padding="same")`` without bias, channels-first:
    x (Cin, B, H, W) → (Cout, B, 2H, 2W). ``kernel`` is Keras's (4, 4, Cout, Cin).

    Input pixel i reaches output 2i + k - 1 through tap k, so along each axis output 2m =
    in[m]·w[1] + in[m-1]·w[3] and 2m+1 = in[m]·w[2] + in[m+1]·w[0] (no kernel flip: checked against
    the Keras layer in tests/test_sampling.py). One matmul makes every (tap, pixel) product,
    y[kh, kw, c, b, i, j]; then the taps are summed into their output rows, then columns, shifting
    by one pixel through a zero pad.
    """
    import tensorflow as tf

    cin, h, w = x.shape[0], x.shape[2], x.shape[3]
    cout = kernel.shape[2]
    y = tf.matmul(tf.reshape(kernel, (16 * cout, cin)), tf.reshape(x, (cin, -1)))
    y = tf.pad(tf.reshape(y, (4, 4 * cout, -1, h, w)), [[0, 0], [0, 0], [0, 0], [1, 1], [0, 0]])
    even = y[1, :, :, 1 : h + 1] + y[3, :, :, 0:h]  # (kw·Cout, B, H, W): output rows 2m
    odd = y[2, :, :, 1 : h + 1] + y[0, :, :, 2 : h + 2]  # output rows 2m+1
    r = tf.reshape(tf.stack([even, odd], axis=3), (4, cout, -1, 2 * h, w))
    r = tf.pad(r, [[0, 0], [0, 0], [0, 0], [0, 0], [1, 1]])
    even = r[1, ..., 1 : w + 1] + r[3, ..., 0:w]
    odd = r[2, ..., 1 : w + 1] + r[0, ..., 2 : w + 2]
    return tf.reshape(tf.stack([even, odd], axis=4), (cout, -1, 2 * h, 2 * w))
