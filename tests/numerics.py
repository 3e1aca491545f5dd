"""Other float rounding for the training-outcome tests, chosen by GANS_TEST_NUMERICS.

A short GAN training run amplifies a last-bit difference into a different result, so a
threshold measured on one CPU may not hold on another (AVX2 and AVX-512 kernels round
sums differently). ``GANS_TEST_NUMERICS`` is a comma-separated list of:

- ``flush-denormal``: denormal floats flushed to zero (``torch.set_flush_denormal``);
- ``threads=N``: N torch threads instead of one (another reduction order);
- ``nudge-init``: every initialised weight moved one float step up, as another CPU's
  rounding would move it; training then follows another trajectory;
- ``seed-shift=K``: the training-outcome tests' seeds moved by K (their helpers add
  :data:`SEED_SHIFT`), a stronger form of the same perturbation.

``GANS_TEST_NUMERICS=default`` (or unset) is the fixed set-up: one thread, no flushing.
"""

import functools
import os

import torch

VALID = "flush-denormal, threads=N, nudge-init, seed-shift=K, default"
# torch.nn.init functions that modules call through the module attribute
INITS = ("uniform_", "normal_", "kaiming_uniform_", "kaiming_normal_", "xavier_uniform_", "xavier_normal_")


def parse(text: str) -> dict:
    """``"threads=2,nudge-init"`` -> ``{"threads": 2, "nudge-init": True}``; unknown words refused."""
    out = {}
    for word in filter(None, (w.strip() for w in text.split(","))):
        name, _, value = word.partition("=")
        if name in ("threads", "seed-shift") and value.lstrip("-").isdigit():
            out[name] = int(value)
        elif name in ("flush-denormal", "nudge-init") and not value:
            out[name] = True
        elif word != "default":
            raise ValueError(f"GANS_TEST_NUMERICS: unknown setting {word!r}; choose from: {VALID}")
    return out


SETTINGS = parse(os.environ.get("GANS_TEST_NUMERICS", ""))
SEED_SHIFT = SETTINGS.get("seed-shift", 0)


def describe() -> str:
    return ", ".join(f"{k}={v}" if v is not True else k for k, v in SETTINGS.items()) or "default"


def _nudged(init):
    @functools.wraps(init)
    def wrapper(tensor, *args, **kwargs):
        out = init(tensor, *args, **kwargs)
        with torch.no_grad():
            tensor.copy_(torch.nextafter(tensor, torch.full_like(tensor, float("inf"))))
        return out

    return wrapper


def apply(monkeypatch) -> None:
    """Set this test's numerics: threads (one by default), flushing, nudged initialisation."""
    torch.set_num_threads(SETTINGS.get("threads", 1))
    torch.set_flush_denormal(SETTINGS.get("flush-denormal", False))
    if SETTINGS.get("nudge-init"):
        for name in INITS:
            monkeypatch.setattr(torch.nn.init, name, _nudged(getattr(torch.nn.init, name)))
