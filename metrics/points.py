"""The points side of evaluation: what the metrics of 2-D data take (the generated
points themselves), the points and per-class points kept for the figures, the
discriminator's score on a grid around the data, and batch norm set to evaluation
mode before any sample is drawn. ``metrics.images`` builds the image side on this."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from gans import layout, safe_io

CONTOUR_BATCH = 500


class PointInputs:
    """Points: metrics take the generated points themselves."""

    classifier = True  # a point's class is the mode it lands on
    adjusted: dict[str, dict] = {}  # settings used other than asked
    class_grid = 100  # points kept per class and evaluation point in samples.npz

    def __init__(self, dataset, variant, eval_cfg, run):
        self.dataset, self.variant, self.cfg, self.run = dataset, variant, eval_cfg, run

    def real(self):
        return self.dataset.sample(self.cfg["num_samples"], torch.Generator().manual_seed(self.cfg["seed"]))

    def generate(self, gen):
        return self.variant.sample(self.cfg["num_samples"], gen)

    def per_class_count(self) -> int:
        return max(1, self.cfg["num_samples"] // self.dataset.num_classes)

    def generate_classes(self, gen) -> list:
        return [self.variant.sample_class(self.per_class_count(), k, gen) for k in range(self.dataset.num_classes)]

    def keep_classes(self, by_class, step):
        return np.stack([f[: self.class_grid].numpy().astype(np.float32) for f in by_class])

    def finite(self, fake) -> bool:
        return bool(torch.isfinite(fake).all())

    def measure(self, fake):
        return fake

    def keep(self, fake, step):
        return fake.numpy().astype(np.float32)

    def real_samples(self, real):
        return real.numpy()


class DiracInputs(PointInputs):
    """The Dirac-GAN: metrics take both players' parameters, theta (G's one output) and
    psi (D's one weight), read from the networks at each evaluation point."""

    classifier = False

    def measure(self, fake):
        from gans.architectures.dirac import theta_psi

        theta, psi = theta_psi(self.variant.generator, self.variant.discriminator)
        return {"theta": theta, "psi": psi}


def variant_eval(variant) -> None:
    """Batch norm in evaluation mode: samples must not depend on the batch drawn with them."""
    for module in variant.modules().values():
        if isinstance(module, torch.nn.Module):
            module.eval()


def contour_grid(run: Path, cfg, dataset, variant, resolution: int) -> dict[str, np.ndarray]:
    """The final discriminator's score on a square grid around the data."""
    ckpt = safe_io.load_tensors(run / layout.CHECKPOINT)
    variant.load_state_dict(ckpt["state"])
    extent = float(dataset.centers.abs().max()) * 1.5 + 0.1
    axis = torch.linspace(-extent, extent, resolution)
    xx, yy = torch.meshgrid(axis, axis, indexing="xy")
    points = torch.stack([xx.flatten(), yy.flatten()], 1)
    # in batches: a D with minibatch discrimination compares every pair in its batch
    score = torch.cat([variant.discriminate(chunk) for chunk in points.split(CONTOUR_BATCH)]).reshape(
        resolution, resolution
    )
    return {"grid_x": axis.numpy(), "grid_y": axis.numpy(), "d_score": score.numpy()}
