"""The search's settings: drawn the same on any machine (checked against an independent
computation from the published Sobol' direction numbers and the documented
scrambling), the set-up always setting 0, a larger budget leaving the drawn settings
as they were, and every bad space refused before any job with its key named."""

import copy
import hashlib
import math
import shutil
import sys

import pytest

import gans.variants
from analysis import config as acfg
from gans import config as gcfg
from gans import space
from gans.config import search
from gans.losses import LOSSES
from gans.regularizers import REGULARIZERS
from gans.variants import VARIANTS
from tests.conftest import TINY

# Joe & Kuo's direction numbers (new-joe-kuo-6.21201), dimensions 2 to 7: (degree s,
# polynomial coefficients a, initial m_1..m_s); dimension 1 is van der Corput's.
JOE_KUO = [
    (1, 0, [1]),
    (2, 1, [1, 3]),
    (3, 1, [1, 3, 1]),
    (3, 2, [1, 1, 1]),
    (4, 1, [1, 1, 3, 3]),
    (4, 4, [1, 3, 5, 13]),
]
BITS = 30


def space_of(config, dataset, label, loss):
    """A cell's search space, from its resolved run as the search resolves it."""
    run = gcfg.resolve_run(config, dataset, label, loss, config["search"]["train_seed"])
    return search.cell_space(config, dataset, label, loss, run)


def sobol_integers(n: int, dims: int) -> list[list[int]]:
    """The first n Sobol' points as BITS-bit integers, in Gray-code order (Bratley & Fox)."""
    directions = [[1 << (BITS - 1 - k) for k in range(BITS)]]
    for s, a, m in JOE_KUO[: dims - 1]:
        m = list(m)
        for k in range(s, BITS):
            new = m[k - s] ^ (m[k - s] << s)
            for i in range(1, s):
                if (a >> (s - 1 - i)) & 1:
                    new ^= m[k - i] << i
            m.append(new)
        directions.append([m[k] << (BITS - 1 - k) for k in range(BITS)])
    x, points = [0] * dims, [[0] * dims]
    for i in range(1, n):
        c = ((~(i - 1)) & i).bit_length() - 1  # the lowest zero bit of i - 1
        x = [x[j] ^ directions[j][c] for j in range(dims)]
        points.append(x)
    return points


def scrambled(x: int, text: str) -> int:
    """The documented scrambling: shift bits, then L's lower triangle row by row, from
    SHA-256(text|0) + SHA-256(text|1), most significant bit first."""
    bits = "".join(f"{byte:08b}" for i in (0, 1) for byte in hashlib.sha256(f"{text}|{i}".encode()).digest())
    shift, lower = bits[:BITS], bits[BITS:]
    x_bits = f"{x:0{BITS}b}"
    out, pos = "", 0
    for k in range(BITS):
        bit = int(x_bits[k]) ^ int(shift[k])
        for i in range(k):
            bit ^= int(lower[pos]) & int(x_bits[i])
            pos += 1
        out += str(bit)
    return int(out, 2)


def three_digits(x: float) -> float:
    return round(x, 2 - math.floor(math.log10(abs(x)))) if x else 0.0


def expected_value(spec: dict, u: float):
    ((kind, args),) = spec.items()
    if kind == "log_uniform":
        return three_digits(math.exp(math.log(args[0]) + u * (math.log(args[1]) - math.log(args[0]))))
    if kind == "uniform":
        return three_digits(args[0] + u * (args[1] - args[0]))
    if kind == "int":
        return args[0] + math.floor(u * (args[1] - args[0] + 1))
    return args[math.floor(u * len(args))]


def searched(budget=6, **section):
    cfg = copy.deepcopy(TINY)
    cfg["grid"]["seeds"] = [0]
    cfg["search"] = {"budget": budget, "seeds_for_best": 2, **section}
    return cfg


@pytest.fixture(scope="module")
def config():
    return acfg.validate(searched(budget=6, seed=7))


def test_settings_match_an_independent_computation(config):
    """Sobol' points from the published direction numbers, scrambled as documented and
    mapped by the ranges' formulas: the same values on any machine."""
    cell, n = ("8gaussians", "gan", "wgan-gp"), 6
    paths = sorted(space_of(config, *cell))
    declared = {**LOSSES.get("wgan-gp").search_space, **REGULARIZERS.get("gradient_penalty").search_space}
    assert paths == sorted(declared)
    points = sobol_integers(n - 1, len(paths))
    for index in range(1, n):
        run = gcfg.resolve_run(config, cell[0], f"gan+search-{index}", cell[2], 0)
        key = f"7/{cell[0]}/{cell[1]}/{cell[2]}"
        u = [scrambled(points[index - 1][j], f"{key}/{p}") / 2**BITS for j, p in enumerate(paths)]
        expected = {p: expected_value(declared[p], u[j]) for j, p in enumerate(paths)}
        assert run["search"] == {"index": index, "values": expected}
        assert run["optimizer"]["lr_d"] == expected["optimizer.lr_d"]
        assert run["optimizer"]["betas"] == [expected["optimizer.betas.0"], 0.9]  # beta2 kept
        assert run["n_critic"] == expected["n_critic"]
        assert run["regularizers"]["gradient_penalty"]["weight"] == expected["regularizers.gradient_penalty.weight"]


