"""The reproductions table on constructed results: intervals, verdicts, gaps."""

import json

import pandas as pd
import pytest
import yaml

from analysis import reproductions as rep
from gans import layout

CELLS = {
    "pacgan-grid-gan": {"dataset": "2d-grid", "variant": "gan", "loss": "nonsaturating"},
    "pacgan-grid-pacgan2": {"dataset": "2d-grid", "variant": "pacgan", "loss": "nonsaturating"},
    "wgan-gp-toy-25gaussians": {"dataset": "25gaussians", "variant": "gan", "loss": "wgan-gp"},
}


def make_run(root, dataset, variant, loss, seed, trajectory, steps=4000, status="completed", seeds_in_job=1):
    """A run folder as training and evaluation leave it: modes at each step."""
    run = root / dataset / variant / loss / f"seed{seed}"
    run.mkdir(parents=True)
    cfg = {"dataset": {"name": dataset}, "variant": {"name": variant}, "loss": {"name": loss}, "seed": seed}
    (run / layout.RESOLVED_CONFIG).write_text(yaml.safe_dump(cfg))
    rows = [{"step": s, "modes_covered": m, "hq_fraction": 0.9, "reverse_kl": 0.2} for s, m in trajectory]
    pd.DataFrame(rows).to_csv(run / layout.METRICS_TABLE, index=False)
    final = {k: v for k, v in rows[-1].items() if k != "step"}
    if status == "diverged":
        final = {k: None for k in final}
    result = {
        "status": status,
        "final": final,
        "train": {"steps_planned": steps, "wall_time_s": 100.0 + seed, "seeds_in_job": seeds_in_job},
    }
    (run / layout.METRICS_FINAL).write_text(json.dumps(result))
    return run


def rows_of(table, reproduction, metric):
    return table[(table["reproduction"] == reproduction) & (table["metric"] == metric)].iloc[0]


def test_agreement_uses_both_standard_errors():
    assert rep.agreement(17.0, 0.5, 17.3, 0.8)[0]
    ok, tol = rep.agreement(14.0, 0.5, 17.3, 0.8)
    assert not ok and tol == pytest.approx(2 * (0.5**2 + 0.8**2) ** 0.5)
    assert rep.mean_se([1.0, 3.0, None, float("nan")]) == (2.0, 1.0, 2)


def test_heading_compares_the_end_with_half_way():
    assert rep.heading({500: 10.0, 1000: 12.0, 2000: 15.0}, se=1.0) == "rising"
    assert rep.heading({500: 10.0, 1000: 12.0, 2000: 12.5}, se=1.0) == "flat"
    assert rep.heading({1000: 12.0, 2000: 9.0}, se=1.0) == "falling"


def test_table_sets_measured_beside_published_with_verdicts(tmp_path):
    runs = []
    for seed, end in enumerate([12, 13, 14, 13, 13]):  # GAN: below 17.3, still rising
        runs.append(make_run(tmp_path, "2d-grid", "gan", "nonsaturating", seed, [(2000, 8), (4000, end)]))
    for seed, end in enumerate([23, 24, 25, 24, 23]):  # PacGAN2: 23.8 ± 0.7 published
        runs.append(make_run(tmp_path, "2d-grid", "pacgan", "nonsaturating", seed, [(2000, 20), (4000, end)]))
    for seed, end in enumerate([25, 25, 24]):
        run = make_run(tmp_path, "25gaussians", "gan", "wgan-gp", seed, [(2000, end)], steps=2000, seeds_in_job=3)
        runs.append(run)
    table = rep.reproductions_table(runs, CELLS)

    gan = rows_of(table, "pacgan-grid-gan", "modes_covered")
    assert gan["measured_mean"] == 13.0 and gan["seeds"] == 5 and gan["published_mean"] == 17.3
    assert gan["verdict"].startswith("differs: measured lower by 4.3")
    assert "at 1.0% of the published 400,000 steps, rising toward the published value" in gan["verdict"]
    assert "not on the modes" not in gan["verdict"]  # high quality 90% of the published 94.8%
    low = rep.Measured(finals={"modes_covered": [10.0, 11.0], "hq_fraction": [0.02, 0.03]}, seeds=2, steps=4000)
    note = rep.verdict(rep.PUBLISHED["pacgan-grid-gan"], "modes_covered", low)
    assert note.endswith("its samples are not on the modes yet (high quality 2.5% vs 94.8% published)")
    assert gan["trend"] == "2000: 8; 4000: 13" and gan["wall_time_s"] == 102.0
    pac = rows_of(table, "pacgan-grid-pacgan2", "modes_covered")
    assert pac["verdict"].startswith("agrees")
    wgan = rows_of(table, "wgan-gp-toy-25gaussians", "modes_covered")
    assert wgan["verdict"] == "not reproduced: 2 of 3 seeds cover all 25"
    assert wgan["wall_time_s"] == pytest.approx(101.0 / 3)  # one population of 3 shares its job's wall time
    gap = rows_of(table, "pacgan-grid-pacgan2 - pacgan-grid-gan", "modes_covered gap")
    assert gap["measured_mean"] == pytest.approx(10.8) and gap["published_mean"] == pytest.approx(6.5)
    assert gap["verdict"].startswith("direction reproduced; size differs")
    # anchors whose protocol cannot run here are listed with the reason
    veegan = rows_of(table, "veegan-grid-gan", "modes_covered")
    assert veegan["verdict"].startswith("not run: VEEGAN's 2-D set-up")
    # the ring anchors were not mapped to a cell: absent
    assert "pacgan-ring-gan" not in set(table["reproduction"])

    rep.write(table, tmp_path / "tables")
    md = (tmp_path / "tables" / "reproductions.md").read_text()
    assert "17.3 ± 0.8" in md and "13 ± 0.32 (5 seeds)" in md and "Reverse KL" in md
    assert len(pd.read_csv(tmp_path / "tables" / "reproductions.csv")) == len(table)


