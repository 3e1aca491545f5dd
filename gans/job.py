"""What one training job trains: the seeds of one grid cell, as one model for a
single seed or S seeds stacked into one (gans/stacking.py), with their random
streams; and the decision of how a job trains its seeds."""

from __future__ import annotations

import contextlib
import random
import sys
from collections.abc import Iterator
from typing import Any

import torch

from gans import members, population, safe_io, stacking
from gans.datasets import DATASETS, build_dataset
from gans.runtime import seed_everything
from gans.variants import VARIANTS

# Numbers per seed and kind (normal, uniform, integer) in a block of buffered random
# draws: about 20 toy steps at batch 512 between refills. Part of what a buffered run
# draws, so changing it changes results.
DRAW_BLOCK = 2**18


def build(cfg: dict[str, Any], device: torch.device | str = "cpu"):
    """The dataset and the variant (with its networks and optimizers) of a resolved config."""
    dataset = build_dataset(cfg["dataset"]["name"], **cfg["dataset"]["params"])
    variant = VARIANTS.get(cfg["variant"]["name"])(cfg, dataset, device)
    return dataset, variant


class Job:
    """What the loop trains: one variant for a single seed, or S seeds stacked into
    one variant (gans/stacking.py). Holds the random streams, so a resumed job
    continues them exactly."""

    def __init__(
        self, cfgs: list[dict[str, Any]], device: torch.device, stacked: bool | None = None, block: int | None = None
    ):
        self.seeds = len(cfgs)
        self.critic = [cfg["n_critic"] for cfg in cfgs]  # non-increasing (gans/train.py orders the members)
        if self.critic != sorted(self.critic, reverse=True):
            raise ValueError("members with more critic steps come first in a population")
        self.stacked = self.seeds > 1 if stacked is None else stacked
        self.active = list(range(self.seeds))  # the runs still training, by position in the stack
        variants = []
        latent_gens = []
        for cfg in cfgs:
            seed_everything(cfg["seed"])
            self.dataset, variant = build(cfg, device)
            variants.append(variant)
            latent_gens.append(stacking.generator_like_global(device))
        # data has its own stream, so changing the model never changes the data it sees
        data_gens = [torch.Generator(device=device).manual_seed(cfg["seed"] + 1_000_003) for cfg in cfgs]
        self.block = block if self.stacked else None
        if not self.stacked:
            self.variant, self.data = variants[0], data_gens[0]
        else:
            self.variant = type(variants[0]).stacked(variants, stacking.SeedRNG(latent_gens, self.block))
            self.data = stacking.SeedRNG(data_gens, self.block)

    @property
    def random_draws(self) -> str:
        return "buffered" if self.block else "direct"

    def values(self, stats: dict[str, torch.Tensor]) -> list[dict[str, float]]:
        """Each running member's logged values, by position (one host transfer per logging point)."""
        keys, n = list(stats), len(self.active)
        table = torch.stack(
            [torch.as_tensor(v).detach().float().cpu().reshape(-1).expand(n) for v in stats.values()]
        ).tolist()
        return [{k: table[j][i] for j, k in enumerate(keys)} for i in range(n)]

    def keep(self, runs: list[int]) -> None:
        """Go on training only ``runs`` (run indices, a subset of ``active``): a stacked
        job drops the other members from its networks, optimizers and random streams."""
        if runs == self.active:
            return
        positions = [self.active.index(r) for r in runs]
        if self.stacked and runs:
            index = torch.tensor(positions)
            self.variant.keep_members(index)
            population.keep_rng(self.data, positions)
        self.active = list(runs)

    def critic_steps(self) -> list[int]:
        """Each running member's critic steps per step, by position (non-increasing)."""
        return [self.critic[i] for i in self.active]

    @contextlib.contextmanager
    def first(self, m: int) -> Iterator[None]:
        """Steps inside train the first ``m`` running members only."""
        if m == len(self.active):
            yield
            return
        restore = population.narrow_rng(self.data, m)
        try:
            with self.variant.first_members(m):
                yield
        finally:
            restore()

    def state(self, i: int, names: list[str] | None = None) -> dict[str, Any]:
        """The state of the member at position ``i``, as a run alone would have it."""
        state = self.variant.state_dict(names)
        if not self.stacked:
            return state
        mods = self.variant.modules()
        return {
            k: mods[k].member_state(i) if hasattr(mods[k], "member_state") else stacking.unstack_state(v, i)
            for k, v in state.items()
        }

    def rng_state(self) -> dict[str, Any]:
        # data: a torch.Generator alone, a SeedRNG when stacked (same interface)
        state = {
            "torch": torch.get_rng_state(),
            "numpy": safe_io.numpy_rng_state(),  # tensors and numbers: loads with weights_only
            "python": random.getstate(),
            "data": self.data.get_state(),
        }
        if self.stacked:
            state["seeds"] = self.variant.seed_rng.get_state()
        if torch.cuda.is_available():
            state["cuda"] = torch.cuda.get_rng_state_all()
        return state

    def set_rng_state(self, state: dict[str, Any]) -> None:
        torch.set_rng_state(state["torch"])
        safe_io.set_numpy_rng_state(state["numpy"])
        random.setstate(safe_io.as_python_rng_state(state["python"]))
        self.data.set_state(state["data"])
        if self.stacked:
            self.variant.seed_rng.set_state(state["seeds"])
        if "cuda" in state and torch.cuda.is_available():
            torch.cuda.set_rng_state_all(state["cuda"])


