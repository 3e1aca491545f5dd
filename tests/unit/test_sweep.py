"""Any key of the resolved run config as a grid axis: labels, resolution, and bad
keys or values refused before any job, naming the valid choices."""

import copy

import pytest

from analysis import config as acfg
from gans import config as gcfg
from tests.conftest import TINY


def swept(sweep=None, presets=None, **grid):
    cfg = copy.deepcopy(TINY)
    cfg["grid"].update(grid)
    if sweep is not None:
        cfg["grid"]["sweep"] = sweep
    if presets is not None:
        cfg["grid"]["presets"] = presets
    return cfg


def test_every_combination_is_a_labelled_column_of_the_variant_axis():
    cfg = acfg.validate(swept({"optimizer.name": ["adam", "sgd"], "n_critic": [1, 5]}))
    labels = [
        "gan+optimizer.name=adam+n_critic=1",
        "gan+optimizer.name=adam+n_critic=5",
        "gan+optimizer.name=sgd+n_critic=1",
        "gan+optimizer.name=sgd+n_critic=5",
    ]
    assert list(gcfg.variant_labels(cfg)) == labels
    runs = list(gcfg.grid(cfg))
    assert len(runs) == 4 * 2 * 2  # labels x losses x seeds
    assert [r["variant"] for r in runs[::4]] == labels


def test_swept_values_are_set_on_top_of_the_resolved_run_and_recorded():
    cfg = swept({"optimizer.name": ["adam", "sgd"], "optimizer.lr_d": [1.0e-3], "train.batch_size": [32]})
    cfg["losses"] = {"wgan-gp": {"optimizer": {"lr_d": 5.0e-4}}}
    cfg = acfg.validate(cfg)
    base = gcfg.resolve_run(cfg, "8gaussians", "gan", "wgan-gp", 1)  # the registered variant's plain run
    assert base["optimizer"] == {"name": "adam", "lr_d": 5e-4, "lr_g": 1e-4, "betas": [0.5, 0.9]}
    run = gcfg.resolve_run(
        cfg, "8gaussians", "gan+optimizer.name=sgd+optimizer.lr_d=0.001+train.batch_size=32", "wgan-gp", 1
    )
    # the sweep wins over the per-loss override; a new optimizer keeps only the learning rates
    assert run["optimizer"] == {"name": "sgd", "lr_d": 1e-3, "lr_g": 1e-4}
    assert run["train"] == {**base["train"], "batch_size": 32}
    assert run["variant"] == {
        "name": "gan",
        "params": {},
        "label": "gan+optimizer.name=sgd+optimizer.lr_d=0.001+train.batch_size=32",
    }
    assert run["setting"] == {"optimizer.name": "sgd", "optimizer.lr_d": 1e-3, "train.batch_size": 32}
    untouched = {k for k in base if base[k] != run[k]}
    assert untouched == {"optimizer", "train", "variant"}
    assert gcfg.run_label(run) == run["variant"]["label"] and gcfg.run_label(base) == "gan"


def test_without_a_sweep_labels_are_the_variant_names_and_runs_unchanged(tiny_config):
    assert list(gcfg.variant_labels(tiny_config)) == ["gan"]
    run = gcfg.resolve_run(tiny_config, "8gaussians", "gan", "nonsaturating", 0)
    assert "setting" not in run and run["variant"] == {"name": "gan", "params": {}}  # no rerun of existing results


def test_a_new_swept_value_leaves_the_existing_runs_as_they_were():
    """Snakemake reruns a job when its path or its resolved config (a param) changes:
    neither does for the values already swept."""
    before = acfg.validate(swept({"optimizer.name": ["adam", "sgd"]}))
    after = acfg.validate(swept({"optimizer.name": ["adam", "sgd", "rmsprop"]}))
    assert list(gcfg.variant_labels(after)) == [*gcfg.variant_labels(before), "gan+optimizer.name=rmsprop"]
    for run in gcfg.grid(before):
        assert gcfg.resolve_run(after, **run) == gcfg.resolve_run(before, **run)


