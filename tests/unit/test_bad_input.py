"""Every bad input is refused before any work starts, with a message that names the
config key, what is wrong and what it takes; settings no run uses are said at
launch; values given on Snakemake's command line are typed as in a config file."""

import copy
import json

import pytest
from snakemake.cli import parse_config

from analysis import config as acfg
from analysis.launch import check_yaml
from gans import config as gcfg
from gans.config.checks import check_device, notices
from gans.config.overrides import type_command_line
from gans.datasets import build_dataset
from gans.runtime import visible_gpu_count
from gans.train import main as train_main
from metrics import config as mcfg
from metrics.evaluate import main as evaluate_main
from tests.conftest import TINY
from tests.conftest import tiny_with as bad


def on(dataset="8gaussians", variant="gan", loss="nonsaturating", **changes):
    """``bad`` on a one-cell grid."""
    return bad(grid={"datasets": [dataset], "variants": [variant], "losses": [loss], "seeds": [0]}, **changes)


BAD_CONFIGS = [
    # component parameters: types (a number as text, a scalar for a list) and bounds
    (
        bad(models__points__params__width="128"),
        "'models.points.params.width': '128' is a string; mlp's width takes an integer (a number in quotes is text",
    ),
    (
        bad(models__points__params__width=128.5),
        "'models.points.params.width': 128.5 is a number; mlp's width takes an integer",
    ),
    (
        bad(models__points__params__depth=0),
        "'models.points.params.depth': 0 is less than the minimum of 1 (mlp's depth)",
    ),
    (
        bad(models__points__params__width=True),
        "'models.points.params.width': True is a boolean; mlp's width takes an integer",
    ),
    (
        on(variant="pacgan", variants={"pacgan": {"pack": "2"}}),
        "'variants.pacgan.pack': '2' is a string; pacgan's pack takes an integer",
    ),
    (on(variant="pacgan", variants={"pacgan": {"pack": 1}}), "'variants.pacgan.pack': 1 is less than the minimum of 2"),
    (
        on(variant="infogan", variants={"infogan": {"categories": 0}}),
        "'variants.infogan.categories': 0 is less than the minimum of 1",
    ),
    (
        on(variant="infogan", variants={"infogan": {"lambda_cat": "1"}}),
        "'variants.infogan.lambda_cat': '1' is a string; infogan's lambda_cat takes a number",
    ),
    (
        on(variant="ebgan", loss="ebgan", variants={"ebgan": {"code_dim": 0}}),
        "'variants.ebgan.code_dim': 0 is less than the minimum of 1",
    ),
    (
        on(variant="catgan", loss="catgan", variants={"catgan": {"classes": "8"}}),
        "'variants.catgan.classes': '8' is a string; catgan's classes takes an integer or null",
    ),
    (
        on(variant="catgan", loss="catgan", variants={"catgan": {"classes": 1}}),
        "'variants.catgan.classes': 1 is less than the minimum of 2",
    ),
    (
        on(variant="improved", variants={"improved": {"feature_matching": "yes"}}),
        "'variants.improved.feature_matching': 'yes' is a string; improved's feature_matching takes true or false",
    ),
    (
        on(per_dataset={"8gaussians": {"variants": {"vaegan": {"kl_weight": -1.0}}}}, variant="vaegan"),
        "'per_dataset.8gaussians.variants.vaegan.kl_weight': -1.0 is less than the minimum of 0",
    ),
    (
        bad(datasets={"8gaussians": {"modes": 0}}),
        "'datasets.8gaussians.modes': 0 is less than the minimum of 1 (8gaussians' modes)",
    ),
    (
        bad(datasets={"8gaussians": {"std": -0.1}}),
        "'datasets.8gaussians.std': -0.1 is less than or equal to the minimum of 0",
    ),
    (
        bad(datasets={"25gaussians": {"grid": "5"}}),
        "'datasets.25gaussians.grid': '5' is a string; 25gaussians' grid takes an integer",
    ),
    (
        on("digits", datasets={"digits": {"test_fraction": 1.0}}),
        "'datasets.digits.test_fraction': 1.0 is greater than or equal to the maximum of 1",
    ),
    (
        on("digits", models={"images": {"architecture": "image-mlp", "params": {"g_widths": 256}}}),
        "'models.images.params.g_widths': 256 is an integer; image-mlp's g_widths takes a list of integers",
    ),
    (
        on("digits", models={"images": {"architecture": "image-mlp", "params": {"d_widths": [512, 0]}}}),
        "'models.images.params.d_widths.1': 0 is less than the minimum of 1",
    ),
    (
        on("digits", models={"images": {"params": {"ngf": 0}}}),
        "'models.images.params.ngf': 0 is less than the minimum of 1 (dcgan's ngf)",
    ),
    (
        on(loss="fgan-kl", losses={"fgan-kl": {"params": {"generator": "tricky"}}}),
        "'losses.fgan-kl.params.generator': 'tricky' is not one of ['trick', 'saddle']",
    ),
    (
        on(loss="lsgan", losses={"lsgan": {"params": {"a": "0"}}}),
        "'losses.lsgan.params.a': '0' is a string; lsgan's a takes a number",
    ),
    (
        bad(regularizers={"weight_clipping": {"clip": -0.01}}),
        "'regularizers.weight_clipping.clip': -0.01 is less than or equal to the minimum of 0",
    ),
    (
        on(loss="wgan", losses={"wgan": {"regularizers": {"weight_clipping": {"clip": "0.01"}}}}),
        "'losses.wgan.regularizers.weight_clipping.clip': '0.01' is a string",
    ),
    (
        bad(regularizers={"spectral_norm": {"power_iterations": 0}}),
        "'regularizers.spectral_norm.power_iterations': 0 is less than the minimum of 1",
    ),
    (bad(regularizers={"r3": {}}), "config key 'regularizers.r3': unknown regularizer 'r3'; choose one of"),
    # optimizer arguments take the types of torch's signature
    (
        bad(losses={"nonsaturating": {"optimizer": {"betas": 0.5}}}),
        "'losses.nonsaturating.optimizer.betas': 0.5 is a number; optimizer adam's betas takes a list of 2 numbers",
    ),
    (
        bad(losses={"nonsaturating": {"optimizer": {"betas": [0.5, 0.9, 0.99]}}}),
        "'losses.nonsaturating.optimizer.betas': [0.5, 0.9, 0.99] is too long",
    ),
    (
        bad(losses={"nonsaturating": {"optimizer": {"momentum": 0.9}}}),
        "'losses.nonsaturating.optimizer.momentum': optimizer 'adam' has no argument 'momentum'; valid keys: amsgrad",
    ),
    (
        bad(losses={"nonsaturating": {"optimizer": {"lr_d": "1e-4"}}}),
        "'losses.nonsaturating.optimizer.lr_d': '1e-4' is a string; the key takes a number (YAML reads 1e-4 as text: write 1.0e-4)",
    ),
    # top-level keys: a number written as text
    (bad(train__steps="500"), "'train.steps': '500' is a string; the key takes an integer (a number in quotes is text"),
    (bad(grid__seeds=[0, "1"]), "'grid.seeds.1': '1' is a string; the key takes an integer"),
    # a whole number written as a float: JSON Schema would count it an integer, range() and torch do not
    (bad(train__steps=1.0e6), "'train.steps': 1000000.0 is a number; the key takes an integer (write 1000000)"),
    (
        bad(models__points__params__width=128.0),
        "'models.points.params.width': 128.0 is a number; mlp's width takes an integer (write 128)",
    ),
    # values that would fail inside a job: device, network sizes, image size, evaluation counts
    (bad(train__device="gpu"), "'train.device': unknown device 'gpu'; choose auto, cpu, cuda, cuda:N or mps"),
    (
        bad(per_dataset={"8gaussians": {"train": {"device": "cuda:x"}}}),
        "'per_dataset.8gaussians.train.device': unknown device 'cuda:x'",
    ),
    (bad(models__points__noise_dim=0), "'models.points.noise_dim': 0 is less than the minimum of 1"),
    (
        on("digits", datasets={"digits": {"size": 20}}),
        "architecture 'dcgan' supports images of 1 or 3 channels and size 28x28 or 32x32; got shape (1, 20, 20)",
    ),
    (
        on("digits", models={"images": {"architecture": "upsample-cnn"}}, datasets={"digits": {"size": 24}}),
        "architecture 'upsample-cnn' supports images of 1 or 3 channels and size 28x28 or 32x32; got shape (1, 24, 24)",
    ),
    (
        bad(evaluation__prc__neighborhood=200),
        "'evaluation.prc.neighborhood': k = 200 nearest neighbours need more than k samples on each side, and evaluation for dataset '8gaussians' uses 200 generated and 200 real samples",
    ),
    (
        bad(evaluation__kid__subset_size=500),
        "'evaluation.kid.subset_size': subsets of 500 samples, but evaluation for dataset '8gaussians' uses 200 generated and 200 real samples",
    ),
    (on("digits", evaluation={"images": {"num_samples": 50}}), "'evaluation.kid.subset_size': subsets of 1000 samples"),
    (
        on("digits", evaluation={"images": {"num_samples": 64, "isc_splits": 100}, "kid": {"subset_size": 50}}),
        "'evaluation.images.isc_splits': 100 splits of 64 generated images",
    ),
    (
        on("digits", evaluation={"images": {"num_samples": 50, "grid": 64}, "kid": {"subset_size": 50}}),
        "'evaluation.images.grid': a grid of 64 images, but only 50 are generated",
    ),
    # analysis: misspelt metric, wrong direction, misspelt target or baseline
    (
        bad(analysis={"main_metric": {"points": {"name": "modes_coverd"}}}),
        "'analysis.main_metric.points.name': 'modes_coverd' is not measured on dataset '8gaussians'; choose one of: coverage, density, f_score, fid",
    ),
    (
        bad(analysis={"main_metric": {"points": {"name": "fid"}}}),
        "'analysis.main_metric.points.higher_is_better': true, but higher fid is worse; set it to false",
    ),
    (
        bad(evaluation={"metrics": {"points": ["fid"]}}),
        "'analysis.main_metric.points.name': 'modes_covered' is not measured on dataset '8gaussians'; choose one of: fid",
    ),
    (bad(analysis={"targets": {"fidd": 0.1}}), "'analysis.targets.fidd': no metric measures 'fidd'; choose one of"),
    (
        bad(analysis={"targets": {"fid": "all"}}),
        "'analysis.targets.fid': 'all' (every mode) applies to modes_covered only",
    ),
    (bad(analysis={"baseline": "nonsaturatin"}), "'analysis.baseline': unknown loss 'nonsaturatin'; choose one of"),
    # NaN and infinity pass every bound; anywhere in a config they are refused by key
    (bad(train__divergence_threshold=float("nan")), "'train.divergence_threshold': nan is not a finite number"),
    (bad(datasets={"8gaussians": {"std": float("inf")}}), "'datasets.8gaussians.std': inf is not a finite number"),
    (bad(analysis={"confidence": float("nan")}), "'analysis.confidence': nan is not a finite number"),
    (bad(analysis={"targets": {"fid": float("-inf")}}), "'analysis.targets.fid': -inf is not a finite number"),
    # the reference copy stays inside results/reference
    (
        bad(reference_folder="results/reference/../.."),
        "'reference_folder': 'results/reference/../..' is not a folder in results/reference",
    ),
    (bad(reference_folder="results/reference/./x"), "without '.' or '..' parts"),
    # seeds within what the generators take, whatever offsets a run adds
    (bad(grid__seeds=[2**64]), "'grid.seeds.0': 18446744073709551616 is greater than the maximum of 2147483647"),
    (bad(evaluation={"seed": 2**40}), "'evaluation.seed': 1099511627776 is greater than the maximum of 2147483647"),
    # published anchors: known, and mapped to a cell the config trains
    (
        bad(reproductions={"nope": {"dataset": "8gaussians", "variant": "gan", "loss": "nonsaturating"}}),
        "'reproductions': unknown anchor 'nope'; choose from: pacgan-ring-gan",
    ),
    (
        bad(reproductions={"pacgan-grid-gan": {"dataset": "25gaussians", "variant": "gan", "loss": "minimax"}}),
        "'reproductions.pacgan-grid-gan': the cell 25gaussians/gan/minimax is not in the grid",
    ),
    # a search range is checked at its ends, whatever settings the budget happens to draw
    (
        on(search={"budget": 2, "space": {"n_critic": {"int": [0, 3]}}}),
        "'search.space.n_critic': the range admits 0, which 8gaussians/gan/nonsaturating refuses",
    ),
    (
        on(search={"budget": 2, "space": {"optimizer.betas.0": {"uniform": [0.0, 1.5]}}}),
        "'search.space.optimizer.betas.0': the range admits 1.5",
    ),
    # two presets of one block that would train the same runs under two labels
    (
        bad(grid={**TINY["grid"], "presets": {"fast": {"optimizer.lr_d": 0.001}, "quick": {"optimizer.lr_d": 0.001}}}),
        "'grid.presets.quick': the same settings as grid.presets.fast",
    ),
    # a feature extractor is set for an image dataset
    (
        bad(evaluation={"extractors": {"digitz": "lenet"}}),
        "'evaluation.extractors.digitz': unknown dataset 'digitz'; a feature extractor is set for an image dataset",
    ),
    (
        bad(evaluation={"extractors": {"8gaussians": "lenet"}}),
        "'evaluation.extractors.8gaussians': '8gaussians' has no images",
    ),
    # converged means the bar held at the last hold_points evaluation points: a run must have them
    (
        bad(analysis={"hold_points": 4}),
        "'analysis.hold_points': 4, but the runs of 8gaussians/gan/nonsaturating have 3 evaluation points",
    ),
    # sizes no machine could train: refused by their arithmetic, not by a cap on one key
    (bad(train__steps=10**21), "'train.steps': 1e+21 steps of"),
    (
        bad(models__points__params__width=10**9),
        "'models.points.params': mlp {'width': 1000000000, 'depth': 2} at batch",
    ),
]


