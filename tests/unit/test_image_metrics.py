"""Image metrics: FID against an independent numpy/scipy computation, exact mode
counts on constructed label sets, the LeNet extractor through torch-fidelity, and
the offline Inception weights path with a locally built state dict."""

import numpy as np
import pytest
import scipy.linalg
import torch

from analysis import config as acfg
from gans import config as gcfg
from gans.datasets import build_dataset
from gans.datasets.images import to_uint8
from metrics import METRICS
from metrics.config import resolve_eval
from metrics.extractors import build_extractor, joint_log_probs
from metrics.library.classes import class_mode_statistics, confident_classes

EVAL = {
    "seed": 0,
    "images": {"num_samples": 10**6, "mode_samples": 10**6, "isc_splits": 2},
    "kid": {"subsets": 3, "subset_size": 50},
    "prc": {"neighborhood": 3},
    "modes": {"min_count": 1, "min_confidence": 0.0},  # every sample counts: the argmax histogram
}


def numpy_fid(a: np.ndarray, b: np.ndarray) -> float:
    mu_a, mu_b = a.mean(0), b.mean(0)
    cov_a, cov_b = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    covmean = scipy.linalg.sqrtm(cov_a @ cov_b).real
    return float(((mu_a - mu_b) ** 2).sum() + np.trace(cov_a + cov_b - 2 * covmean))


def test_fid_on_fixed_features_matches_numpy_scipy():
    rng = np.random.default_rng(0)
    real = rng.normal(size=(800, 16))
    fake = rng.normal(size=(700, 16)) @ rng.normal(scale=0.5, size=(16, 16)) + 0.3
    metric = METRICS.get("fid")(EVAL, None, {"features": torch.from_numpy(real).float()})
    got = metric.compute({"features": torch.from_numpy(fake).float(), "logits": torch.zeros(700, 10)})["fid"]
    want = numpy_fid(fake.astype(np.float32).astype(np.float64), real.astype(np.float32).astype(np.float64))
    assert got == pytest.approx(want, rel=1e-6)
    assert want > 1


def test_fid_uses_the_configured_number_of_samples():
    feats = torch.randn(300, 4, generator=torch.Generator().manual_seed(1))
    metric = METRICS.get("fid")({**EVAL, "images": {**EVAL["images"], "num_samples": 100}}, None, {"features": feats})
    assert metric.compute({"features": feats})["fid"] == pytest.approx(
        numpy_fid(feats[:100].double().numpy(), feats.double().numpy()), rel=1e-6
    )


def one_hot_logits(labels: torch.Tensor, k: int = 10) -> torch.Tensor:
    return torch.nn.functional.one_hot(labels, k).float() * 20