def test_a_new_torch_argument_may_be_swept_into_the_optimizer():
    cfg = acfg.validate(swept({"optimizer.momentum": [0.0, 0.9]}, presets={"sgd": {"optimizer.name": "sgd"}}))
    run = gcfg.resolve_run(cfg, "8gaussians", "gan+sgd+optimizer.momentum=0.9", "nonsaturating", 0)
    assert run["optimizer"] == {"name": "sgd", "lr_d": 1e-4, "lr_g": 1e-4, "momentum": 0.9}


def test_presets_are_named_columns_and_cross_the_sweep():
    presets = {"fast-sgd": {"optimizer.name": "sgd", "optimizer.lr_d": 0.01, "optimizer.lr_g": 0.01}, "plain": {}}
    cfg = acfg.validate(swept({"train.batch_size": [32, 64]}, presets, losses=["nonsaturating"]))
    assert list(gcfg.variant_labels(cfg)) == [
        "gan+fast-sgd+train.batch_size=32",
        "gan+fast-sgd+train.batch_size=64",
        "gan+plain+train.batch_size=32",
        "gan+plain+train.batch_size=64",
    ]
    run = gcfg.resolve_run(cfg, "8gaussians", "gan+fast-sgd+train.batch_size=64", "nonsaturating", 0)
    assert run["optimizer"] == {"name": "sgd", "lr_d": 0.01, "lr_g": 0.01}
    assert run["variant"]["preset"] == "fast-sgd" and run["setting"]["train.batch_size"] == 64


def test_skipped_cells_are_listed_per_label():
    cfg = acfg.validate(
        swept({"train.batch_size": [32, 64]}, variants=["gan", "ebgan"], losses=["nonsaturating", "ebgan"])
    )
    skipped = {(s["variant"], s["loss"]): s["reason"] for s in gcfg.skipped(cfg)}
    assert set(skipped) == {
        (f"{v}+train.batch_size={b}", loss)
        for b in (32, 64)
        for v, loss in (("gan", "ebgan"), ("ebgan", "nonsaturating"))
    }
    assert all(skipped.values())
    assert {r["variant"] for r in gcfg.grid(cfg)} == {
        f"{v}+train.batch_size={b}" for v in ("gan", "ebgan") for b in (32, 64)
    }