def test_a_reproduction_that_holds_and_one_that_diverged(tmp_path):
    runs = [make_run(tmp_path, "25gaussians", "gan", "wgan-gp", s, [(2000, 25)], steps=2000) for s in range(3)]
    runs += [make_run(tmp_path, "2d-grid", "gan", "nonsaturating", 0, [(4000, 3)], status="diverged")]
    table = rep.reproductions_table(runs, {k: CELLS[k] for k in ("wgan-gp-toy-25gaussians", "pacgan-grid-gan")})
    assert rows_of(table, "wgan-gp-toy-25gaussians", "modes_covered")["verdict"] == (
        "reproduced: 3 of 3 seeds cover all 25"
    )
    assert rows_of(table, "pacgan-grid-gan", "modes_covered")["verdict"] == "no result: all 1 seeds diverged"


def test_gap_verdicts():
    assert rep.gap_verdict(6.0, 1.0, 6.5, 1.06).startswith("direction reproduced; size agrees")
    assert rep.gap_verdict(1.0, 1.0, 6.5, 1.06).startswith("direction as published but within noise; size differs")
    assert rep.gap_verdict(-3.0, 1.0, 6.5, 1.06).startswith("direction not reproduced")


def test_unknown_anchor_or_cell_outside_the_grid_is_refused():
    with pytest.raises(ValueError, match=r"unknown anchor 'pacgan-moon'; choose from: pacgan-ring-gan"):
        rep.check_cells({"pacgan-moon": CELLS["pacgan-grid-gan"]})
    with pytest.raises(ValueError, match=r"'reproductions.pacgan-grid-gan': the cell 2d-grid/gan/nonsaturating"):
        rep.check_cells({"pacgan-grid-gan": CELLS["pacgan-grid-gan"]}, {("2d-ring", "gan", "nonsaturating")})


def test_one_seed_has_no_interval_of_its_own(tmp_path):
    mean, se, n = rep.mean_se([21.0])
    assert (mean, n) == (21.0, 1) and se != se  # NaN: one seed has no spread, not an exact one
    assert rep.agreement(17.5, se, 17.3, 0.8) == (True, pytest.approx(1.6))
    assert rep.gap_verdict(4.0, se, 6.5, 1.06).startswith("direction as published; size differs")
    assert "one seed: no interval" in rep.gap_verdict(4.0, se, 6.5, 1.06)
    runs = [make_run(tmp_path, "2d-grid", "gan", "nonsaturating", 0, [(10000, 19), (20000, 21)], steps=20000)]
    runs.append(make_run(tmp_path, "2d-grid", "pacgan", "nonsaturating", 0, [(10000, 22), (20000, 25)], steps=20000))
    table = rep.reproductions_table(runs, CELLS)
    row = rows_of(table, "pacgan-grid-gan", "modes_covered")
    assert row["verdict"].startswith("differs: measured higher by 3.7") and "one seed: no interval" in row["verdict"]
    md = rep.readable(table).to_markdown(index=False)
    assert "| 21 (1 seed) " in md and "± 0 " not in md
    # every row of the Markdown table has as many cells as its header: no '|' inside a cell
    assert len({line.count("|") for line in md.splitlines()}) == 1
