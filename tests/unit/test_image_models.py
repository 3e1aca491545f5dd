"""Image architectures: shapes for every supported size and channel count, the
shape error, and one CPU training step each (discovered from the registry)."""

import copy

import pytest
import torch

from analysis import config as acfg
from gans import config as gcfg
from gans.architectures import ARCHITECTURES, build_architecture
from gans.job import build

IMAGE_ARCHS = [name for name, cls in ARCHITECTURES.items() if "images" in cls.modalities]
SHAPES = [(1, 28, 28), (3, 28, 28), (1, 32, 32), (3, 32, 32)]
SMALL = {
    "dcgan": {"ngf": 8, "ndf": 8},
    "upsample-cnn": {"hidden": 32},
    "image-mlp": {"g_widths": [16, 32], "d_widths": [32, 16]},
}


def test_every_issue_architecture_is_registered():
    assert {"dcgan", "upsample-cnn", "image-mlp"} <= set(IMAGE_ARCHS)


@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: "x".join(map(str, s)))
@pytest.mark.parametrize("name", IMAGE_ARCHS)
def test_shapes(name, shape):
    torch.manual_seed(0)
    arch = build_architecture(name, **SMALL.get(name, {}))
    g, d = arch.generator(shape, 16), arch.discriminator(shape)
    x = g(torch.randn(5, 16))
    assert x.shape == (5, *shape)
    assert x.min() >= -1 and x.max() <= 1, "tanh output"
    assert d(x).shape == (5,)
    assert d.features(x).shape == (5, d.feature_dim)
    assert arch.discriminator(shape, out_dim=3)(x).shape == (5, 3)


@pytest.mark.parametrize("name", ["dcgan", "upsample-cnn"])
def test_unsupported_shape_is_a_clear_error(name):
    with pytest.raises(
        ValueError, match=r"supports images of 1 or 3 channels and size 28x28 or 32x32; got shape \(1, 64, 64\)"
    ):
        build_architecture(name).generator((1, 64, 64), 16)


def test_dcgan_follows_the_rules():
    g = build_architecture("dcgan", ngf=8).generator((1, 28, 28), 16)
    d = build_architecture("dcgan", ndf=8).discriminator((1, 28, 28))
    assert not any(
        isinstance(m, (torch.nn.MaxPool2d, torch.nn.AvgPool2d)) for m in list(g.modules()) + list(d.modules())
    )
    assert not any(isinstance(m, torch.nn.Linear) for m in g.modules()), "no fully connected layers in G"
    assert not any(isinstance(m, torch.nn.Linear) for m in d.trunk.modules()), "no fully connected hidden layers in D"
    assert {"BatchNorm2d", "ReLU", "Tanh"} <= {type(m).__name__ for m in g.modules()}
    assert {"BatchNorm2d", "LeakyReLU"} <= {type(m).__name__ for m in d.modules()}


@pytest.mark.parametrize("size", [28, 32])
@pytest.mark.parametrize("name", IMAGE_ARCHS)
def test_one_training_step(name, size):
    config = acfg.validate(
        {
            "grid": {"datasets": ["digits"], "losses": ["nonsaturating"], "seeds": [0]},
            "datasets": {"digits": {"size": size}},
            "models": {"images": {"architecture": name, "noise_dim": 16, "params": SMALL.get(name, {})}},
            "train": {"batch_size": 8},
        }
    )
    cfg = gcfg.resolve_run(config, "digits", "gan", "nonsaturating", 0)
    torch.manual_seed(0)
    dataset, variant = build(cfg)
    before = copy.deepcopy(variant.state_dict(["generator", "discriminator"]))
    d = variant.d_step(dataset.sample(8, torch.Generator().manual_seed(0)), record=True)
    g = variant.g_step(8, record=True)
    assert torch.isfinite(d["d_loss"]) and torch.isfinite(g["g_loss"])
    after = variant.state_dict(["generator", "discriminator"])
    for net in ("generator", "discriminator"):
        assert any(not torch.equal(before[net][k], after[net][k]) for k in before[net]), f"{net} did not change"
    assert variant.sample(4).shape == (4, 1, size, size)
