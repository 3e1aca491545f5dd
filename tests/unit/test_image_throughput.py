"""Image runs' throughput settings: training batches indexed from one copy of the
data on the device, bf16 autocast and channels-last as training options, and the
feature extractor built once per evaluation job."""

import os

import numpy as np
import pandas as pd
import pytest
import torch

from analysis import config as acfg
from gans import config as gcfg
from gans.datasets import build_dataset
from gans.job import build
from gans.train import train
from metrics import images
from metrics.config import resolve_eval
from metrics.extractors import EXTRACTORS
from tests.unit.test_image_data import tiny_mnist_family

TINY_IMAGES = {
    "grid": {"datasets": ["digits"], "losses": ["wgan-gp"], "seeds": [0]},
    "models": {"images": {"noise_dim": 8, "params": {"ngf": 4, "ndf": 4}}},
    "train": {"steps": 4, "batch_size": 8, "eval_every": 2, "log_every": 1},
    "evaluation": {
        "kid": {"subsets": 2, "subset_size": 20},
        "images": {"num_samples": 40, "num_real": 40, "mode_samples": 40, "batch_size": 16, "grid": 4},
    },
}


def image_run_cfg(**train):
    config = acfg.validate({**TINY_IMAGES, "train": {**TINY_IMAGES["train"], **train}})
    return gcfg.resolve_run(config, "digits", "gan", "wgan-gp", 0)


def test_batches_come_from_one_copy_of_the_train_split_per_device():
    ds = build_dataset("digits")
    images_cpu = ds.split(True)[0]
    x = ds.sample(32, torch.Generator().manual_seed(3))
    # on the CPU, the same batches as indexing the loaded split with the data stream's draws
    idx = torch.randint(len(images_cpu), (32,), generator=torch.Generator().manual_seed(3))
    assert torch.equal(x, images_cpu[idx])
    assert ds.train_images("cpu") is images_cpu, "no copy on the CPU"
    # another device: the split goes there once, and batches are made there
    for _ in range(3):
        y = ds.sample(32, torch.Generator().manual_seed(3), torch.device("meta"))
    assert y.device.type == "meta" and y.shape == (32, 1, 28, 28)
    assert [d.type for d in ds._on_device] == ["cpu", "meta"]


def test_stacked_mnist_batches_stack_three_indexed_digits(tmp_path):
    tiny_mnist_family(tmp_path, "MNIST")
    ds = build_dataset("stacked-mnist", root=str(tmp_path))
    x = ds.sample(16, torch.Generator().manual_seed(1))
    idx = torch.randint(50, (16, 3), generator=torch.Generator().manual_seed(1))
    digits = ds.split(True)[0]
    assert x.shape == (16, 3, 28, 28)
    for c in range(3):
        assert torch.equal(x[:, c], digits[idx[:, c], 0])


def conv_output_dtypes(variant) -> set[torch.dtype]:
    seen: set[torch.dtype] = set()
    for net in (variant.generator, variant.discriminator):
        for m in net.modules():
            if isinstance(m, (torch.nn.Conv2d, torch.nn.ConvTranspose2d)):
                m.register_forward_hook(lambda mod, inp, out: seen.add(out.dtype))
    return seen


@pytest.mark.parametrize("precision, channels_last", [("bf16", True), ("bf16", False), ("fp32", True)])
def test_precision_and_layout_options_train_and_stay_finite(precision, channels_last, tmp_path):
    # On a CPU only that they run and give finite numbers; that bf16 matches fp32
    # within seed noise needs a GPU run of the benchmark (benchmarks/throughput.py).
    cfg = image_run_cfg(precision=precision, channels_last=channels_last)
    dataset, variant = build(cfg)
    seen = conv_output_dtypes(variant)
    variant.d_step(variant.real_batch(8, torch.Generator().manual_seed(0)), record=True)
    variant.g_step(8, record=True)
    assert seen == {torch.bfloat16 if precision == "bf16" else torch.float32}
    wide = [p for p in variant.discriminator.parameters() if p.dim() == 4 and p.shape[1] > 1]
    assert wide and all(p.is_contiguous(memory_format=torch.channels_last) == channels_last for p in wide)
    assert all(p.dtype == torch.float32 for p in variant.discriminator.parameters()), "weights stay float32"

    summary = train(cfg, tmp_path / "run", progress=False)
    log = pd.read_csv(tmp_path / "run" / "train_log.csv")
    assert summary["status"] == "completed" and summary["steps_completed"] == 4
    assert np.isfinite(log[["d_loss", "g_loss", "d_grad_norm", "g_grad_norm"]].to_numpy()).all()
    final = torch.load(tmp_path / "run" / "checkpoint.pt", weights_only=True)["state"]["generator"]
    assert all(torch.isfinite(t).all() for t in final.values() if t.is_floating_point())