def test_stacked_mnist_mode_count_is_exact():
    g = torch.Generator().manual_seed(0)
    triples = torch.randperm(1000, generator=g)[:437]  # 437 distinct digit triples
    counts = torch.randint(1, 60, (437,), generator=g)
    modes = triples.repeat_interleave(counts)
    digits = [modes // 100, modes // 10 % 10, modes % 10]  # R, G, B digits of each sample
    logits = joint_log_probs([one_hot_logits(d) for d in digits])
    assert logits.shape == (len(modes), 1000)
    assert torch.equal(logits.argmax(1), modes), "joint class r*100 + g*10 + b"
    out = METRICS.get("class-modes")(EVAL, None, {})
    got = out.compute({"logits": logits, "features": torch.zeros(len(modes), 1)})
    p = counts.double() / counts.sum()
    assert got["modes_covered"] == 437 and got["modes_total"] == 1000
    assert got["reverse_kl"] == pytest.approx(float((p * torch.log(p * 1000)).sum()), rel=1e-9)


def test_class_histogram_on_mnist_classes():
    uniform = class_mode_statistics(torch.arange(10).repeat(50), 10)
    assert uniform == {
        "modes_covered": 10,
        "modes_total": 10,
        "hq_fraction": 1.0,
        "reverse_kl": pytest.approx(0.0, abs=1e-12),
        "modes_set": "0 1 2 3 4 5 6 7 8 9",
    }
    collapsed = class_mode_statistics(torch.full((100,), 3), 10)
    assert collapsed["modes_covered"] == 1 and collapsed["reverse_kl"] == pytest.approx(np.log(10))
    assert collapsed["modes_set"] == "3"
    assert class_mode_statistics(torch.tensor([0, 0, 1]), 10, min_count=2)["modes_covered"] == 1


def test_only_confident_samples_cover_a_class():
    labels = torch.tensor([0, 0, 1, 2, 2, 2])
    confident = torch.tensor([True, False, False, True, True, False])
    got = class_mode_statistics(labels, 10, confident=confident)
    assert got["modes_covered"] == 2 and got["modes_set"] == "0 2" and got["hq_fraction"] == pytest.approx(0.5)
    # the histogram of the confident samples only: classes 0 and 2 in 1:2
    p = torch.tensor([1 / 3, 2 / 3], dtype=torch.float64)
    assert got["reverse_kl"] == pytest.approx(float((p * torch.log(p * 10)).sum()))
    nothing = class_mode_statistics(labels, 10, confident=torch.zeros(6, dtype=torch.bool))
    assert nothing["modes_covered"] == 0 and nothing["hq_fraction"] == 0 and np.isnan(nothing["reverse_kl"])
    logits = torch.tensor([[4.0, 0.0], [0.2, 0.0]])  # softmax tops: 0.982, 0.550
    labels, confident = confident_classes(logits, 0.9)
    assert labels.tolist() == [0, 0] and confident.tolist() == [True, False]


@pytest.fixture(scope="module")
def digits_lenet(tmp_path_factory):
    from metrics.extractors.lenet import train_lenet

    out = tmp_path_factory.mktemp("lenet") / "digits.pt"
    record = train_lenet(
        build_dataset("digits"), {"epochs": 4, "batch_size": 64, "lr": 2e-3, "seed": 0, "threads": 1}, out
    )
    return out, record


def test_lenet_trains_records_accuracy_and_is_a_fidelity_extractor(digits_lenet):
    from torch_fidelity.registry import FEATURE_EXTRACTORS_REGISTRY

    path, record = digits_lenet
    assert record["test_accuracy"] > 0.8 and path.with_suffix(".json").is_file()
    assert "gans-lenet" in FEATURE_EXTRACTORS_REGISTRY
    ds = build_dataset("digits")
    test_images, test_labels = ds.split(False)
    ext = build_extractor({"name": "lenet", "weights_path": str(path)})
    out = ext.extract(to_uint8(test_images), batch_size=64)
    assert out["features"].shape == (len(test_images), 128) and out["logits"].shape == (len(test_images), 10)
    accuracy = float((out["logits"].argmax(1) == test_labels).double().mean())
    assert accuracy == pytest.approx(record["test_accuracy"], abs=1e-9), "the extractor is the trained classifier"
    # batch size does not change the features
    assert torch.allclose(ext.extract(to_uint8(test_images), batch_size=1000)["features"], out["features"], atol=1e-5)
    # three channels: per-channel features side by side, 1,000 joint classes
    stacked = ext.extract(to_uint8(test_images[:20]).expand(-1, 3, -1, -1), batch_size=7)
    assert stacked["features"].shape == (20, 384) and stacked["logits"].shape == (20, 1000)
    assert torch.equal(stacked["logits"].argmax(1), out["logits"][:20].argmax(1) * 111)


def test_lenet_fid_tells_real_from_noise(digits_lenet):
    path, _ = digits_lenet
    ds = build_dataset("digits")
    ext = build_extractor({"name": "lenet", "weights_path": str(path)})
    test = ext.extract(to_uint8(ds.split(False)[0]))
    train = ext.extract(to_uint8(ds.split(True)[0][:359]))
    noise = ext.extract(to_uint8(torch.rand(359, 1, 28, 28, generator=torch.Generator().manual_seed(0)) * 2 - 1))
    fid = METRICS.get("fid")(EVAL, None, test)
    real_vs_real, noise_vs_real = fid.compute(train)["fid"], fid.compute(noise)["fid"]
    assert noise_vs_real > 20 * real_vs_real
    isc = METRICS.get("isc")(EVAL, None, test)
    assert isc.compute(train)["isc"] > 3 * isc.compute(noise)["isc"]


def test_uniform_noise_covers_no_digit_class_and_real_digits_cover_all(digits_lenet):
    """The class-mode count with the default confidence bar: a classifier's argmax
    gives noise every class; only confident samples count, and noise has about none."""
    path, _ = digits_lenet
    ds = build_dataset("digits")
    ext = build_extractor({"name": "lenet", "weights_path": str(path)})
    cfg = {**EVAL, "modes": gcfg.section_defaults("evaluation")["modes"]}
    modes = METRICS.get("class-modes")(cfg, ds, None)
    gen = torch.Generator().manual_seed(0)
    noise = modes.compute(ext.extract(to_uint8(torch.rand(1000, 1, 28, 28, generator=gen) * 2 - 1)))
    real = modes.compute(ext.extract(to_uint8(ds.split(False)[0])))
    argmax_only = METRICS.get("class-modes")(EVAL, ds, None).compute(
        ext.extract(to_uint8(torch.rand(1000, 1, 28, 28, generator=gen) * 2 - 1))
    )
    assert argmax_only["modes_covered"] >= 5  # what counting every sample gave noise
    assert noise["modes_covered"] <= 1 and noise["hq_fraction"] < 0.005
    assert real["modes_covered"] == 10 and real["hq_fraction"] > 0.3


def inception_state_dict(monkeypatch) -> dict:
    """A state dict with inception-v3-compat's names and shapes (random values):
    the class is built with its loading stubbed out, as no weights can be had here."""
    import torch_fidelity.feature_extractor_inceptionv3 as inc

    with monkeypatch.context() as m:
        m.setattr(inc, "load_state_dict_from_url", lambda *a, **k: {})
        m.setattr(inc.FeatureExtractorInceptionV3, "load_state_dict", lambda self, sd, *a, **k: None)
        torch.manual_seed(0)
        model = inc.FeatureExtractorInceptionV3("inception-v3-compat", ["2048"])
    return {k: v.clone() for k, v in model.state_dict().items()}


def test_offline_inception_weights_end_to_end(tmp_path, monkeypatch):
    state = inception_state_dict(monkeypatch)
    weights = tmp_path / "inception.pth"
    torch.save(state, weights)
    config = acfg.validate(
        {
            "grid": {"datasets": ["digits"], "losses": ["nonsaturating"], "seeds": [0]},
            "evaluation": {
                "extractors": {"digits": "inception"},
                "inception": {"feature_extractor_weights_path": str(weights)},
                "metrics": {"images": ["fid", "isc", "class-modes"]},
            },
        }
    )
    ev = resolve_eval(config, "digits")
    assert ev["extractor"] == {"name": "inception", "weights_path": str(weights)}
    assert ev["metrics"] == ["fid", "isc"] and ev["not_applicable"] == ["class-modes"], (
        "Inception is no digit classifier"
    )
    assert ev["real_features"] == "results/features/digits/inception.pt"
    ext = build_extractor(ev["extractor"])
    assert torch.equal(ext.model.fc.weight, state["fc.weight"]), "the weights come from the local file"
    images = to_uint8(build_dataset("digits").split(False)[0][:6])
    out = ext.extract(images, batch_size=3)  # one grey channel -> RGB
    assert out["features"].shape == (6, 2048) and out["logits"].shape == (6, 1008)
    assert torch.isfinite(out["features"]).all()


def test_missing_inception_weights_name_the_config_key(tmp_path):
    with pytest.raises(
        gcfg.ConfigError,
        match=r"config key 'evaluation.inception.feature_extractor_weights_path': "
        r"Inception weights file not found: .*nope.pth",
    ):
        acfg.validate(
            {
                "grid": {"datasets": ["digits"], "losses": ["nonsaturating"], "seeds": [0]},
                "evaluation": {
                    "extractors": {"digits": "inception"},
                    "inception": {"feature_extractor_weights_path": str(tmp_path / "nope.pth")},
                },
            }
        )


def test_lenet_is_refused_where_no_classifier_exists():
    with pytest.raises(gcfg.ConfigError, match="no LeNet classifier is defined for dataset 'cifar10'"):
        acfg.validate(
            {
                "grid": {"datasets": ["cifar10"], "losses": ["hinge"], "seeds": [0]},
                "evaluation": {"extractors": {"cifar10": "lenet"}},
            }
        )


def test_unknown_extractor_names_the_choices():
    with pytest.raises(gcfg.ConfigError, match="unknown feature extractor 'vgg'; choose one of: inception, lenet"):
        acfg.validate({"grid": {"datasets": ["digits"]}, "evaluation": {"extractors": {"digits": "vgg"}}})


def evaluated_digits_run(digits_lenet, tmp_path, variant="gan", steps=4, num_samples=60, mode_samples=80):
    """A tiny hinge run on digits, trained and evaluated with the digits LeNet:
    (run folder, evaluation config)."""
    from gans.train import train
    from metrics.evaluate import evaluate
    from metrics.images import real_features

    config = acfg.validate(
        {
            "grid": {"datasets": ["digits"], "variants": [variant], "losses": ["hinge"], "seeds": [0]},
            "models": {"images": {"noise_dim": 8, "params": {"ngf": 4, "ndf": 4}}},
            "train": {"steps": steps, "batch_size": 8, "eval_every": 2, "log_every": 2},
            "evaluation": {
                "kid": {"subsets": 2, "subset_size": 20},
                "images": {
                    "num_samples": num_samples,
                    "num_real": 50,
                    "mode_samples": mode_samples,
                    "batch_size": 25,
                    "grid": 9,
                },
            },
        }
    )
    run = tmp_path / "run"
    train(gcfg.resolve_run(config, "digits", variant, "hinge", 0), run, progress=False)
    ev = resolve_eval(config, "digits")
    ev["extractor"]["weights_path"] = str(digits_lenet[0])
    ev["real_features"] = str(tmp_path / "real.pt")
    torch.save(real_features(build_dataset("digits"), ev), ev["real_features"])
    evaluate(run, ev)
    return run, ev


def test_image_evaluation_end_to_end_and_a_nan_generator(digits_lenet, tmp_path):
    import pandas as pd

    from metrics.evaluate import evaluate

    run, ev = evaluated_digits_run(digits_lenet, tmp_path)
    table = pd.read_csv(run / "metrics.csv")
    assert table["step"].tolist() == [0, 2, 4] and table["fid"].notna().all() and (table["modes_total"] == 10).all()
    samples = np.load(run / "samples.npz")
    assert (
        samples["fake_4"].shape == (9, 1, 28, 28)
        and samples["fake_4"].dtype == np.uint8
        and samples["real"].shape == (9, 1, 28, 28)
    )
    assert all((run / f"grids/step{s}.png").is_file() for s in (0, 2, 4))
    # a generator that outputs NaN is measured as nothing, not as some uint8 image
    snaps = torch.load(run / "snapshots.pt")
    for tensor in snaps["states"][4]["generator"].values():
        if tensor.is_floating_point():
            tensor.fill_(float("nan"))
    torch.save(snaps, run / "snapshots.pt")
    evaluate(run, ev)
    table = pd.read_csv(run / "metrics.csv")
    assert table["fid"].notna().tolist() == [True, True, False]


def test_class_accuracy_on_images_is_the_classifiers_verdict(digits_lenet):
    """Per-class images scored by LeNet: real images of class k asked for as k score
    LeNet's own accuracy; the same images asked for as k+1 score about nothing."""
    path, record = digits_lenet
    ds = build_dataset("digits")
    images, labels = ds.split(False)
    ext = build_extractor({"name": "lenet", "weights_path": str(path)})
    by_class = [ext.extract(to_uint8(images[labels == k])) for k in range(10)]
    metric = METRICS.get("class-conditional")(EVAL, ds, None)
    right = metric.compute(by_class)
    per_class_accuracy = [float((f["logits"].argmax(1) == k).double().mean()) for k, f in enumerate(by_class)]
    assert right["class_accuracy"] == pytest.approx(np.mean(per_class_accuracy)) and right["class_accuracy"] > 0.8
    assert right["class_accuracy_min"] == pytest.approx(min(per_class_accuracy))
    shifted = metric.compute(by_class[1:] + by_class[:1])
    assert shifted["class_accuracy"] < 0.1


def test_cgan_on_digits_is_evaluated_class_by_class(digits_lenet, tmp_path):
    import pandas as pd

    run, _ = evaluated_digits_run(digits_lenet, tmp_path, "cgan", steps=2, num_samples=40, mode_samples=40)
    table = pd.read_csv(run / "metrics.csv")
    assert table[["fid", "class_accuracy", "class_accuracy_min", "modes_per_class"]].notna().all().all()
    assert table["class_accuracy"].between(0, 1).all() and table["modes_per_class"].between(0, 10).all()
    # 4 images per class (40 / 10 classes), one row per class in the class grid
    assert np.load(run / "samples.npz")["fake_classes_2"].shape == (10, 4, 1, 28, 28)
    assert (run / "grids" / "step2_classes.png").is_file()


def test_image_calibration_outcome_and_figures_speak_of_images(digits_lenet, tmp_path):
    """Calibration of digits with its LeNet: held-out real digits read far better than
    noise; a 4-step run's noise is labelled 'did not learn'; the sample figure is
    titled for images, with the calibration values, not as points over D's contours."""
    import pandas as pd

    from analysis import aggregate, figures
    from analysis.figures import samples
    from gans.runtime import write_json
    from metrics import calibration

    run, ev = evaluated_digits_run(digits_lenet, tmp_path)
    config = acfg.validate({"grid": {"datasets": ["digits"], "losses": ["hinge"], "seeds": [0]}})
    record = calibration.calibrate(gcfg.resolve_run(config, "digits", "gan", "nonsaturating", 0), ev, draws=2)
    real, noise, untrained = (record[k]["mean"] for k in ("real", "noise", "untrained"))
    assert real["fid"] * 5 < noise["fid"] and real["fid"] * 5 < untrained["fid"]
    assert real["modes_covered"] == 10 and noise["modes_covered"] <= 1 and real["hq_fraction"] > 0.3
    assert len(record["real"]["draws"]) == 2 and record["num_samples"] == 60 and record["extractor"] == "lenet"
    path = tmp_path / "calibration.json"
    write_json(record, path)
    root = tmp_path / "root"
    (root / "results/runs/digits/gan/hinge").mkdir(parents=True)
    (root / "results/runs/digits/gan/hinge/seed0").symlink_to(run)
    tables = aggregate.aggregate([root / "results/runs/digits/gan/hinge/seed0"], root / "tables", [], {}, [path])
    assert tables["runs"]["outcome"].tolist() == ["did not learn"]
    runs = pd.read_csv(root / "tables/runs.csv")
    cal = pd.read_csv(root / "tables/calibration.csv")
    title = samples._samples_title(runs, root, cal)
    assert "generated images" in title and "D output" not in title and "points" not in title
    assert f"fid: held-out real {real['fid']:.3g}, uniform noise {noise['fid']:.3g}" in title
    note = samples._outcome_note(runs.iloc[0], points=False)
    assert note.startswith("DID NOT LEARN, ") and note.endswith(f", fid {runs.loc[0, 'fid']:.3g}") and "hq" not in note
    figures.draw("digits", root / "tables", root / "figures", gcfg.section_defaults("figures", {"dpi": 50}), root)
    assert (root / "figures/points.png").stat().st_size > 5_000
