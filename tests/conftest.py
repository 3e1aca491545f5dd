import copy
import os
import sys
from pathlib import Path

import pytest

from tests import numerics

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

# The real MNIST beside the repository (../shared/datasets); a worktree one level
# deeper finds it one folder further up. Tests that need it skip where it is absent.
SHARED_DATASETS = next(
    (
        p / "shared" / "datasets"
        for p in (ROOT.parent, ROOT.parent.parent)
        if (p / "shared" / "datasets" / "MNIST" / "raw").is_dir()
    ),
    ROOT.parent / "shared" / "datasets",
)

# A tiny grid that trains in seconds on a CPU.
TINY = {
    "grid": {"datasets": ["8gaussians"], "variants": ["gan"], "losses": ["nonsaturating", "wgan-gp"], "seeds": [0, 1]},
    "models": {"points": {"params": {"width": 32, "depth": 2}}},
    "train": {"steps": 40, "batch_size": 64, "log_every": 10, "eval_every": 20},
    "evaluation": {"num_samples": 200, "kid": {"subsets": 5, "subset_size": 100}, "contour_resolution": 20},
    "figures": {"dpi": 50, "max_points": 100},
}
# DCGAN's rates for the tests that train a variant a few hundred steps to check its
# mechanism: the toy set-up's Adam 1e-4 (PacGAN) needs more steps than a unit test has.
FAST_ADAM = {"lr_d": 2e-4, "lr_g": 2e-4, "betas": [0.5, 0.999]}


def tiny_with(**changes):
    """A copy of TINY with ``a__b__c=value`` set at a.b.c (parents made as needed)."""
    cfg = copy.deepcopy(TINY)
    for path, value in changes.items():
        *parents, leaf = path.split("__")
        node = cfg
        for p in parents:
            node = node.setdefault(p, {})
        node[leaf] = value
    return cfg


@pytest.fixture
def tiny_config():
    from analysis import config as acfg

    return acfg.validate(copy.deepcopy(TINY))


@pytest.fixture(autouse=True)
def _numerics(monkeypatch):
    """One thread and no denormal flushing, unless GANS_TEST_NUMERICS asks for other
    rounding (tests/numerics.py; docs/testing.md)."""
    numerics.apply(monkeypatch)
    os.environ.setdefault("OMP_NUM_THREADS", "1")


def pytest_report_header(config):
    return f"numerics (GANS_TEST_NUMERICS): {numerics.describe()}"