@pytest.mark.parametrize("cfg, words", BAD_CONFIGS, ids=[w.split(":")[0][:60] for _, w in BAD_CONFIGS])
def test_bad_config_is_refused_naming_the_key(cfg, words):
    with pytest.raises(gcfg.ConfigError) as err:
        acfg.validate(cfg)
    assert words in str(err.value)


def test_swept_values_get_the_same_checks():
    cfg = bad(grid={**TINY["grid"], "sweep": {"architecture.params.depth": [2, 0]}})
    with pytest.raises(
        gcfg.ConfigError, match=r"gan\+architecture.params.depth=0.*'architecture.params.depth': 0 is less"
    ):
        acfg.validate(cfg)


def test_notes_name_what_no_run_uses():
    cfg = acfg.validate(
        bad(
            grid={"datasets": ["8gaussians"], "variants": ["ebgan", "gan"], "losses": ["ebgan", "wgan"], "seeds": [0]},
            per_dataset={"digits": {"seeds": [0]}},
            losses={"hinge": {"n_critic": 2}},
            train={"steps": 40, "eval_every": 100, "log_every": 10},
            analysis={"baseline": "nonsaturating"},
            evaluation={**TINY["evaluation"], "extractors": {"mnist": "lenet"}},
        )
    )
    said = "\n".join(notices(cfg) + acfg.notices(cfg))
    assert "2 grid cells are not run" in said and "ebgan x wgan on 8gaussians; gan x ebgan on 8gaussians" in said
    assert "per_dataset.digits, losses.hinge" in said
    assert (
        "8gaussians: train.eval_every (100) exceeds train.steps (40): runs are evaluated at the last step only" in said
    )
    assert "analysis.baseline 'nonsaturating' is not in the grid's losses" in said
    assert "(no image dataset of that name in it): evaluation.extractors.mnist" in said
    assert notices(acfg.validate(copy.deepcopy(TINY))) == []


