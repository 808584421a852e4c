"""The browser's picture is the server's: gen.js on the vendored TF.js under Node against ``Sampler``.

Every family the studio trains (mlp, dcgan, sngan, plain and conditional; fastgan) at 32, 64 and 128 px,
with scrambled batch-norm statistics and biases, exported by ``studio.generate.web`` and drawn by
ui/web/gen.js on TF.js's CPU and WebAssembly backends in one Node process. The latents are made in
JavaScript from seeds, ψ and sliders (GANSpace directions included) and must equal the server's
bit for bit; the pictures within 2 grey levels per pixel, 99% of them within 1 (issue 15).
"""

from __future__ import annotations

import numpy as np
import pytest

from studio.generate.directions import Directions, compute_directions
from studio.generate.latent import add_offsets, seed_to_z, truncate
from studio.generate.web import ServerOnly, WebModel, unsupported_reason, web_export, web_paths
from tests.web_helpers import floats, grey_diff, make_sampler, pixels, run_node

FAMILIES = [
    dict(model="mlp"),
    dict(model="dcgan"),
    dict(model="sngan"),
    dict(model="mlp", conditional=True, num_classes=4),
    dict(model="dcgan", conditional=True, num_classes=5),
    dict(model="sngan", conditional=True, num_classes=3),
    dict(model="fastgan"),  # a graph: gated linear units, skip-layer excitation (studio/train/fastgan.py)
]
SIZES = (32, 64, 128)
BACKENDS = ("cpu", "wasm")
CASES = [  # (seed, ψ, slider values): what the Explore page sends
    (0, 1.0, {}),
    (42, 0.7, {"dir_0": 1.5, "dir_2": -0.8}),
    (2**31 - 1, 1.0, {"zdim_1": 2.0, "dir_1": 0.3}),
]


def _name(kw, size):
    return f"{kw['model']}{'-cond' if kw.get('conditional') else ''}{size}"


