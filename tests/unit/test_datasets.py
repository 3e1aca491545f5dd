import math

import pytest
import torch

from gans.datasets import DATASETS, build_dataset
from gans.datasets.images import DataMissingError
from tests.conftest import SHARED_DATASETS


def gen(seed=0):
    return torch.Generator().manual_seed(seed)


@pytest.mark.parametrize("name", DATASETS.names())
def test_shape_and_seeding(name):
    # image datasets read the real data beside the repository where it is present
    ds = build_dataset(name, **({"root": str(SHARED_DATASETS)} if "root" in DATASETS.get(name).defaults else {}))
    try:
        ds.sample(1, gen())
    except DataMissingError:
        pytest.skip(f"{name}'s files are not under the default data root")
    a, b = ds.sample(500, gen(3)), ds.sample(500, gen(3))
    assert a.shape == (500, *ds.shape)
    assert a.dtype == torch.float32
    assert torch.equal(a, b), "same seed, same samples"
    if ds.modality != "dirac":  # the Dirac-GAN's data is one point, whatever the seed
        assert not torch.equal(a, ds.sample(500, gen(4))), "another seed, other samples"


def test_eight_gaussians_placement():
    ds = build_dataset("8gaussians")
    centers = ds.centers
    # 8 centres on a circle of radius 2, then divided by 1.414
    assert centers.shape == (8, 2)
    assert torch.allclose(centers.norm(dim=1), torch.full((8,), 2 / 1.414, dtype=torch.float64))
    angles = torch.atan2(centers[:, 1], centers[:, 0]) % (2 * math.pi)
    assert torch.allclose(angles.sort().values, torch.arange(8, dtype=torch.float64) * math.pi / 4, atol=1e-9)
    x = ds.sample(20000, gen())
    nearest = torch.cdist(x.double(), centers).min(dim=1)
    # every mode used about equally; the spread is std 0.02 / 1.414 per coordinate
    counts = torch.bincount(nearest.indices, minlength=8).double()
    assert (counts / counts.sum() - 1 / 8).abs().max() < 0.02
    residual = x.double() - centers[nearest.indices]
    assert residual.std(dim=0).sub(0.02 / 1.414).abs().max() < 0.001


def test_twenty_five_gaussians_placement():
    ds = build_dataset("25gaussians")
    raw = ds.centers * 2.828
    grid = sorted({round(v, 6) for v in raw.flatten().tolist()})
    assert grid == [-4.0, -2.0, 0.0, 2.0, 4.0]
    assert len({tuple(r) for r in raw.tolist()}) == 25
    x = ds.sample(5000, gen())
    residual = x.double() - ds.centers[torch.cdist(x.double(), ds.centers).argmin(dim=1)]
    assert residual.std(dim=0).sub(0.05 / 2.828).abs().max() < 0.002


def test_parameters_override_and_reject_unknown():
    ds = build_dataset("8gaussians", radius=1.0, std=0.1, scale=1.0)
    assert torch.allclose(ds.centers.norm(dim=1), torch.ones(8, dtype=torch.float64))
    with pytest.raises(ValueError, match="valid parameters: modes, radius, scale, std"):
        build_dataset("8gaussians", sigma=0.1)
