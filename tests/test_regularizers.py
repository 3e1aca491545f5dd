import pytest
import torch
from torch import nn

from gans.regularizers import REGULARIZERS, build_regularizers


def test_gradient_penalty_of_a_linear_critic():
    """D(x) = w.x has gradient w everywhere: the penalty is weight * (|w| - 1)^2."""
    d = nn.Linear(2, 1, bias=False)
    with torch.no_grad():
        d.weight.copy_(torch.tensor([[3.0, 4.0]]))  # |w| = 5
    (gp,) = build_regularizers({"gradient_penalty": {"weight": 10.0}})
    value = gp.penalty(lambda x: d(x).squeeze(-1), torch.randn(16, 2), torch.randn(16, 2))
    assert value.item() == pytest.approx(10.0 * 16.0)
    value.backward()
    assert d.weight.grad is not None, "the penalty must train the critic"


def test_weight_clipping():
    d = nn.Linear(4, 1)
    with torch.no_grad():
        d.weight.fill_(0.5)
    (clip,) = build_regularizers({"weight_clipping": {"clip": 0.01}})
    clip.after_d_step(d)
    assert all(p.abs().max() <= 0.01 for p in d.parameters())


def test_unknown_regularizer_names_choices():
    with pytest.raises(KeyError, match="choose one of: .*gradient_penalty"):
        build_regularizers({"gradient_penalti": {}})
    assert "weight_clipping" in REGULARIZERS
