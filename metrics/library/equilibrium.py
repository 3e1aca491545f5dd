"""The Dirac-GAN's distance to its equilibrium (Mescheder et al. 2018): with real data
at 0, G_theta(z) = theta and D_psi(x) = psi * x, the game's one equilibrium is
(theta, psi) = (0, 0). Evaluation hands this metric both players' parameters
(metrics.evaluate.DiracInputs); it reports them and their Euclidean norm."""

from __future__ import annotations

import math

from metrics import METRICS, Metric


@METRICS.register("equilibrium")
class Equilibrium(Metric):
    modalities = ("dirac",)
    # theta and psi are reported too, without a direction (the phase portrait draws them)
    higher_is_better = {"equilibrium_distance": False}

    def compute(self, fake):
        theta, psi = float(fake["theta"]) - float(self.dataset.at), float(fake["psi"])
        return {"equilibrium_distance": math.hypot(theta, psi), "theta": theta, "psi": psi}