def test_scipy_sobol_is_the_published_sequence():
    import numpy as np
    from scipy.stats import qmc

    ours = np.array(sobol_integers(64, 7))
    assert (np.rint(qmc.Sobol(7, scramble=False, bits=BITS).random(64) * 2**BITS) == ours).all()


def test_another_seed_or_cell_draws_other_settings(config):
    other = acfg.validate(searched(budget=6, seed=8))
    a = gcfg.resolve_run(config, "8gaussians", "gan+search-1", "wgan-gp", 0)["search"]["values"]
    b = gcfg.resolve_run(other, "8gaussians", "gan+search-1", "wgan-gp", 0)["search"]["values"]
    c = gcfg.resolve_run(config, "8gaussians", "gan+search-1", "nonsaturating", 0)["search"]["values"]
    assert a != b and a["optimizer.lr_d"] != c["optimizer.lr_d"]


def _setting_zero_is_the_set_up(config, dataset, label, loss):
    base = gcfg.resolve_run(config, dataset, label, loss, 0)
    zero = gcfg.resolve_run(config, dataset, f"{label}+search-0", loss, 0)
    assert zero.pop("search")["index"] == 0
    assert zero["variant"].pop("label") == f"{label}+search-0"
    base["variant"].pop("label", None)
    assert zero == base


@pytest.mark.parametrize("variant", sorted(VARIANTS.names()))
def test_the_set_up_is_always_setting_zero(variant):
    """For every registered variant and each loss it supports, under a config that
    overrides a loss's set-up: setting 0 is what resolve_run gives the cell."""
    losses = [loss for loss in LOSSES.names() if VARIANTS.get(variant).supports(loss)]
    cfg = searched(budget=2)
    cfg["grid"].update(variants=[variant], losses=losses)
    cfg["losses"] = {"nonsaturating": {"optimizer": {"lr_d": 4.0e-4, "lr_g": 1.0e-4}, "n_critic": 2}}
    cfg["train"]["batch_size"] = 60  # a multiple of every packing degree
    cfg = acfg.validate(cfg)
    for loss in losses:
        _setting_zero_is_the_set_up(cfg, "8gaussians", variant, loss)
        values = gcfg.resolve_run(cfg, "8gaussians", f"{variant}+search-0", loss, 0)["search"]["values"]
        if loss == "nonsaturating":
            assert values["optimizer.lr_d"] == 4e-4 and values["n_critic"] == 2  # the override is the set-up


def test_setting_zero_of_a_preset_is_the_preset():
    cfg = searched(budget=2)
    cfg["grid"]["presets"] = {"slow": {"optimizer.lr_g": 1.0e-5}}
    cfg = acfg.validate(cfg)
    assert search.labels(cfg) == ["gan+slow+search-0", "gan+slow+search-1"]
    _setting_zero_is_the_set_up(cfg, "8gaussians", "gan+slow", "nonsaturating")
    zero = gcfg.resolve_run(cfg, "8gaussians", "gan+slow+search-0", "nonsaturating", 0)
    assert zero["optimizer"]["lr_g"] == 1e-5 and zero["setting"] == {"optimizer.lr_g": 1e-5}


def test_a_larger_budget_leaves_the_drawn_settings_as_they_were():
    """Snakemake reruns a job when its resolved config (a param) changes: none does."""
    before, after = acfg.validate(searched(budget=4)), acfg.validate(searched(budget=8))
    assert search.labels(after)[:4] == search.labels(before)
    old = search.runs(before)
    assert [r for r in search.runs(after) if r in old] == old and len(search.runs(after)) == 2 * len(old)
    for run in old:
        assert gcfg.resolve_run(after, **run) == gcfg.resolve_run(before, **run)


def test_the_best_trains_new_seeds_and_the_grid_seeds_are_not_used():
    cfg = acfg.validate(searched(budget=3, train_seed=4, seeds_for_best=3))
    assert search.best_seeds(cfg) == [5, 6, 7]
    assert {r["seed"] for r in search.runs(cfg)} == {4}


