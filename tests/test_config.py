"""RunConfig and presets (studio.train.config): JSON round trip, presets, overrides, plain validation errors."""

import json

import pytest

from studio.core.errors import StudioError
from studio.train.config import PRESETS, RunConfig, from_preset


@pytest.mark.parametrize("name", list(PRESETS))
def test_every_preset_is_valid_and_round_trips_through_json(name):
    cfg = from_preset(name)
    assert cfg.validate() is cfg
    assert cfg.preset == name
    again = RunConfig.from_json(cfg.to_json())
    assert again == cfg
    assert json.loads(cfg.to_json())["model"] == cfg.model


def test_required_presets_exist():
    for name in ("tiny", "quick-sketch", "balanced", "gpu-quality"):
        assert name in PRESETS


def test_overrides_beat_the_preset_and_none_is_ignored():
    cfg = from_preset("tiny", steps=7, batch_size=None, seed=3)
    assert cfg.steps == 7 and cfg.seed == 3
    assert cfg.batch_size == PRESETS["tiny"]["batch_size"]
    assert from_preset(None, steps=5).steps == 5


def test_loss_defaults_apply_unless_given():
    cfg = from_preset("tiny", loss="wgan-gp")
    assert (cfg.n_critic, cfg.beta1, cfg.beta2) == (5, 0.0, 0.9)
    assert from_preset("tiny", loss="wgan-gp", n_critic=2).n_critic == 2
    assert from_preset("tiny", loss="hinge").beta1 == 0.0
    assert from_preset("tiny", loss="ns").n_critic == 1


def test_unknown_keys_in_json_are_ignored():
    d = from_preset("tiny").to_dict()
    d["from_the_future"] = 1
    assert RunConfig.from_dict(d) == from_preset("tiny")


def test_unknown_preset_is_a_plain_error():
    with pytest.raises(StudioError, match="Unknown preset 'nope'"):
        from_preset("nope")


@pytest.mark.parametrize(
    "changes, words",
    [
        (dict(model="vae"), "Unknown model"),
        (dict(loss="l2"), "Unknown loss"),
        (dict(precision="int8"), "Unknown precision"),
        (dict(model="dcgan", image_size=48), "32, 64 or 128"),
        (dict(model="mlp", image_size=4), "8 to 128"),
        (dict(channels=2), "1 channel"),
        (dict(steps=0), "Steps must be a whole number"),
        (dict(batch_size=2.5), "Batch size must be a whole number"),
        (dict(lr_d=0.0), "Learning rate lr_d"),
        (dict(lr_g=1.5), "Learning rate lr_g"),
        (dict(ema_decay=1.0), "EMA decay"),
        (dict(time_budget=-1), "time budget"),
        (dict(diffaugment="color,zoom"), "DiffAugment"),
    ],
)
def test_validation_errors_are_plain_sentences(changes, words):
    with pytest.raises(StudioError, match=words):
        RunConfig().replace(**changes).validate()
