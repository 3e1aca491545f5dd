"""What the metrics take from each data modality (points, images, the Dirac-GAN's
parameters): the inputs class evaluation and calibration build for a dataset."""

from __future__ import annotations

from metrics.images import ImageInputs
from metrics.points import DiracInputs, PointInputs

INPUTS = {"points": PointInputs, "images": ImageInputs, "dirac": DiracInputs}