# the README's override forms, as a shell hands them to Snakemake
OVERRIDES = [
    (['train={"steps": 500}'], ("train", "steps"), 500),
    (['grid={"seeds": [0]}'], ("grid", "seeds"), [0]),
    (['losses={"wgan": {"optimizer": {"lr_d": 1e-4}}}'], ("losses", "wgan", "optimizer", "lr_d"), 1e-4),
    (['variants={"pacgan": {"pack": 4}}'], ("variants", "pacgan", "pack"), 4),
    (['train={"channels_last": true, "device": "cpu"}'], ("train", "channels_last"), True),
    (
        ['evaluation={"inception": {"feature_extractor_weights_path": null}}'],
        ("evaluation", "inception", "feature_extractor_weights_path"),
        None,
    ),
    (
        ['losses={"fgan-kl": {"params": {"generator": "saddle"}}}'],
        ("losses", "fgan-kl", "params", "generator"),
        "saddle",
    ),
    (['grid=[{"datasets": ["8gaussians"], "seeds": [0, 1]}]'], ("grid", 0, "seeds"), [0, 1]),
    (
        ['per_dataset={"8gaussians": {"train": {"steps": 20, "eval_every": 10}}}'],
        ("per_dataset", "8gaussians", "train", "steps"),
        20,
    ),
    (["data_root=2024"], ("data_root",), "2024"),
    (['datasets={"mnist": {"root": "123"}}'], ("datasets", "mnist", "root"), "123"),
    (
        ['grid={"sweep": {"n_critic": [1, 5], "optimizer.name": ["adam", "sgd"]}}'],
        ("grid", "sweep", "n_critic"),
        [1, 5],
    ),
]


