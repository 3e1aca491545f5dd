"""analysis.compare on constructed tables folders: two folders that agree within their
intervals (other per-seed numbers, other thread counts), two that disagree, and
folders of different configs, which it refuses, naming the difference."""

import json

import numpy as np
import pandas as pd
import pytest

from analysis import aggregate, compare, comparison, intervals
from gans.config import section_defaults

DIRS = {"modes_covered": True, "hq_fraction": True}
OPTS = section_defaults("analysis")


def write_tables(folder, cells, threads=1, lr_d=4e-4, num_samples=2000, metrics=("modes", "fid")):
    """A tables folder as analysis.aggregate writes it, from per-cell final mode counts
    and high-quality shares (a run converges when it covers all 8 modes)."""
    rows = []
    for loss, values in cells.items():
        for seed, (modes, hq) in enumerate(values):
            rows.append(
                {
                    "dataset": "8gaussians",
                    "variant": "gan",
                    "setting": "default",
                    "loss": loss,
                    "seed": seed,
                    "modes_covered": modes,
                    "modes_total": 8,
                    "hq_fraction": hq,
                    "outcome": "converged" if modes == 8 else "collapsed",
                    "converged": modes == 8,
                    "hp.train.threads": threads,
                    "hp.optimizer.lr_d": lr_d,
                }
            )
    runs = pd.DataFrame(rows)
    ci = intervals.options(OPTS)
    folder.mkdir(parents=True)
    runs.to_csv(folder / "runs.csv", index=False)
    aggregate.summarize(runs, DIRS, [], ci).to_csv(folder / "summary.csv", index=False)
    comparison.rankings(runs, {"8gaussians": "modes_covered"}, DIRS, ci).to_csv(folder / "rankings.csv", index=False)
    provenance = {
        "runs": len(runs),
        "code_versions": {"abc1234": len(runs)},
        "processors": {f"CPU with {threads} threads": len(runs)},
        "threads": {str(threads): len(runs)},
        "torch": {"torch 2.13.0": len(runs)},
        "evaluation": {
            "8gaussians": {
                "num_samples": num_samples,
                "seed": 2024,
                "metrics": list(metrics),
                **({"prdc": {"nearest_k": 5}} if "prdc" in metrics else {}),
            }
        },
        "analysis": OPTS,
    }
    (folder / "provenance.json").write_text(json.dumps(provenance))
    return folder


GOOD = [(8, 0.55), (8, 0.6), (8, 0.5), (8, 0.52), (8, 0.58)]
BAD = [(2, 0.3), (3, 0.2), (1, 0.25), (2, 0.3), (3, 0.28)]


def test_folders_that_agree_within_their_intervals(tmp_path):
    a = write_tables(tmp_path / "a", {"nonsaturating": GOOD, "wgan": BAD})
    # another machine: other per-seed values, one seed's outcome changed, other thread count
    other_bad = [(3, 0.25), (2, 0.3), (2, 0.22), (1, 0.3), (8, 0.31)]
    b = write_tables(tmp_path / "b", {"nonsaturating": GOOD[::-1], "wgan": other_bad}, threads=2)
    word, report = compare.compare(a, b)
    assert word == "agree", report
    assert "hp.train.threads" not in report.split("Execution differences")[0]
    assert "train.threads: A 1 vs B 2" in report and "Single runs whose outcome changed: 1 of 10" in report
    assert compare.main([str(a), str(b), "--out", str(tmp_path / "r.md")]) == 0
    assert (tmp_path / "r.md").read_text() == report


def test_folders_that_disagree(tmp_path):
    a = write_tables(tmp_path / "a", {"nonsaturating": GOOD, "wgan": BAD})
    b = write_tables(tmp_path / "b", {"nonsaturating": BAD, "wgan": GOOD})
    word, report = compare.compare(a, b)
    assert word == "disagree"
    cells = compare.cell_table(compare.load(a), compare.load(b)).set_index("loss")
    assert not cells.loc["nonsaturating", "success overlap"] and not cells.loc["wgan", "main overlap"]
    assert "headline intervals do not overlap in 8gaussians gan / nonsaturating (success, main)" in report
    orders = compare.ordering_changes(compare.load(a), compare.load(b))
    assert orders["reversed"].tolist() == [True] and "1 significant orderings reversed" in report
    assert compare.main([str(a), str(b)]) == 1


def test_secondary_metrics_apart_agree_on_headlines(tmp_path):
    a = write_tables(tmp_path / "a", {"nonsaturating": GOOD})
    b = write_tables(tmp_path / "b", {"nonsaturating": [(8, hq - 0.3) for _, hq in GOOD]})
    word, report = compare.compare(a, b)
    assert word == "agree on headlines" and "hq_fraction" in report


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"lr_d": 1e-4}, "hp.optimizer.lr_d: A 0.0004 vs B 0.0001 (in 10 runs"),
        ({"num_samples": 500}, "evaluation: 8gaussians.num_samples: A 2000 vs B 500"),
    ],
)
def test_folders_of_different_configs_are_refused(tmp_path, change, named, capsys):
    a = write_tables(tmp_path / "a", {"nonsaturating": GOOD, "wgan": BAD})
    b = write_tables(tmp_path / "b", {"nonsaturating": GOOD, "wgan": BAD}, **change)
    with pytest.raises(compare.Refused, match="different configs") as err:
        compare.compare(a, b)
    assert named in str(err.value)
    with pytest.raises(SystemExit) as exit_:
        compare.main([str(a), str(b)])
    assert exit_.value.code == 2 and named in capsys.readouterr().err