def test_several_seeds_per_setting_come_before_the_best_seeds_and_only_add_runs():
    """seeds_per_setting 3: every setting at seeds 4, 5, 6, the best's new seeds after
    them; the one-seed search's runs stay the first of each cell, unchanged."""
    one, three = (acfg.validate(searched(budget=3, train_seed=4, seeds_per_setting=k)) for k in (1, 3))
    assert search.setting_seeds(three) == [4, 5, 6] and search.best_seeds(three) == [7, 8]
    for d, label, loss in search.cells(three):
        runs = search.cell_runs(three, d, label, loss)
        assert runs[:3] == search.cell_runs(one, d, label, loss)
        assert sorted((r["variant"], r["seed"]) for r in runs) == sorted(
            (search.search_label(label, i), seed) for i in range(3) for seed in (4, 5, 6)
        )
    assert len(search.runs(three)) == 3 * len(search.runs(one))
    assert {e["tuning"] for e in search.tuning(three)} == {"best of 3 settings (3 seeds each)"}


def test_an_optimizer_argument_the_set_up_lacks_is_not_searched():
    cfg = searched(budget=2)
    cfg["grid"]["losses"] = ["wgan"]  # RMSProp: no betas
    cfg = acfg.validate(cfg)
    assert sorted(space_of(cfg, "8gaussians", "gan", "wgan")) == [
        "n_critic",
        "optimizer.lr_d",
        "optimizer.lr_g",
        "regularizers.weight_clipping.clip",
    ]


def test_a_config_narrows_replaces_and_removes_ranges():
    cfg = searched(
        budget=4,
        space={"optimizer.lr_d": {"log_uniform": [1.0e-4, 1.0e-3]}, "regularizers.gradient_penalty.weight": None},
        losses={"nonsaturating": {"n_critic": {"choice": [1, 2]}}},
    )
    cfg = acfg.validate(cfg)
    ns = space_of(cfg, "8gaussians", "gan", "nonsaturating")
    gp = space_of(cfg, "8gaussians", "gan", "wgan-gp")
    assert ns["optimizer.lr_d"] == gp["optimizer.lr_d"] == {"log_uniform": [1e-4, 1e-3]}
    assert ns["n_critic"] == {"choice": [1, 2]} and gp["n_critic"] == {"int": [1, 5]}
    assert "regularizers.gradient_penalty.weight" not in gp
    for i in range(1, 4):
        values = gcfg.resolve_run(cfg, "8gaussians", f"gan+search-{i}", "nonsaturating", 0)["search"]["values"]
        assert 1e-4 <= values["optimizer.lr_d"] <= 1e-3 and values["n_critic"] in (1, 2)
    only = acfg.validate(searched(budget=2, replace=True, space={"optimizer.lr_g": {"log_uniform": [1.0e-4, 1.0e-3]}}))
    assert space_of(only, "8gaussians", "gan", "wgan-gp") == {"optimizer.lr_g": {"log_uniform": [1e-4, 1e-3]}}


@pytest.mark.parametrize(
    "section, message",
    [
        ({"budget": 0}, "config key 'search.budget': 0 is less than the minimum of 1"),
        ({"budgett": 8}, "config key 'search': Additional properties are not allowed"),
        ({"space": {"optimizer.lr_x": {"log_uniform": [1.0e-4, 1.0e-3]}}}, "config key 'search.space.optimizer.lr_x'"),
        (
            {"losses": {"nonsaturating": {"regularizers.gradient_penalty.weight": {"log_uniform": [1.0, 2.0]}}}},
            "config key 'search.losses.nonsaturating.regularizers.gradient_penalty.weight': no 'regularizers",
        ),
        ({"space": {"optimizer.lr_d": {"loguniform": [1.0e-4, 1.0e-3]}}}, "unknown range 'loguniform'; choose one of"),
        (
            {"space": {"optimizer.lr_d": {"log_uniform": [1.0e-2, 1.0e-3]}}},
            "'search.space.optimizer.lr_d': log_uniform bound low 0.01 > high 0.001",
        ),
        (
            {"space": {"optimizer.lr_d": {"log_uniform": [0.0, 1.0e-3]}}},
            "'search.space.optimizer.lr_d': log_uniform needs low > 0",
        ),
        (
            {"space": {"n_critic": {"uniform": [1, 5]}}},
            "'search.space.n_critic': a uniform range gives 1.0, but 'n_critic' holds 1",
        ),
        ({"space": {"n_critic": {"choice": []}}}, "'search.space.n_critic': choice takes a non-empty list"),
        ({"replace": True}, "config key 'search': the search space of 8gaussians/gan/nonsaturating is empty"),
        (
            {"losses": {"nonsaturating": {p: None for p in LOSSES.get("nonsaturating").search_space}}},
            "config key 'search': the search space of 8gaussians/gan/nonsaturating is empty",
        ),
        (
            {"losses": {"nonsaturatin": {}}},
            "config key 'search.losses.nonsaturatin': loss 'nonsaturatin' is not registered",
        ),
        ({"tie_break": ["reverse-kl"]}, "config key 'search.tie_break': no metric gives 'reverse-kl'"),
        (
            {"select_by": "precision"},
            "config key 'search.select_by': 'precision' is not evaluated on dataset '8gaussians'",
        ),
    ],
)
def test_a_bad_search_fails_before_any_job_naming_the_key(section, message):
    cfg = searched(**section)
    cfg["evaluation"] = {**cfg["evaluation"], "metrics": {"points": ["modes", "fid"]}}
    with pytest.raises(gcfg.ConfigError) as err:
        acfg.validate(cfg)
    assert message in str(err.value)


