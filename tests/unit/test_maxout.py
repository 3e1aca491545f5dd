"""The networks of PacGAN's 2-D protocol: a maxout D and a batch-norm G."""

import torch
from torch import nn

from analysis import config as acfg
from gans import config as gcfg
from gans.architectures import build_architecture
from gans.architectures.maxout import Maxout
from gans.job import build


def test_maxout_is_the_largest_of_its_pieces():
    layer = Maxout(3, units=4, pieces=5)
    x = torch.randn(7, 3)
    pieces = layer.linear(x).view(7, 4, 5)
    assert layer(x).shape == (7, 4)
    assert torch.equal(layer(x), pieces.max(-1).values)


def test_shapes_and_layers_match_the_protocol():
    arch = build_architecture("maxout-mlp")
    g, d = arch.generator((2,), 2), arch.discriminator((4,))  # D of PacGAN2 sees 2 packed points
    assert g(torch.randn(100, 2)).shape == (100, 2)
    assert d(torch.randn(100, 4)).shape == (100,)
    hidden = [m for m in g if isinstance(m, nn.Linear)][:-1]
    assert [m.out_features for m in hidden] == [400] * 4 and all(m.bias is None for m in hidden)
    norms = [m for m in g if isinstance(m, nn.BatchNorm1d)]
    assert len(norms) == 4 and all(m.momentum == 0.05 for m in norms)
    maxouts = [m for m in d.modules() if isinstance(m, Maxout)]
    assert [(m.units, m.pieces) for m in maxouts] == [(200, 5)] * 3
    weights = torch.cat([m.weight.flatten() for m in d.modules() if isinstance(m, nn.Linear)])
    assert abs(weights.std().item() - 0.02) < 0.002  # N(0, 0.02^2) init


def test_one_training_step_of_the_pacgan_protocol():
    cfg = acfg.validate(
        {
            "grid": {"datasets": ["2d-grid"], "variants": ["gan", "pacgan"], "losses": ["nonsaturating"]},
            "per_dataset": {"2d-grid": {"model": {"architecture": "maxout-mlp", "params": {"g_width": 32}}}},
            "train": {"batch_size": 20},
        }
    )
    for variant in ("gan", "pacgan"):
        run = gcfg.resolve_run(cfg, "2d-grid", variant, "nonsaturating", 0)
        torch.manual_seed(0)
        _, model = build(run)
        before = [p.detach().clone() for p in (*model.generator.parameters(), *model.discriminator.parameters())]
        g = torch.Generator().manual_seed(0)
        d_stats = model.d_step(model.real_batch(20, g), record=True)
        g_stats = model.g_step(20, record=True)
        after = [*model.generator.parameters(), *model.discriminator.parameters()]
        assert torch.isfinite(d_stats["d_loss"]) and torch.isfinite(g_stats["g_loss"])
        assert all(not torch.equal(b, a) for b, a in zip(before, after, strict=True))  # every weight moved
        model.generator.eval()  # evaluation samples use batch norm's running statistics
        assert model.sample(50, torch.Generator().manual_seed(1)).shape == (50, 2)