@pytest.mark.parametrize("args, path, value", OVERRIDES, ids=[a[0] for a, _, _ in OVERRIDES])
def test_command_line_values_are_typed_as_in_a_config_file(args, path, value):
    given = parse_config(args)  # what Snakemake hands the Snakefile: nested scalars as text
    config = copy.deepcopy(TINY)
    for key, v in given.items():
        config[key] = {**config.get(key, {}), **v} if isinstance(v, dict) and isinstance(config.get(key), dict) else v
    type_command_line(config, given)
    node = config
    for part in path:
        node = node[part]
    assert node == value and type(node) is type(value)
    acfg.validate(config)


def test_command_line_text_stays_text_where_a_number_is_wrong():
    given = parse_config(['train={"steps": "many"}'])
    config = {"train": dict(given["train"])}
    type_command_line(config, given)
    with pytest.raises(
        gcfg.ConfigError, match=r"config key 'train.steps': 'many' is a string; the key takes an integer$"
    ):
        acfg.validate(config)


def test_a_yaml_error_names_the_file_line_and_column(tmp_path, capsys):
    path = tmp_path / "config.yaml"
    path.write_text("train:\n  steps: [1, 2\n  batch_size: 3\n")
    with pytest.raises(SystemExit):
        check_yaml(path)
    assert capsys.readouterr().err.startswith(f"error: {path}, line 3, column 13: while parsing a flow sequence")