def test_a_metric_measured_on_one_side_only_leaves_the_folders_comparable(tmp_path):
    """A reference made before density/coverage joined the defaults compares with a new run."""
    a = write_tables(tmp_path / "a", {"nonsaturating": GOOD, "wgan": BAD})
    b = write_tables(tmp_path / "b", {"nonsaturating": GOOD, "wgan": BAD}, metrics=("modes", "fid", "prdc"))
    assert compare.config_differences(compare.load(a), compare.load(b)) == []
    c = write_tables(tmp_path / "c", {"nonsaturating": GOOD, "wgan": BAD}, num_samples=500, metrics=("modes", "prdc"))
    assert (
        compare.config_differences(compare.load(b), c_ := compare.load(c))
        == ["evaluation: 8gaussians.num_samples: A 2000 vs B 500"]
        and c_
    )


def test_folders_of_other_runs_are_refused(tmp_path):
    a = write_tables(tmp_path / "a", {"nonsaturating": GOOD, "wgan": BAD})
    b = write_tables(tmp_path / "b", {"nonsaturating": GOOD[:4], "wgan": BAD})
    with pytest.raises(compare.Refused, match="runs only in A: 8gaussians/gan/default/nonsaturating/4"):
        compare.compare(a, b)
    with pytest.raises(FileNotFoundError, match="lacks runs.csv"):
        compare.load(tmp_path / "nowhere")
    assert np.isnan(compare._interval(pd.Series({"x_median": 1.0}), "x_median")[1])


def test_power_notes_agreement_that_says_little(tmp_path):
    # 0/5 against 0/5: the intervals [0, 0.43] overlap whatever the truth
    a = write_tables(tmp_path / "a", {"nonsaturating": BAD, "wgan": GOOD})
    b = write_tables(tmp_path / "b", {"nonsaturating": BAD[::-1], "wgan": GOOD[::-1]})
    word, report = compare.compare(a, b)
    assert word == "agree" and "**Power: low.** In 2 of 2 cells the agreement says little" in report
    assert "both at 0 in 8gaussians gan / nonsaturating" in report
    assert "both at 100% in 8gaussians gan / wgan" in report
    cells = compare.cell_table(compare.load(a), compare.load(b)).set_index("loss")
    assert cells.loc["nonsaturating", "widest success"] == pytest.approx(intervals.wilson(0, 5)[1], abs=1e-3)


def test_power_wide_intervals_against_a_stated_bound(tmp_path):
    half = [GOOD[0], BAD[0], GOOD[1], BAD[1]]  # 2/4: Wilson [0.15, 0.85], 0.70 wide
    a = write_tables(tmp_path / "a", {"nonsaturating": half})
    b = write_tables(tmp_path / "b", {"nonsaturating": half[::-1]})
    word, report = compare.compare(a, b)
    assert (
        word == "agree" and "**Power: low.**" in report and "wide (> 0.5) in 8gaussians gan / nonsaturating" in report
    )
    _, report = compare.compare(a, b, bound=0.8)
    assert "**Power: adequate.** Every cell's success-rate intervals are at most 0.8 wide (widest: 0.70)" in report
    assert compare.main([str(a), str(b), "--max-width", "0.8", "--out", str(tmp_path / "r.md")]) == 0
    assert "**Power: adequate.**" in (tmp_path / "r.md").read_text()


def test_power_adequate_with_enough_seeds(tmp_path):
    many = [GOOD[i % 5] if i % 2 else BAD[i % 5] for i in range(30)]  # 15/30: Wilson about 0.34 wide
    a = write_tables(tmp_path / "a", {"nonsaturating": many, "wgan": many[1:] + many[:1]})
    b = write_tables(tmp_path / "b", {"nonsaturating": many[::-1], "wgan": many})
    word, report = compare.compare(a, b)
    assert word == "agree" and "**Power: adequate.**" in report


def test_an_analysis_option_added_by_a_later_code_version_is_listed_not_refused(tmp_path):
    a = write_tables(tmp_path / "a", {"nonsaturating": GOOD, "wgan": BAD})
    b = write_tables(tmp_path / "b", {"nonsaturating": GOOD, "wgan": BAD})
    older = json.loads((a / "provenance.json").read_text())
    del older["analysis"]["correction"]  # tables made before the option existed
    (a / "provenance.json").write_text(json.dumps(older))
    word, report = compare.compare(a, b)
    assert word == "agree" and "analysis options recorded only in B (a later code version): correction" in report