def build_job(cfgs: list[dict[str, Any]], device: torch.device) -> Job | None:
    """The job training these seeds together, or None when they must train one
    after another (the reason printed)."""
    stacked, block, reason = stacking_plan(cfgs, device)
    if not reason:
        try:
            return Job(cfgs, device, stacked=stacked, block=block)
        except stacking.NotStackable as exc:  # e.g. a layer of a variant's own networks
            reason = str(exc)
    if len(cfgs) == 1:
        return Job(cfgs, device, stacked=False, block=None)
    print(f"training the {len(cfgs)} seeds one after another: {reason}", file=sys.stderr)
    return None


def draw_block(tcfg: dict[str, Any], device: torch.device) -> int | None:
    """The block size of buffered random draws for this run, or None for direct draws
    (``train.random_draws``; configs resolved before it existed draw directly)."""
    mode = tcfg.get("random_draws", "direct")
    if mode == "auto":
        mode = "buffered" if device.type == "cuda" else "direct"
    return DRAW_BLOCK if mode == "buffered" else None


def job_block(cfgs: list[dict[str, Any]], device: torch.device) -> int | None:
    """The block of buffered random draws these runs' job would use, or None (direct)."""
    block = draw_block(cfgs[0]["train"], device)
    if block and not DATASETS.get(cfgs[0]["dataset"]["name"]).draws_stacked:
        return None  # (known from the class: no image split loaded to find out)
    return block


def training_order(cfgs: list[dict[str, Any]], device: torch.device) -> list[list[int]]:
    """Indices of ``cfgs`` as one job trains them: in groups trained one after another,
    each group one population with its members taking more critic steps first. One
    group, except under buffered draws (whose block positions all members share), where
    members with other critic steps train apart."""
    order = sorted(range(len(cfgs)), key=lambda i: -cfgs[i]["n_critic"])
    if job_block(cfgs, device) is None:
        return [order]
    groups: dict[int, list[int]] = {}
    for i in order:
        groups.setdefault(cfgs[i]["n_critic"], []).append(i)
    return list(groups.values())


def stacking_plan(cfgs: list[dict[str, Any]], device: torch.device) -> tuple[bool, int | None, str | None]:
    """How a job trains these seeds: (stacked into one model, block of buffered draws
    or None, why the seeds must instead train one after another or None)."""
    block = job_block(cfgs, device)
    if len(cfgs) == 1 and not block:
        return False, None, None
    # buffered draws go through the stacked model, for one seed too (S = 1), so a
    # seed draws the same numbers alone as in any stack
    reason = stacking.reason_not_stackable(cfgs[0])
    if reason:
        return False, None, reason if len(cfgs) > 1 else None
    return True, block, None


def check_one_population(cfgs: list[dict[str, Any]]) -> None:
    """Runs trained together must share one population key (gans/members.py): they
    may differ in their seed and member values (learning rates, betas, penalty
    weights, ...) only."""
    keys = members.differing_keys(cfgs)
    if keys:
        raise ValueError(
            "runs trained in one job must differ only in their seed and member values "
            f"({', '.join(members.MEMBER_KEYS)}); these keys differ: {', '.join(keys)}"
        )
    same = [c for i, c in enumerate(cfgs) if c in cfgs[:i]]
    if same:
        raise ValueError(f"the runs of one job must be distinct; seed {same[0]['seed']} appears twice with one setting")
