"""The final generator evaluated with several noise seeds (evaluation.sampling_seeds):
how much a final metric moves when only the generated sample is drawn again. The
first seed is the one every trajectory point uses, so its values are the final
point's; the others are drawn here. The tables set this evaluation-sampling spread
beside the spread over training seeds, which also contains it."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch

SEED_STEP = 104_729  # sampling seed k draws noise from evaluation.seed + 1 + SEED_STEP * k


def noise_seeds(eval_cfg: dict[str, Any]) -> list[int]:
    return [eval_cfg["seed"] + 1 + SEED_STEP * k for k in range(eval_cfg["sampling_seeds"])]


def final_sampling(inputs, metrics: list, eval_cfg: dict[str, Any], final_row: dict[str, Any]) -> dict[str, Any]:
    """{"seeds": [...], "values": {metric column: [value per seed]}} for the generator
    ``inputs.variant`` holds (the final one); ``final_row`` is its trajectory row."""
    seeds = noise_seeds(eval_cfg)
    rows = [{k: v for k, v in final_row.items() if k != "step"}]
    for seed in seeds[1:]:
        fake = inputs.generate(torch.Generator().manual_seed(seed))
        row: dict[str, Any] = {}
        if inputs.finite(fake):
            measured = inputs.measure(fake)
            for metric in metrics:
                row.update(metric.compute(measured))
        rows.append(row)
    columns = [k for k, v in rows[0].items() if isinstance(v, (int, float)) and not isinstance(v, bool)]
    values = {k: [_number(r.get(k)) for r in rows] for k in columns}
    return {"seeds": seeds, "values": values}


def _number(v) -> float | None:
    return None if v is None or (isinstance(v, float) and not math.isfinite(v)) else float(v)


def spread(sampling: dict[str, Any] | None) -> dict[str, float]:
    """Per metric, the standard deviation over sampling seeds (``<metric>_sampling_sd``)
    and their mean (``<metric>_sampling_mean``); empty without sampling values."""
    out: dict[str, float] = {}
    for k, values in ((sampling or {}).get("values") or {}).items():
        v = np.array([x for x in values if x is not None], dtype=float)
        out[f"{k}_sampling_mean"] = float(v.mean()) if len(v) else math.nan
        out[f"{k}_sampling_sd"] = float(v.std(ddof=1)) if len(v) > 1 else math.nan
    return out
