"""The Dirac-GAN checked against its theory (Mescheder, Geiger & Nowozin 2018).

    python -m analysis.dirac --config config/dirac.yaml --runs RUN_DIR [RUN_DIR ...] \\
        --table results/tables/dirac --figure results/figures/dirac/phase_portrait.png

Each run (G(z) = theta, D(x) = psi * x, data at 0) is labelled by the suite's own
outcome rules (analysis.stability, analysis.outcomes: the ``dirac`` quality bar on the
distance |(theta, psi)| to the equilibrium) and set beside what the theory expects for
its loss and regularizers (``expected``). Writes the table (CSV and Markdown: loss,
regularizer, expected, why, measured label, final distance, agree) and the phase
portrait: the (theta, psi) trajectory of every run, one panel per loss x regularizer.

The theory, near the equilibrium, for a loss that is a function f of D's outputs
(the paper's L = f(psi theta) + f(0)): with no regularizer the Jacobian of the
gradient field has the eigenvalues +-f'(0)i, so gradient descent does not converge
(Sec. 2: simultaneous updates spiral out, alternating ones circle); a zero-centred
penalty (R1 on the data, R2 on the samples; for a linear D they are the same
penalty, gamma/2 psi^2) adds -gamma to D's field, which makes it converge for any f
with f'(0) != 0 (Sec. 4); fixed instance noise adds f''(0) sigma^2, which helps only
where f''(0) != 0 (the logistic losses, not WGAN's linear f, nor hinge's, linear near
0) (Sec. 3.3); WGAN-GP's penalty pulls |psi| to 1, so (0, 0) is not a fixed point
(Sec. 3.2); clipping D's weight leaves WGAN's circles (Sec. 3.1). LSGAN (a = 0,
b = c = 1) is not of the paper's form: D cannot move its real output psi * 0 = 0, its
field is -psi theta^2, and every (theta, 0) is stationary, so G stops wherever psi
reaches 0 (our derivation; penalties and noise only speed psi to 0).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from analysis import stability
from analysis.config import analysis_options
from analysis.config import load as load_config
from gans import layout
from gans.runtime import read_json

CONVERGES, DOES_NOT = "converges", "does not converge"
LOGISTIC = ("minimax", "nonsaturating", "rpgan")  # f''(0) != 0
LINEAR_NEAR_0 = ("wgan", "hinge")  # f''(0) = 0
PENALTIES = ({"r1"}, {"r2"}, {"r1", "r2"})


def regularizer_label(loss: str, regularizers: dict[str, Any]) -> str:
    """The run's regularizers beside its loss's own (WGAN-GP's gradient penalty), as one
    cell: 'none', 'r1', 'r1+r2', 'instance_noise', ..."""
    names = sorted(set(regularizers) - ({"gradient_penalty"} if loss == "wgan-gp" else set()))
    return "+".join(names) or "none"


def expected(loss: str, regularizers: dict[str, Any]) -> tuple[str | None, str]:
    """What the theory says of this loss with these regularizers: (converges or does not
    converge, why); (None, why) where the theory says nothing."""
    names = set(regularizers) - ({"gradient_penalty"} if loss == "wgan-gp" else set())
    noise = regularizers.get("instance_noise")
    if noise is not None and noise.get("anneal", True):
        return None, "annealed instance noise ends unregularised; the theory's noise is fixed"
    if loss == "wgan-gp":
        return DOES_NOT, "the gradient penalty pulls |psi| to 1: (0, 0) is not a fixed point (Sec. 3.2)"
    if loss == "lsgan":
        return DOES_NOT, "every (theta, 0) is stationary: G stops where psi reaches 0 (our derivation)"
    if not names:
        return DOES_NOT, "eigenvalues +-f'(0)i: gradient descent circles or spirals out (Sec. 2)"
    if names == {"weight_clipping"}:
        return DOES_NOT, "clipping psi leaves WGAN's circles (Sec. 3.1)"
    if names in PENALTIES:
        return CONVERGES, "a zero-centred penalty damps D: converges for small lr (Sec. 4, Thm. 4.1)"
    if names == {"instance_noise"}:
        if loss in LOGISTIC:
            return CONVERGES, "fixed instance noise adds f''(0) sigma^2 < 0 to D's field (Sec. 3.3)"
        if loss in LINEAR_NEAR_0:
            return DOES_NOT, "f''(0) = 0: instance noise leaves the linear game unchanged (Sec. 3.3)"
    return None, "no result of the paper covers this combination"


def run_row(run: Path, opts: dict[str, Any]) -> dict[str, Any]:
    """One run's table row: its outcome by the suite's rules and the theory's verdict."""
    cfg = yaml.safe_load((run / layout.RESOLVED_CONFIG).read_text())
    loss, regs = cfg["loss"]["name"], cfg["regularizers"]
    traj = pd.read_csv(run / layout.METRICS_TABLE)
    log_path = run / layout.TRAIN_LOG
    log = pd.read_csv(log_path) if log_path.is_file() else None
    status = read_json(run / layout.TRAIN_SUMMARY)["status"]
    measures = stability.run_measures(
        traj, log, status, {"equilibrium_distance": False}, "equilibrium_distance", opts, None, "dirac"
    )
    want, why = expected(loss, regs)
    label = measures["outcome"]
    agree = None if want is None else (label == "converged") == (want == CONVERGES)
    last = traj.iloc[-1]
    return {
        "loss": loss,
        "regularizer": regularizer_label(loss, regs),
        "expected": want or "no prediction",
        "measured": label,
        "agree": {True: "yes", False: "no", None: "-"}[agree],
        "start_distance": float(traj["equilibrium_distance"].iloc[0]),
        "final_distance": float(last["equilibrium_distance"]),
        "final_theta": float(last["theta"]),
        "final_psi": float(last["psi"]),
        "why": why,
        "run": str(run),
    }


def write_table(rows: pd.DataFrame, stem: Path) -> None:
    stem.parent.mkdir(parents=True, exist_ok=True)
    rows.to_csv(stem.with_suffix(".csv"), index=False)
    cols = ["loss", "regularizer", "expected", "measured", "agree", "final_distance", "why"]
    shown = rows[cols].assign(final_distance=rows["final_distance"].map(lambda v: f"{v:.2g}"))
    lines = ["| " + " | ".join(cols) + " |", "|" + " --- |" * len(cols)]
    lines += ["| " + " | ".join(str(v) for v in r) + " |" for r in shown.itertuples(index=False)]
    agreed = int((rows["agree"] == "yes").sum())
    judged = int((rows["agree"] != "-").sum())
    stem.with_suffix(".md").write_text(
        f"Dirac-GAN against the theory: {agreed} of {judged} predicted rows agree "
        "(converged = the suite's label 'converged').\n\n" + "\n".join(lines) + "\n"
    )


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m analysis.dirac", description=__doc__.split("\n\n")[0])
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--config", help="the config the runs were trained with")
    src.add_argument("--analysis", help="the config's validated analysis section, as JSON (what the rule passes)")
    p.add_argument("--runs", nargs="+", required=True, help="the Dirac-GAN run folders")
    p.add_argument("--table", required=True, help="output path without suffix (.csv and .md are written)")
    p.add_argument("--figure", required=True, help="the phase portrait (PNG)")
    args = p.parse_args(argv)
    opts = load_config(args.config)["analysis"] if args.config else analysis_options(json.loads(args.analysis))
    rows = pd.DataFrame([run_row(Path(r), opts) for r in args.runs])
    rows = rows.sort_values(["loss", "regularizer"], kind="stable").reset_index(drop=True)
    write_table(rows, Path(args.table))
    from analysis.figures.dirac import phase_portrait

    phase_portrait(rows, Path(args.figure), opts["quality_bar"]["dirac"]["equilibrium"])
    judged = rows[rows["agree"] != "-"]
    print(f"dirac: {int((judged['agree'] == 'yes').sum())} of {len(judged)} rows agree with the theory")
    return 0


if __name__ == "__main__":
    sys.exit(main())