@pytest.mark.parametrize(
    "cfg, message",
    [
        (
            swept({"train.n_critic": [1, 5]}),
            r"config key 'grid.sweep.train.n_critic': no key 'n_critic' in 'train' of the resolved run config of "
            r"8gaussians/gan/nonsaturating; valid keys: batch_size, .*checkpoint_every, .*steps",
        ),
        (
            swept({"optimiser.name": ["sgd"]}),
            r"no key 'optimiser' at the top level .*valid keys: architecture, dataset, loss, n_critic, n_gen, noise_dim, optimizer",
        ),
        (
            swept({"regularizers.gradient_penalty.weight": [1.0]}),  # wgan-gp has it, nonsaturating not
            r"no key 'gradient_penalty' in 'regularizers' .*8gaussians/gan/nonsaturating; valid keys: \(none\)",
        ),
        (swept({"train.steps.max": [1]}), r"'train.steps' is a value \(40\), not a section"),
        (
            swept({"optimizer": [{"name": "sgd"}]}),
            r"the value \{'name': 'sgd'\} cannot name a run folder; .*a section's keys one by one",
        ),
        (
            swept(presets={"p": {"optimizer": {"name": "sgd"}}}),
            r"'optimizer' is a section .*sweep its keys: betas, lr_d, lr_g, name",
        ),
        (swept({"seed": [3]}), r"config key 'grid.sweep.seed': 'seed' is a grid axis; set grid.seeds instead"),
        (swept({"loss.name": ["hinge"]}), r"'loss.name' is a grid axis; set grid.losses instead"),
        (
            swept({"optimizer.name": ["adam", "adamw"]}),
            r"run 8gaussians/gan\+optimizer.name=adamw/nonsaturating: 'optimizer.name': 'adamw' is not one of \['adam', 'rmsprop', 'sgd'\]",
        ),
        (swept({"optimizer.lr_g": [0.0]}), r"'optimizer.lr_g': 0.0 is less than or equal to the minimum of 0"),
        (
            swept({"optimizer.lr_g": ["1e-4"]}),
            r"'1e-4' is a string, but 'optimizer.lr_g' holds a number .*write 1.0e-4",
        ),
        (
            swept({"architecture.params.width": [16.5]}),
            r"16.5 is a number, but 'architecture.params.width' holds an integer \(32\)",
        ),
        (
            swept({"optimizer.momentum": [0.9]}),
            r"optimizer 'adam' has no argument 'momentum'; valid keys: amsgrad, betas",
        ),
        (swept({"optimizer.betas": [[1.5, 0.9]]}), r"optimizer 'adam': Invalid beta parameter at index 0: 1.5"),
        (swept({"train.steps": [0]}), r"'train.steps': 0 is less than the minimum of 1"),
        (
            swept({"variant.params.pack": [2, 1]}, variants=["pacgan"]),  # the variant's declared bound
            r"run 8gaussians/pacgan\+variant.params.pack=1/nonsaturating: 'variant.params.pack': 1 is less than the minimum of 2",
        ),
        (
            swept({"optimizer.name": ["sg/d"]}),
            r"config key 'grid.sweep.optimizer.name': the value 'sg/d' cannot name a run folder",
        ),
        (swept({"train.device": ["cpu", None, "null"]}), r"two settings share the label 'gan\+train.device=null'"),
        (swept({"optimizer.lr_d": []}), r"config key 'grid.sweep.optimizer.lr_d': \[\] should be non-empty"),
        (swept({"optimizer name": ["sgd"]}), r"config key 'grid.sweep': 'optimizer name' does not match"),
        (
            swept({"n_critic": [2]}, {"sgd": {"optimizer.name": "sgd", "n_critic": 3}}),
            r"config key 'grid.sweep.n_critic': also set by grid.presets.sgd",
        ),
        (
            swept(presets={"p": {"noise_dm": 3}}),
            r"config key 'grid.presets.p.noise_dm': no key 'noise_dm' at the top level",
        ),
        (swept(presets={"a=b": {}}), r"config key 'grid.presets': 'a=b' does not match"),
    ],
)
def test_bad_sweeps_are_refused_before_any_job(cfg, message):
    with pytest.raises(gcfg.ConfigError, match=message):
        acfg.validate(cfg)


def test_an_unknown_label_names_the_grid_labels():
    cfg = acfg.validate(swept({"optimizer.name": ["adam", "sgd"]}))
    with pytest.raises(
        gcfg.ConfigError,
        match=r"no variant label 'gan\+optimizer.name=rmsprop' in the grid; its labels: "
        r"gan\+optimizer.name=adam, gan\+optimizer.name=sgd",
    ):
        gcfg.resolve_run(cfg, "8gaussians", "gan+optimizer.name=rmsprop", "nonsaturating", 0)


def test_a_preset_switches_a_regularizer_on_with_its_defaults():
    cfg = {
        "grid": {
            "datasets": ["dirac"],
            "variants": ["gan"],
            "losses": ["nonsaturating"],
            "seeds": [0],
            "presets": {"r1r2": {"regularizers.r1.weight": 2.0, "regularizers.r2.weight": 3.0}},
        },
        "analysis": {"targets": {}},
    }
    run = gcfg.resolve_run(acfg.validate(cfg), "dirac", "gan+r1r2", "nonsaturating", 0)
    assert run["regularizers"] == {"r1": {"weight": 2.0}, "r2": {"weight": 3.0}}