@pytest.fixture(scope="module")
def parity(tmp_path_factory):
    """Every model exported, the server's pictures, and gen.js's answers from one Node run."""
    root = tmp_path_factory.mktemp("web_parity")
    models = []
    for i, kw in enumerate(FAMILIES):
        for size in SIZES:
            # Grey and colour in every family; the 128 px MLP in grey (in colour its last layer alone
            # holds 50 M weights).
            channels = 3 if (i + size // 32) % 2 and not (kw["model"] == "mlp" and size == 128) else 1
            s = make_sampler(
                root, _name(kw, size), seed=i, image_size=size, channels=channels, z_dim=24, base_filters=8, **kw
            )
            d = _directions(s, real=(i, size) == (1, 32))
            export = web_export(s, directions=d)
            assert isinstance(export, WebModel), export
            labels = [k % max(s.cfg.num_classes, 1) for k in range(len(CASES))]
            zs = np.stack([_server_latent(s.z_dim, d, seed, psi, values) for seed, psi, values in CASES])
            want = s.generate(zs, np.array(labels, np.int32) if s.cfg.conditional else None)
            cases = [
                {"seed": seed, "psi": psi, "values": values, "label": lab}
                for (seed, psi, values), lab in zip(CASES, labels, strict=True)
            ]
            models.append({"name": _name(kw, size), "export": export, "z": zs, "want": want, "cases": cases})
    job = {
        "backends": list(BACKENDS),
        "models": [
            {"spec": str(m["export"].spec_path), "weights": str(m["export"].weights_path), "cases": m["cases"]}
            for m in models
        ],
    }
    answers = run_node(job, root)["models"]
    return {m["name"]: (m, a) for m, a in zip(models, answers, strict=True)}


def _directions(s, real: bool):
    """GANSpace directions of ``s`` (real: computed, as the page does) or random orthonormal ones
    with spread-out standard deviations (the latent arithmetic is the same; a fraction of the time)."""
    if real:
        return compute_directions(
            s.G, s.z_dim, conditional=s.cfg.conditional, num_classes=s.cfg.num_classes, n_samples=128, n_components=3
        )
    rng = np.random.default_rng(s.z_dim)
    q, _ = np.linalg.qr(rng.normal(size=(s.z_dim, 3)))
    stds = rng.uniform(0.5, 1.5, 3)
    return Directions(q.T.astype(np.float32), np.array([0.5, 0.3, 0.2], np.float32), stds.astype(np.float32), "-", 0)


def _server_latent(z_dim, dirs, seed, psi, values):
    """pages/explore.py's _latent_for: truncate(seed_to_z), the dimension sliders, the directions."""
    z = add_offsets(truncate(seed_to_z(seed, z_dim), psi), {int(k[5:]): v for k, v in values.items() if "zdim" in k})
    return dirs.apply(z, {int(k[4:]): v for k, v in values.items() if "dir" in k})


ALL = [_name(kw, size) for kw in FAMILIES for size in SIZES]


@pytest.mark.parametrize("name", ALL)
def test_the_page_makes_the_servers_latent(parity, name):
    m, answer = parity[name]
    got = np.stack([floats(z) for z in answer["z"]])
    assert np.array_equal(got, m["z"])


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("name", ALL)
def test_the_page_draws_the_servers_picture(parity, name, backend):
    m, answer = parity[name]
    res = answer["backends"][backend]
    assert "error" not in res, res
    got = np.stack([pixels(p, m["want"].shape[1:]) for p in res["pixels"]])
    worst, within1 = grey_diff(got, m["want"])
    print(f"{name} {backend}: max {worst} grey levels, {100 * within1:.3f}% within 1, {res['ms']:.1f} ms/picture")
    assert worst <= 2 and within1 >= 0.99
    assert res["check"]["max"] <= 2  # the check picture gen.js compared before using the backend
    assert m["want"].std() > 2  # a picture, not a flat field


def test_export_is_cached_beside_the_snapshot_and_rewritten_when_stale(parity):
    m, _ = parity["dcgan32"]
    export = m["export"]
    snap = export.spec_path.parent / "step_00000000.weights.h5"
    assert (export.spec_path, export.weights_path) == web_paths(snap)
    assert export.spec["ops"][0]["op"] == "dense" and not any(o["op"] == "bn" for o in export.spec["ops"])
    stamp = export.spec_path.stat().st_mtime_ns
    s = _reopen(export)
    dirs = m["export"].spec["latent"]["directions"]
    again = web_export(s, directions=_directions_from(dirs))
    assert again.spec_path.stat().st_mtime_ns == stamp  # read back, not rewritten
    moved = web_export(s)  # no directions now: the spec changes
    assert moved.spec["latent"]["directions"] is None
    half = web_export(s, dtype="float16")
    assert half.weights_path != export.weights_path and half.nbytes < export.nbytes * 0.51


def _reopen(export):
    from studio.generate.sampling import Sampler

    return Sampler(export.spec_path.parents[1], 0)


def _directions_from(d):
    return Directions(
        np.array(d["vectors"], np.float32),
        np.array(d["variance_ratio"], np.float32),
        np.array(d["stds"], np.float32),
        d["layer"],
        0,
        d["snapshot_hash"],
    )


def test_a_model_the_browser_cannot_run_draws_on_the_server(tmp_path):
    s = make_sampler(tmp_path, "mlp-bf16", model="mlp", image_size=32, z_dim=8, precision="mixed_bfloat16")
    out = web_export(s)
    assert isinstance(out, ServerOnly) and "server" in out.reason
    assert not web_paths(s.run.snapshot_path(0))[0].exists()
    assert unsupported_reason(s) == out.reason  # what Explore says instead of the "Take it with you" button


def test_every_family_the_parity_test_draws_is_supported(parity):
    m, _ = parity["fastgan64"]
    assert m["export"].spec["graph"] is True and m["export"].spec["family"] == "fastgan"
    assert unsupported_reason(_reopen(parity["dcgan32"][0]["export"])) is None
