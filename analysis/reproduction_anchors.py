"""The published numbers the reproductions table sets the suite's beside: per
anchor, a paper's numbers for one method on one data set, with their spread, the
protocol's length and where they come from (the protocols themselves:
docs/reproductions.md)."""

from __future__ import annotations

from dataclasses import dataclass

PACGAN_SOURCE = (
    "PacGAN Table 1 (Lin et al. 2018; fjxmlzn/PacGAN synthetic_data_experiments/results/Table1.png), "
    "protocol from the same repository's 2DRing/2DGrid config.py and pacgan_task.py"
)
VEEGAN_SOURCE = "VEEGAN Table 1 (Srivastava et al. 2017; akashgit/VEEGAN tab.png, index.md)"


@dataclass(frozen=True)
class Anchor:
    """Published numbers: metric -> (mean, spread or None), with how they were made."""

    paper: str
    method: str
    data: str
    values: dict[str, tuple[float, float | None]]
    source: str
    steps: int | None  # the protocol's generator updates (None: not stated)
    trials: int | None
    spread: str = "standard error"
    claim: str = "mean"  # "mean": compare means; "all-modes": every run covers every mode
    runnable: str = ""  # why the protocol cannot run here, if it cannot


def _pacgan(method: str, data: str, modes, hq, rkl) -> Anchor:
    return Anchor(
        "PacGAN",
        method,
        data,
        {"modes_covered": modes, "hq_fraction": hq, "reverse_kl": rkl},
        PACGAN_SOURCE,
        steps=400_000,  # 400 epochs of the 100,000-point pool at batch 100
        trials=10,
    )


RING = "2D-ring: 8 modes, radius 1, std 0.01"
GRID = "2D-grid: 25 modes at {-4,-2,0,2,4}^2, std 0.05"
NO_VEEGAN = (
    "not run: VEEGAN's 2-D set-up (notebook VEEGAN_2D_RING.ipynb) is not in the authors' stored "
    "repository, so its data spread, networks and optimizer are unknown"
)


def _veegan_gan(data: str, modes: float, hq: float) -> Anchor:
    """VEEGAN's GAN row: means of 5 runs, no spread, its 2-D protocol not stored."""
    return Anchor(
        "VEEGAN",
        "GAN",
        data,
        {"modes_covered": (modes, None), "hq_fraction": (hq, None)},
        VEEGAN_SOURCE,
        None,
        5,
        spread="none published (mean of 5 runs)",
        runnable=NO_VEEGAN,
    )


PUBLISHED: dict[str, Anchor] = {
    "pacgan-ring-gan": _pacgan("GAN", RING, (6.3, 0.5), (0.982, 0.002), (0.45, 0.09)),
    "pacgan-ring-pacgan2": _pacgan("PacGAN2", RING, (7.9, 0.1), (0.956, 0.020), (0.07, 0.03)),
    "pacgan-grid-gan": _pacgan("GAN", GRID, (17.3, 0.8), (0.948, 0.007), (0.70, 0.07)),
    "pacgan-grid-pacgan2": _pacgan("PacGAN2", GRID, (23.8, 0.7), (0.913, 0.008), (0.13, 0.04)),
    "veegan-ring-gan": _veegan_gan("ring of 8", modes=1.0, hq=0.993),
    "veegan-grid-gan": _veegan_gan("grid of 25", modes=3.3, hq=0.005),
    "wgan-gp-toy-25gaussians": Anchor(
        "WGAN-GP",
        "WGAN-GP (toy code)",
        "25 Gaussians at {-4..4}^2 / 2.828, std 0.05 / 2.828",
        {"modes_covered": (25.0, None)},
        "WGAN-GP toy figure (Gulrajani et al. 2017), protocol igul222/improved_wgan_training gan_toy.py",
        steps=100_000,
        trials=1,
        spread="none (one run in a figure)",
        claim="all-modes",
    ),
}
# differences the papers' conclusions rest on: (anchor a, anchor b, metric), a minus b
GAPS = [
    ("pacgan-grid-pacgan2", "pacgan-grid-gan", "modes_covered"),
    ("pacgan-ring-pacgan2", "pacgan-ring-gan", "modes_covered"),
]
NOTES = [
    "Measured numbers: mean ± standard error over seeds (PacGAN's Table 1 reports mean ± standard error "
    "over 10 trials), each seed's value at its last evaluation point; the trend column gives the mean over "
    "seeds at each evaluation step.",
    "High quality: within 3 standard deviations of the nearest mode; a mode is covered by at least one "
    "high-quality sample; 2,500 samples per model (PacGAN and VEEGAN).",
    "Reverse KL: PacGAN's released code does not compute it (it logs the JS divergence and entropy of the "
    "mode histogram). Here it is KL(p || uniform) with p the histogram over modes of the high-quality samples "
    "(metrics/library/modes.py); the paper's exact definition could not be checked.",
    "Verdict 'agrees': the means differ by at most 2 combined standard errors.",
]