@pytest.mark.parametrize("budget", [2, 8])
def test_a_range_admitting_a_setting_the_run_cannot_train_is_refused_whatever_the_budget(budget):
    cfg = searched(budget=budget, space={"architecture.params.depth": {"int": [0, 2]}})  # depth 0 makes no network
    cfg["grid"]["losses"] = ["nonsaturating"]
    with pytest.raises(
        gcfg.ConfigError,
        match=r"'search.space.architecture.params.depth': the range admits 0, which 8gaussians/gan/nonsaturating "
        r"refuses \(run 8gaussians/gan/nonsaturating: 'architecture.params.depth': 0 is less than the minimum of 1 \(mlp's depth\)\)",
    ):
        acfg.validate(cfg)


def test_a_key_is_either_swept_or_searched():
    cfg = searched(budget=2)
    cfg["grid"]["sweep"] = {"optimizer.betas": [[0.5, 0.999]]}
    with pytest.raises(
        gcfg.ConfigError, match="config key 'grid.sweep.optimizer.betas': 'optimizer.betas' is also searched"
    ):
        acfg.validate(cfg)


@pytest.mark.parametrize(
    "registry, prefix", [(LOSSES, "loss"), (REGULARIZERS, "regularizer"), (VARIANTS, "variant")], ids=lambda x: str(x)
)
def test_every_declared_range_is_well_formed(registry, prefix):
    for _, cls in registry.items():
        for path, spec in cls.search_space.items():
            space.check_range(spec)
            assert path.startswith(("optimizer.", "n_critic", "loss.params.", "regularizers.", "variant.params."))
            if path.startswith("variant.params."):
                assert path.removeprefix("variant.params.") in cls.defaults
            if path.startswith("regularizers."):
                assert path.split(".")[1] == cls.name and path.split(".")[2] in cls.defaults


def test_tuning_says_how_each_cell_was_set():
    cfg = copy.deepcopy(TINY)
    cfg["losses"] = {"nonsaturating": {"optimizer": {"lr_d": 4.0e-4}}}
    cfg = acfg.validate(cfg)
    assert {e["loss"]: e["tuning"] for e in search.tuning(cfg)} == {
        "nonsaturating": "config override: losses.nonsaturating.optimizer",
        "wgan-gp": search.UNTUNED,
    }
    assert {e["tuning"] for e in search.tuning(acfg.validate(searched(budget=5)))} == {"best of 5 settings"}


def test_a_new_variant_brings_its_space_in_its_own_module(tmp_path, monkeypatch):
    shutil.copy(gcfg.ROOT / "docs" / "example_variant.py", tmp_path / "dropout_d.py")
    monkeypatch.setattr(gans.variants, "__path__", [*gans.variants.__path__, str(tmp_path)])
    monkeypatch.setattr(VARIANTS, "_discovered", False)
    monkeypatch.setattr(VARIANTS, "_items", dict(VARIANTS._items))
    monkeypatch.delitem(sys.modules, "gans.variants.dropout_d", raising=False)  # imported afresh, registered here
    try:
        cfg = searched(budget=3)
        cfg["grid"]["variants"] = ["dropout-d"]
        cfg = acfg.validate(cfg)
        space = space_of(cfg, "8gaussians", "dropout-d", "nonsaturating")
        assert space == {**LOSSES.get("nonsaturating").search_space, "variant.params.p": {"uniform": [0.0, 0.5]}}
        for i in range(1, 3):
            run = gcfg.resolve_run(cfg, "8gaussians", f"dropout-d+search-{i}", "nonsaturating", 0)
            assert run["variant"]["params"]["p"] == run["search"]["values"]["variant.params.p"] != 0.3
    finally:
        sys.modules.pop("gans.variants.dropout_d", None)
