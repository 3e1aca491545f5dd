"""Calibration values of a mixture: held-out real data reads as real, uniform noise
and an untrained generator do not, each over several draws."""

import copy

import pytest

from analysis import config as acfg
from gans import config as gcfg
from metrics import calibration, calibration_files
from metrics.config import resolve_eval
from tests.conftest import TINY


def test_mixture_calibration_separates_real_from_noise():
    cfg = acfg.validate(copy.deepcopy(TINY))
    ev = {**resolve_eval(cfg, "8gaussians"), "num_samples": 1000}
    record = calibration.calibrate(gcfg.resolve_run(cfg, "8gaussians", "gan", "nonsaturating", 0), ev, draws=3)
    assert calibration_files.calibration_path("8gaussians", ev) == "results/calibration/8gaussians/points_1000.json"
    real, noise, untrained = (record[k]["mean"] for k in calibration_files.KINDS)
    # a 2-D Gaussian holds 1 - exp(-9/2) = 98.9% of its mass within 3 stds
    assert real["hq_fraction"] == pytest.approx(0.989, abs=0.01) and real["modes_covered"] == 8
    assert noise["hq_fraction"] < 0.02 and untrained["hq_fraction"] < 0.02
    assert real["fid"] < noise["fid"] and real["fid"] < untrained["fid"]
    assert real["precision"] > 0.8 and noise["precision"] < 0.1
    # three draws each, their range around the mean
    assert len(record["noise"]["draws"]) == 3
    assert record["real"]["min"]["fid"] <= real["fid"] <= record["real"]["max"]["fid"]
    assert calibration_files.value(record, "noise", "fid") == noise["fid"]
    assert calibration_files.value(record, "noise", "isc") != calibration_files.value(
        record, "noise", "isc"
    )  # not measured: nan
