"""One optimizer for a whole population: Adam, RMSprop or SGD over stacked parameters
(leading member dimension P), each member with its own learning rate, betas or
smoothing constant, held as tensors of shape (P,) and broadcast over the member
dimension, so a step is one set of tensor ops for all members.

The update of each member is the one ``torch.optim.Adam`` / ``RMSprop`` / ``SGD``
makes for that member alone (single-tensor form, the CPU default), up to float
rounding (tests/unit/test_population.py checks it member by member). Members can
be dropped (``keep``): the state of the others is sliced, never recomputed. Each member
counts its own updates (members with more critic steps update D more often): between
``narrow(m)`` and the restore it returns, a step updates the first m members only.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import torch

from gans.optim import lr_factor

KINDS = ("adam", "rmsprop", "sgd")
# the torch defaults of each optimizer's other arguments
DEFAULTS = {
    "adam": {"betas": (0.9, 0.999), "eps": 1e-8, "weight_decay": 0.0},
    "rmsprop": {"alpha": 0.99, "eps": 1e-8, "weight_decay": 0.0, "momentum": 0.0},
    "sgd": {"momentum": 0.0, "weight_decay": 0.0},
}
# arguments that may differ between members (the rest must be equal)
MEMBER_ARGS = {"adam": ("lr", "beta1", "beta2"), "rmsprop": ("lr", "alpha"), "sgd": ("lr",)}


def member_args(specs: list[dict[str, Any]], role: str) -> tuple[str, dict[str, Any], dict[str, list[float]]]:
    """(kind, shared arguments, per-member arguments) of the members' optimizer specs
    (the resolved configs' ``optimizer`` sections) for player ``role`` ("d" or "g")."""
    kind = specs[0]["name"]
    if kind not in KINDS:
        raise ValueError(f"unknown optimizer '{kind}'; choose one of: {', '.join(KINDS)}")
    per: dict[str, list[float]] = {k: [] for k in MEMBER_ARGS[kind]}
    shared: dict[str, Any] = {}
    for spec in specs:
        if spec["name"] != kind:
            raise ValueError(f"one population trains one optimizer kind, got {kind} and {spec['name']}")
        args = {**DEFAULTS[kind], **{k: v for k, v in spec.items() if k not in ("name", "lr_d", "lr_g")}}
        betas = args.pop("betas", None)
        values = {"lr": spec[f"lr_{role}"]}
        if kind == "adam":
            values["beta1"], values["beta2"] = betas
        if kind == "rmsprop":
            values["alpha"] = args.pop("alpha")
        for k in per:
            per[k].append(float(values[k]))
        rest = {k: v for k, v in args.items() if k != "lr_decay"}
        rest["lr_decay"] = args.get("lr_decay") or {"kind": "none"}
        if shared and rest != shared:
            raise ValueError(f"optimizer arguments {rest} differ from {shared} within one population")
        shared = rest
    return kind, shared, per


class PopulationOptimizer:
    """Adam, RMSprop or SGD over parameters shaped (P, ...), per-member hyper-parameters
    as (P,) tensors; the torch.optim interface the training loop uses (zero_grad, step,
    state_dict, load_state_dict), plus ``keep`` to drop members."""

    def __init__(
        self,
        params: Iterable[torch.nn.Parameter],
        specs: list[dict[str, Any]],
        role: str,
        updates: int | list[int] | None = None,
    ):
        self.params = list(params)
        self.kind, shared, per = member_args(specs, role)
        decay = shared.pop("lr_decay")
        if decay.get("kind", "none") == "linear" and not updates:
            raise ValueError("linear lr_decay needs the number of updates of the run")
        planned = updates if isinstance(updates, list) else [updates or 0] * len(specs)
        self.decays = decay.get("kind", "none") != "none"
        self.factors = [lr_factor(decay, n) for n in planned]  # each member's, by its planned updates
        self.shared = shared
        if self.kind == "sgd" and shared.get("momentum", 0.0):
            raise ValueError("SGD with momentum is not batched over members; use adam or rmsprop")
        if self.kind == "rmsprop" and (shared.get("momentum", 0.0) or shared.get("centered")):
            raise ValueError("RMSprop with momentum or centered is not batched over members")
        device = self.params[0].device
        self.hyper = {k: torch.tensor(v, dtype=torch.float64, device=device) for k, v in per.items()}
        self.steps = [0] * len(specs)  # each member's updates so far
        self.state: list[dict[str, torch.Tensor]] = [{} for _ in self.params]

    @property
    def members(self) -> int:
        return len(next(iter(self.hyper.values())))

    def zero_grad(self, set_to_none: bool = True) -> None:
        for p in self.params:
            p.grad = None

    def _t(self) -> int | torch.Tensor:
        """The updates of the members now stepping: one number when they agree (the
        arithmetic of a run alone), else a (P,) tensor."""
        steps = self.steps[: self.members]
        if all(t == steps[0] for t in steps):
            return steps[0]
        return torch.tensor(steps, dtype=torch.float64, device=self.hyper["lr"].device)

    def _factor(self, shift: int = 0) -> float | torch.Tensor:
        """The learning-rate factor of each member stepping now, after its updates + ``shift``."""
        if not self.decays:
            return 1.0
        n = self.members
        values = [f(t + shift) for f, t in zip(self.factors[:n], self.steps[:n], strict=True)]
        return torch.tensor(values, dtype=torch.float64, device=self.hyper["lr"].device)

    def _per_param(self, values: torch.Tensor, params: list[torch.Tensor]) -> list[torch.Tensor]:
        """(P,) values as float32 (or the parameters' dtype), one view per parameter,
        broadcast over its member dimension; computed once per update for all parameters."""
        cast = values.to(params[0].dtype)
        return [cast.view(-1, *([1] * (p.dim() - 1))) for p in params]

    @torch.no_grad()
    def step(self) -> None:
        """One update of every member: a fixed number of ``torch._foreach_*`` ops over all
        parameters, whatever their number (one op each costs a CPU step more than its
        arithmetic at these sizes), in the order of torch's single-tensor update."""
        n = self.members
        self.steps[:n] = [t + 1 for t in self.steps[:n]]
        lr = self.hyper["lr"] * self._factor(-1)  # the rate of this update, as torch's scheduler hook
        params = [p for p in self.params if p.grad is not None]
        if not params:
            return
        states = [self.state[i] for i, p in enumerate(self.params) if p.grad is not None]
        grads = [p.grad for p in params]
        wd = self.shared.get("weight_decay", 0.0)
        if wd:
            grads = torch._foreach_add(grads, params, alpha=wd)
        getattr(self, f"_{self.kind}")(params, grads, states, lr)

    def _buffers(
        self, params: list[torch.Tensor], states: list[dict], names: tuple[str, ...]
    ) -> list[list[torch.Tensor]]:
        """Each state buffer of ``names`` for every parameter (zeros at the first update)."""
        for p, state in zip(params, states, strict=True):
            for name in names:
                if name not in state:
                    state[name] = torch.zeros_like(p)
        return [[state[name] for state in states] for name in names]

    def _adam(self, params: list, grads: list, states: list, lr: torch.Tensor) -> None:
        b1, b2 = self.hyper["beta1"], self.hyper["beta2"]
        m, v = self._buffers(params, states, ("exp_avg", "exp_avg_sq"))
        torch._foreach_lerp_(m, grads, self._per_param(1 - b1, params))
        torch._foreach_mul_(v, self._per_param(b2, params))
        torch._foreach_addcmul_(v, grads, torch._foreach_mul(grads, self._per_param(1 - b2, params)))
        t = self._t()
        step_size = lr / (1 - b1**t)  # float64, as torch's Python-float arithmetic
        bc2_sqrt = (1 - b2**t) ** 0.5
        denom = torch._foreach_sqrt(v)
        torch._foreach_div_(denom, self._per_param(bc2_sqrt, params))
        torch._foreach_add_(denom, self.shared["eps"])
        self._descend(params, m, step_size, denom)

    def _rmsprop(self, params: list, grads: list, states: list, lr: torch.Tensor) -> None:
        alpha = self.hyper["alpha"]
        (sq,) = self._buffers(params, states, ("square_avg",))
        torch._foreach_mul_(sq, self._per_param(alpha, params))
        torch._foreach_addcmul_(sq, grads, torch._foreach_mul(grads, self._per_param(1 - alpha, params)))
        avg = torch._foreach_sqrt(sq)
        torch._foreach_add_(avg, self.shared["eps"])
        self._descend(params, grads, lr, avg)

    def _descend(self, params: list, directions: list, rate: torch.Tensor, denom: list) -> None:
        """params -= rate * direction / denom, each member at its own (P,) rate."""
        update = torch._foreach_mul(directions, self._per_param(rate, params))
        torch._foreach_div_(update, denom)
        torch._foreach_sub_(params, update)

    def _sgd(self, params: list, grads: list, states: list, lr: torch.Tensor) -> None:
        torch._foreach_sub_(params, torch._foreach_mul(grads, self._per_param(lr, params)))

    def keep(self, index: torch.Tensor) -> None:
        """Keep the members at positions ``index`` (the parameters are sliced by their owner)."""
        self.hyper = {k: v[index.to(v.device)] for k, v in self.hyper.items()}
        self.state = [{k: t[index.to(t.device)] for k, t in s.items()} for s in self.state]
        self.steps = [self.steps[i] for i in index.tolist()]
        self.factors = [self.factors[i] for i in index.tolist()]

    def narrow(self, m: int) -> Callable[[], None]:
        """Update only the first ``m`` members until the returned function is called:
        hyper-parameters and state become views of their first m rows, so the updates
        land in place (the owner narrows the parameters the same way, after this)."""
        names = {"adam": ("exp_avg", "exp_avg_sq"), "rmsprop": ("square_avg",), "sgd": ()}[self.kind]
        self._buffers(self.params, self.state, names)  # full-size state before any view of it
        saved = self.hyper, self.state, self.steps, self.factors
        self.hyper = {k: v[:m] for k, v in saved[0].items()}
        self.state = [{k: t[:m] for k, t in s.items()} for s in saved[1]]
        head, tail = saved[2][:m], saved[2][m:]
        self.steps, self.factors = head, saved[3][:m]

        def restore() -> None:
            self.hyper, self.state, self.factors = saved[0], saved[1], saved[3]
            self.steps = self.steps + tail

        return restore

    def member_state(self, i: int) -> dict[str, Any]:
        """Member ``i``'s state in the form of the torch optimizer it stands for, so a
        member's checkpoint is the one it would have trained alone."""
        hyper = {k: float(v[i]) for k, v in self.hyper.items()}
        steps, factor = self.steps[i], self.factors[i]
        group: dict[str, Any] = {**self.shared, "lr": hyper["lr"] * factor(steps)}
        group.update(maximize=False, foreach=None, differentiable=False, params=list(range(len(self.params))))
        if self.kind == "adam":
            group.update(betas=(hyper["beta1"], hyper["beta2"]), amsgrad=False, capturable=False, fused=None)
        if self.kind == "rmsprop":
            group.update(alpha=hyper["alpha"], centered=False, capturable=False)
        if factor(1) != 1.0 or factor(steps) != 1.0:  # a decay: its position, as optim.py keeps it
            group.update(initial_lr=hyper["lr"], decay_step=steps)
        step = torch.tensor(float(steps))
        state = {j: {"step": step, **{k: t[i].clone() for k, t in s.items()}} for j, s in enumerate(self.state) if s}
        return {"state": state, "param_groups": [group]}

    def state_dict(self) -> dict[str, Any]:
        return {"steps": list(self.steps), "hyper": dict(self.hyper), "state": [dict(s) for s in self.state]}

    def load_state_dict(self, saved: dict[str, Any]) -> None:
        steps = saved["steps"]  # one count for all members in states saved before members counted their own
        self.steps = [int(t) for t in steps] if isinstance(steps, list) else [int(steps)] * len(self.factors)
        device = self.params[0].device
        self.hyper = {k: v.to(device) for k, v in saved["hyper"].items()}
        self.state = [{k: t.to(device) for k, t in s.items()} for s in saved["state"]]