def test_bf16_changes_the_arithmetic_and_fp32_channels_last_does_not(tmp_path):
    def final_generator(**train_opts):
        out = tmp_path / "_".join(f"{k}{v}" for k, v in train_opts.items())
        train(image_run_cfg(**train_opts), out, progress=False)
        return torch.load(out / "checkpoint.pt", weights_only=True)["state"]["generator"]

    fp32 = final_generator(precision="fp32", channels_last=False)
    nhwc = final_generator(precision="fp32", channels_last=True)
    bf16 = final_generator(precision="bf16", channels_last=False)
    keys = [k for k, t in fp32.items() if t.is_floating_point()]
    assert all(torch.allclose(fp32[k], nhwc[k], atol=1e-5) for k in keys), "layout must not change the numbers"
    assert any(not torch.allclose(fp32[k], bf16[k], atol=1e-5) for k in keys), "bf16 autocast had no effect"


@pytest.fixture(scope="module")
def digits_lenet_weights(tmp_path_factory):
    from metrics.extractors.lenet import train_lenet

    out = tmp_path_factory.mktemp("lenet") / "digits.pt"
    train_lenet(build_dataset("digits"), {"epochs": 1, "batch_size": 128, "lr": 2e-3, "seed": 0, "threads": 1}, out)
    return out


def test_the_extractor_is_built_once_per_evaluation_job(digits_lenet_weights, tmp_path, monkeypatch):
    from metrics.evaluate import evaluate

    built = []
    lenet_cls = EXTRACTORS.get("lenet")
    original = lenet_cls.__init__

    def counting_init(self, *args, **kwargs):
        built.append(1)
        original(self, *args, **kwargs)

    monkeypatch.setattr(lenet_cls, "__init__", counting_init)
    monkeypatch.setattr(images, "_LOADED", {})
    config = acfg.validate(TINY_IMAGES)
    run = tmp_path / "run"
    train(gcfg.resolve_run(config, "digits", "gan", "wgan-gp", 0), run, progress=False)
    ev = resolve_eval(config, "digits")
    ev["extractor"]["weights_path"] = str(digits_lenet_weights)
    ev["real_features"] = str(tmp_path / "real.pt")
    torch.save(images.real_features(build_dataset("digits"), ev), ev["real_features"])
    evaluate(run, ev)
    assert pd.read_csv(run / "metrics.csv")["step"].tolist() == [0, 2, 4]
    assert len(built) == 1, "real features and three evaluation points share one extractor"
    # a retrained LeNet written to the same path is not served from the old copy
    stat = os.stat(digits_lenet_weights)
    os.utime(digits_lenet_weights, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))
    images.load_extractor(ev["extractor"])
    assert len(built) == 2


def test_tf32_switches_tf32_matmuls_on_for_its_run_only(tmp_path, tiny_config):
    seen = []
    cfg = gcfg.resolve_run(tiny_config, "8gaussians", "gan", "wgan-gp", 0)
    for precision in ("tf32", "fp32"):
        cfg["train"].update(precision=precision, steps=3)
        summary = train(cfg, tmp_path / precision, progress=False)
        seen.append(torch.backends.cuda.matmul.allow_tf32)
        assert summary["status"] == "completed"
    assert seen == [True, False]
