import math

import numpy as np
import pytest
import scipy.linalg
import torch

from gans.datasets import build_dataset
from metrics import METRICS
from metrics.library.modes import mode_statistics, parse_mode_set

EVAL = {
    "seed": 0,
    "modes": {"hq_std": 3.0, "min_count": 1, "min_confidence": 0.99},
    "kid": {"subsets": 10, "subset_size": 200},
    "prc": {"neighborhood": 3},
    "prdc": {"nearest_k": 5},
}


def points_on_modes(ds, modes, n_per_mode, seed=0, spread=1.0):
    g = torch.Generator().manual_seed(seed)
    centers = ds.centers[list(modes)].repeat_interleave(n_per_mode, 0)
    return (centers + spread * ds.mode_std * torch.randn(centers.shape, generator=g, dtype=torch.float64)).float()


def test_points_from_five_of_eight_modes():
    ds = build_dataset("8gaussians")
    stats = mode_statistics(points_on_modes(ds, [0, 1, 2, 5, 7], 100, spread=0.5), ds.centers, ds.mode_std)
    assert stats["modes_covered"] == 5 and stats["modes_set"] == "0 1 2 5 7"
    assert stats["modes_total"] == 8
    assert stats["hq_fraction"] == 1.0
    # uniform over 5 of 8 modes: KL = log(8/5)
    assert stats["reverse_kl"] == pytest.approx(math.log(8 / 5), rel=1e-9)


def test_uniform_coverage_has_zero_reverse_kl_and_far_points_are_low_quality():
    ds = build_dataset("25gaussians")
    on = points_on_modes(ds, range(25), 40, spread=0.5)
    far = on + 10 * ds.mode_std  # every coordinate 10 std off: no longer high quality
    stats = mode_statistics(torch.cat([on, far]), ds.centers, ds.mode_std)
    assert stats["modes_covered"] == 25
    assert stats["hq_fraction"] == pytest.approx(0.5)
    assert stats["reverse_kl"] == pytest.approx(0.0, abs=1e-12)


def test_min_count_and_no_high_quality_samples():
    ds = build_dataset("8gaussians")
    pts = torch.cat([points_on_modes(ds, [0], 10, spread=0.1), points_on_modes(ds, [1], 2, spread=0.1)])
    assert mode_statistics(pts, ds.centers, ds.mode_std, min_count=5)["modes_covered"] == 1
    nowhere = torch.zeros(50, 2)  # the origin is far from every mode on the circle
    stats = mode_statistics(nowhere, ds.centers, ds.mode_std)
    assert stats["modes_covered"] == 0 and stats["hq_fraction"] == 0 and math.isnan(stats["reverse_kl"])
    assert stats["modes_set"] == "" and parse_mode_set(stats["modes_set"]) == frozenset()
    assert parse_mode_set("0 3 5") == {0, 3, 5} and parse_mode_set(math.nan) == frozenset()  # an empty CSV cell


def metric(name, real):
    return METRICS.get(name)(EVAL, build_dataset("8gaussians"), real)


def test_precision_recall_identical_and_disjoint():
    ds = build_dataset("8gaussians")
    real = ds.sample(1000, torch.Generator().manual_seed(0))
    prc = metric("prc", real)
    same = prc.compute(real.clone())
    assert same["precision"] == 1.0 and same["recall"] == 1.0
    disjoint = prc.compute(real + 100.0)
    assert disjoint["precision"] == 0.0 and disjoint["recall"] == 0.0
    half = prc.compute(points_on_modes(ds, range(4), 250))  # half the modes, sharp
    assert half["precision"] > 0.9 and 0.3 < half["recall"] < 0.7


def brute_force_density_coverage(real, fake, k):
    """Naeem et al. 2020, eq. 5 and 6, by explicit loops over samples (no prdc, no sklearn)."""
    real, fake = real.tolist(), fake.tolist()

    def dist(a, b):
        return math.sqrt(sum((x - y) ** 2 for x, y in zip(a, b, strict=True)))

    # the k-th nearest neighbour among the other real samples (the sample itself excluded)
    radius = [sorted(dist(r, o) for j, o in enumerate(real) if j != i)[k - 1] for i, r in enumerate(real)]
    inside = [[dist(r, f) < radius[i] for f in fake] for i, r in enumerate(real)]
    density = sum(sum(row[j] for row in inside) for j in range(len(fake))) / (k * len(fake))
    coverage = sum(any(row) for row in inside) / len(real)
    return density, coverage


