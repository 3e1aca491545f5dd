"""The expected best score after k settings (metrics/expected_best.py) against brute force."""

import itertools

import numpy as np
import pandas as pd
import pytest

from analysis import expected_best


def brute_force(values: np.ndarray, k: int) -> float:
    """The mean, over every k-subset of the values, of the subset's best."""
    return float(np.mean([max(values[list(c)]) for c in itertools.combinations(range(len(values)), k)]))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_expected_best_equals_the_mean_over_every_subset(seed):
    values = np.random.default_rng(seed).integers(0, 6, size=9).astype(float)  # ties included
    curve = expected_best.expected_best(values)
    assert curve == pytest.approx([brute_force(values, k) for k in range(1, 10)])
    assert curve[-1] == values.max() and curve[0] == pytest.approx(values.mean())


def test_a_diverged_setting_leaves_the_curve_undefined_where_all_k_may_have_diverged():
    values = np.array([3.0, -np.inf, 7.0, -np.inf, 1.0, 4.0])
    curve = expected_best.expected_best(values)
    assert np.isnan(curve[:2]).all()
    assert curve[2:] == pytest.approx([brute_force(values, k) for k in range(3, 7)])
    assert expected_best.p_all_diverged(6, 2, 2) == pytest.approx(1 / 15) and expected_best.p_all_diverged(6, 2, 3) == 0


def settings(scores, higher=True, diverged=None, loss="l"):
    return pd.DataFrame(
        {
            "dataset": "d",
            "variant": "gan",
            "setting": "default",
            "loss": loss,
            "index": range(len(scores)),
            "metric": "fid" if not higher else "modes_covered",
            "higher_is_better": higher,
            "score": scores,
            "diverged": diverged or [False] * len(scores),
        }
    )


def test_table_in_the_metrics_units_with_a_band_and_diverged_settings_as_the_worst():
    fid = settings([50.0, 20.0, 80.0, np.nan, 30.0], higher=False, diverged=[False, False, False, True, False])
    t = expected_best.table(fid, resamples=500, confidence=0.9, seed=0)
    # lower is better: the best of k is the smallest; the diverged setting counts as 80 (the worst seen)
    assert t["expected_best"].tolist() == pytest.approx(
        [brute_force(np.array([-50.0, -20, -80, -80, -30]), k) * -1 for k in range(1, 6)]
    )
    assert (t["band_low"] <= t["expected_best"] + 1e-9).all() and (t["expected_best"] <= t["band_high"] + 1e-9).all()
    assert t["expected_best"].is_monotonic_decreasing and t["p_all_diverged"].tolist()[:2] == [0.2, 0.0]
    assert set(t["of"]) == {5} and (t["confidence"] == 0.9).all()


def test_the_search_figures_draw_the_curves_per_dataset(tmp_path):
    import matplotlib.pyplot as plt
    from matplotlib import ticker

    from analysis import search_tables
    from analysis.figures import search as figures
    from gans.config import section_defaults

    cells = pd.concat(
        [settings([3.0, 8, 5, 1, 6, 7], loss=loss).assign(dataset="8gaussians") for loss in ("hinge", "wgan")]
    )
    cells = cells.assign(d_updates=[4000.0, 5000, 6000, 4500, 5200, 4800] * 2, g_updates=0.0, wall_time_share_s=1.0)
    opts = section_defaults("figures", {"dpi": 50})
    figures.plot_score_vs_budget(expected_best.table(cells, 100, 0.95, 0), tmp_path, opts)
    assert "score_vs_budget" in figures.FIGURES and (tmp_path / "score_vs_budget.png").stat().st_size > 5_000
    # the budget figure's log axis within about a decade: major ticks at 1-2-5 labelled, minor ones not
    fig, ax = plt.subplots()
    figures._log_ticks(ax)
    ax.set_xlim(4e3, 5e4)
    assert isinstance(ax.xaxis.get_minor_formatter(), ticker.NullFormatter)
    labels = [ax.xaxis.get_major_formatter()(x) for x in ax.get_xticks() if 4e3 <= x <= 5e4]
    assert labels == ["5k", "10k", "20k", "50k"]
    plt.close(fig)
    figures.plot_budget(search_tables.budget_table(cells, 50, 0), tmp_path, opts)
    assert (tmp_path / "budget.png").stat().st_size > 5_000