@pytest.mark.skipif(visible_gpu_count() > 0, reason="this machine has a GPU")
def test_a_cuda_device_is_refused_where_jobs_run_without_one():
    check_device("cuda", local=False)  # a cluster's GPU nodes may have it
    with pytest.raises(gcfg.ConfigError, match=r"'train.device': 'cuda' is not on this machine \(no CUDA GPU\)"):
        check_device("cuda", local=True)


def test_image_shapes_are_known_without_loading_data():
    digits = build_dataset("digits", size=32)
    assert digits.declared_shape() == digits.shape == (1, 32, 32)
    assert build_dataset("cifar10", root="/nowhere").declared_shape() == (3, 32, 32)
    assert build_dataset("stacked-mnist", root="/nowhere").declared_shape() == (3, 28, 28)


@pytest.mark.parametrize(
    "args, words",
    [
        (["--variant", "ebgan", "--loss", "wgan", "--seed", "0"], "variant 'ebgan' does not train with loss 'wgan'"),
        (["--variant", "gan", "--loss", "wgan", "--seed", "-1"], "'seed': -1 is less than the minimum of 0"),
        (["--variant", "gan", "--loss", "wgann", "--seed", "0"], "unknown loss 'wgann'; choose one of"),
        (["--variant", "gan", "--loss", "wgan"], "with --config, also give: --seed"),
    ],
)
def test_the_training_command_applies_the_pipelines_checks(tmp_path, capsys, args, words):
    (tmp_path / "c.yaml").write_text(json.dumps(TINY))
    with pytest.raises(SystemExit) as code:
        train_main(
            ["--config", str(tmp_path / "c.yaml"), "--dataset", "8gaussians", *args, "--out", str(tmp_path / "r")]
        )
    assert code.value.code == 2 and words in capsys.readouterr().err
    assert not (tmp_path / "r").exists(), "nothing written"