@pytest.mark.parametrize("shift", [0.0, 0.5, 3.0])
def test_density_and_coverage_match_a_brute_force_computation(shift):
    g = torch.Generator().manual_seed(1)
    real = torch.randn(40, 3, generator=g, dtype=torch.float64)
    fake = torch.randn(30, 3, generator=g, dtype=torch.float64) * 0.7 + shift
    out = metric("prdc", real).compute(fake)
    density, coverage = brute_force_density_coverage(real, fake, k=5)
    assert out["density"] == pytest.approx(density, rel=1e-12) and out["coverage"] == pytest.approx(coverage, rel=1e-12)


def test_density_and_coverage_of_identical_and_disjoint_samples():
    ds = build_dataset("8gaussians")
    real = ds.sample(500, torch.Generator().manual_seed(0))
    prdc = metric("prdc", real)
    assert prdc.compute(real.clone())["coverage"] == 1.0
    assert prdc.compute(real + 100.0) == {"density": 0.0, "coverage": 0.0}
    half = prdc.compute(points_on_modes(ds, range(4), 125))  # half the modes: half the real samples covered
    assert 0.4 < half["coverage"] < 0.6


def test_fid_matches_an_independent_scipy_computation():
    g = torch.Generator().manual_seed(0)
    real = torch.randn(3000, 2, generator=g) @ torch.tensor([[1.0, 0.3], [0.0, 0.5]])
    fake = torch.randn(2000, 2, generator=g) * 0.7 + torch.tensor([0.4, -0.2])
    ours = metric("fid", real).compute(fake)["fid"]

    def stats(x):
        x = x.double().numpy()
        return x.mean(0), np.cov(x, rowvar=False)

    (m1, s1), (m2, s2) = stats(fake), stats(real)
    covmean = scipy.linalg.sqrtm(s1 @ s2).real
    reference = float(((m1 - m2) ** 2).sum() + np.trace(s1 + s2 - 2 * covmean))
    assert ours == pytest.approx(reference, rel=1e-6)
    assert metric("fid", real).compute(real.clone())["fid"] == pytest.approx(0.0, abs=1e-9)


def test_kid_is_near_zero_for_the_same_distribution_and_large_for_a_shifted_one():
    ds = build_dataset("8gaussians")
    real = ds.sample(1000, torch.Generator().manual_seed(0))
    kid = metric("kid", real)
    same = kid.compute(ds.sample(1000, torch.Generator().manual_seed(1)))
    shifted = kid.compute(ds.sample(1000, torch.Generator().manual_seed(1)) + 1.0)["kid"]
    # unbiased estimate: the same distribution gives zero within the subsets' spread
    assert abs(same["kid"]) < same["kid_std"] and shifted > 100 * same["kid_std"]


@pytest.mark.parametrize("name", METRICS.names())
def test_every_metric_declares_its_columns(name):
    cls = METRICS.get(name)
    if "dirac" in cls.modalities:  # the Dirac-GAN's metric takes both players' parameters
        out = cls({}, build_dataset("dirac"), None).compute({"theta": 0.3, "psi": -0.4})
        assert set(cls.higher_is_better) <= set(out) and out["equilibrium_distance"] == pytest.approx(0.5)
        return
    ds = build_dataset("8gaussians")
    real = ds.sample(300, torch.Generator().manual_seed(0))
    if "points" not in cls.modalities:  # image metrics take the extractor's outputs
        g = torch.Generator().manual_seed(0)
        real = {"features": torch.randn(300, 8, generator=g), "logits": torch.randn(300, 10, generator=g)}
    cfg = {
        **EVAL,
        "kid": {"subsets": 2, "subset_size": 100},
        "images": {"num_samples": 300, "mode_samples": 300, "isc_splits": 2},
    }
    fake = {k: v.clone() for k, v in real.items()} if isinstance(real, dict) else real.clone()
    out = cls(cfg, ds, real).compute([fake] * 3 if cls.per_class else fake)  # per-class metrics: one entry a class
    assert set(cls.higher_is_better) <= set(out)