def test_a_run_config_by_hand_is_checked_too(tiny_config, tmp_path, capsys):
    run = gcfg.resolve_run(tiny_config, "8gaussians", "gan", "nonsaturating", 0)
    run["architecture"]["params"]["width"] = "32"
    with pytest.raises(SystemExit):
        train_main(["--run-config", json.dumps(run), "--out", str(tmp_path / "r")])
    assert "'architecture.params.width': '32' is a string; mlp's width takes an integer" in capsys.readouterr().err


def test_the_evaluation_command_checks_its_settings(tiny_config, tmp_path, capsys):
    from gans.train import train
    from metrics.config import resolve_eval

    train(gcfg.resolve_run(tiny_config, "8gaussians", "gan", "nonsaturating", 0), tmp_path, progress=False)
    ev = resolve_eval(tiny_config, "8gaussians")
    ev["kid"]["subset_size"] = 5000
    with pytest.raises(SystemExit) as code:
        evaluate_main(["--eval-config", json.dumps(ev), "--run", str(tmp_path)])
    assert code.value.code == 2 and "'evaluation.kid.subset_size': subsets of 5000 samples" in capsys.readouterr().err
    assert not (tmp_path / "metrics.json").exists()


def test_kid_cut_to_the_real_samples_there_are_is_said_and_recorded(capsys):
    import torch

    from metrics import METRICS

    ev = mcfg.resolve_eval(acfg.validate(copy.deepcopy(TINY)), "8gaussians")
    ev["kid"] = {"subsets": 3, "subset_size": 150}
    real = torch.randn(120, 2, generator=torch.Generator().manual_seed(0))
    kid = METRICS.get("kid")(ev, build_dataset("8gaussians"), real)
    kid.compute(torch.randn(200, 2, generator=torch.Generator().manual_seed(1)))
    assert kid.adjusted == {
        "kid.subset_size": {"requested": 150, "used": 120, "why": "200 generated and 120 real samples"}
    }
    assert "note: KID subsets of 120 samples, not 150" in capsys.readouterr().err


def test_a_search_setting_not_known_yet_is_refused_saying_what_to_do(capsys, tmp_path):
    """A job handed the workflow's placeholder for a setting that no selection of this
    config names stops before any work, and says how to have the selection made."""
    from analysis import aggregate
    from gans import layout, population_job

    with pytest.raises(SystemExit):
        aggregate.main(["--out", str(tmp_path / "tables"), "--", layout.PENDING])
    assert "selection is not made for this config yet" in capsys.readouterr().err
    marker = tmp_path / "population.json"
    argv = ["--population", "8gaussians/gan/hinge/best0", "--run-config", layout.PENDING]
    with pytest.raises(SystemExit):
        population_job.main([*argv, "--out", layout.PENDING, "--marker", str(marker)])
    err = capsys.readouterr().err
    assert "the population's setting is not known" in err and "--rerun-triggers" in err
    assert not marker.exists() and not (tmp_path / "tables").exists()
