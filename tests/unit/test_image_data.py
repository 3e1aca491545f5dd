"""Image datasets: loading code on small files in torchvision's on-disk format,
the offline error, Stacked MNIST, digits, and real MNIST where present."""

import pickle
from pathlib import Path

import numpy as np
import pytest
import torch

from gans.datasets import build_dataset
from gans.datasets.images import DataMissingError
from tests.conftest import SHARED_DATASETS as SHARED

has_mnist = pytest.mark.skipif(not (SHARED / "MNIST" / "raw").is_dir(), reason="real MNIST not present")


def write_idx(folder: Path, prefix: str, images: np.ndarray, labels: np.ndarray) -> None:
    """The IDX format of the MNIST family: big-endian magic, sizes, then uint8 data."""
    folder.mkdir(parents=True, exist_ok=True)
    n, h, w = images.shape
    (folder / f"{prefix}-images-idx3-ubyte").write_bytes(np.array([2051, n, h, w], ">i4").tobytes() + images.tobytes())
    (folder / f"{prefix}-labels-idx1-ubyte").write_bytes(
        np.array([2049, n], ">i4").tobytes() + labels.astype(np.uint8).tobytes()
    )


def tiny_mnist_family(root: Path, folder: str, n_train=50, n_test=20, seed=0):
    rng = np.random.default_rng(seed)
    data = {}
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        images = rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)
        labels = np.arange(n) % 10
        write_idx(root / folder / "raw", prefix, images, labels)
        data[prefix] = (images, labels)
    return data


def gen(seed=0):
    return torch.Generator().manual_seed(seed)


def test_fashion_mnist_reads_torchvision_files(tmp_path):
    data = tiny_mnist_family(tmp_path, "FashionMNIST")
    ds = build_dataset("fashion-mnist", root=str(tmp_path))
    images, labels = ds.split(False)
    assert ds.shape == (1, 28, 28) and images.shape == (20, 1, 28, 28)
    expected = torch.from_numpy(data["t10k"][0]).float().div(127.5).sub(1).unsqueeze(1)
    assert torch.equal(images, expected) and labels.tolist() == data["t10k"][1].tolist()
    x = ds.sample(64, gen(1))
    assert x.shape == (64, 1, 28, 28) and x.min() >= -1 and x.max() <= 1
    assert torch.equal(x, ds.sample(64, gen(1)))
    assert ds.prepare(download=False)["test_images"] == 20


def test_cifar10_reads_torchvision_files(tmp_path, monkeypatch):
    folder = tmp_path / "cifar-10-batches-py"
    folder.mkdir()
    rng = np.random.default_rng(0)
    batches = {}
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        # CIFAR's pickles hold rows of 3072 bytes: the R plane, then G, then B
        data = rng.integers(0, 256, (4, 3072), dtype=np.uint8)
        batches[name] = data
        with open(folder / name, "wb") as f:
            pickle.dump({"data": data, "labels": [1, 2, 3, 4]}, f)
    with open(folder / "batches.meta", "wb") as f:
        pickle.dump({"label_names": [f"c{i}" for i in range(10)]}, f)
    # torchvision checks the official files' md5 sums; these small files cannot match them
    monkeypatch.setattr("torchvision.datasets.cifar.check_integrity", lambda *a, **k: True)
    ds = build_dataset("cifar10", root=str(tmp_path))
    images, labels = ds.split(False)
    assert ds.shape == (3, 32, 32) and images.shape == (4, 3, 32, 32) and len(ds.split(True)[0]) == 20
    expected = torch.from_numpy(batches["test_batch"].reshape(4, 3, 32, 32)).float().div(127.5).sub(1)
    assert torch.equal(images, expected), "channels must come out as C x H x W in R, G, B order"
    assert labels.tolist() == [1, 2, 3, 4]


@pytest.mark.parametrize(
    "name, folder, files",
    [
        (
            "fashion-mnist",
            "FashionMNIST/raw",
            "train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte",
        ),
        (
            "cifar10",
            "cifar-10-batches-py",
            "data_batch_1, data_batch_2, data_batch_3, data_batch_4, data_batch_5, test_batch, batches.meta",
        ),
    ],
)
def test_absent_files_name_what_to_put_where(tmp_path, name, folder, files):
    ds = build_dataset(name, root=str(tmp_path))
    with pytest.raises(DataMissingError) as err:
        ds.prepare(download=False)
    assert f"Put these files in {tmp_path / folder}/: {files}" in str(err.value)
    assert "data_root" in str(err.value)
    with pytest.raises(DataMissingError, match="Put these files in"):
        ds.sample(4, gen())


def test_stacked_mnist_stacks_independent_digits(tmp_path):
    data = tiny_mnist_family(tmp_path, "MNIST", n_train=30)
    ds = build_dataset("stacked-mnist", root=str(tmp_path))
    x = ds.sample(200, gen())
    assert x.shape == (200, 3, 28, 28) and ds.shape == (3, 28, 28)
    train = torch.from_numpy(data["train"][0]).float().div(127.5).sub(1)
    # every channel is one whole MNIST digit, and channels are drawn independently
    hits = [(x[:, c, None] == train[None]).flatten(2).all(-1) for c in range(3)]
    assert all(h.any(1).all() for h in hits)
    match = [h.float().argmax(1) for h in hits]
    assert (match[0] != match[1]).float().mean() > 0.8
    images, labels = ds.split(False)
    assert images.shape == (20, 3, 28, 28) and labels.max() < 1000


def test_digits_is_offline_sized_and_split():
    ds = build_dataset("digits")
    train, test = ds.split(True)[0], ds.split(False)[0]
    assert ds.shape == (1, 28, 28) and len(train) + len(test) == 1797 and len(test) == 359
    assert train.min() == -1 and train.max() == 1
    assert build_dataset("digits", size=32).shape == (1, 32, 32)


@has_mnist
def test_real_mnist_loads():
    ds = build_dataset("mnist", root=str(SHARED))
    images, labels = ds.split(True)
    assert images.shape == (60000, 1, 28, 28) and len(ds.split(False)[0]) == 10000
    assert torch.bincount(labels).min() > 5000
    assert build_dataset("stacked-mnist", root=str(SHARED)).sample(8, gen()).shape == (8, 3, 28, 28)


def test_image_labels_are_the_classes_of_the_images_drawn(tmp_path):
    """sample_labeled gives each image's own label (the stacked triple on Stacked
    MNIST), and sample draws the very same images."""
    data = tiny_mnist_family(tmp_path, "MNIST", n_train=30)
    train_images = torch.from_numpy(data["train"][0]).float().div(127.5).sub(1)
    train_labels = torch.from_numpy(data["train"][1])
    mnist = build_dataset("mnist", root=str(tmp_path))
    x, y = mnist.sample_labeled(100, gen(2))
    assert mnist.labeled and mnist.num_classes == 10
    assert torch.equal(x, mnist.sample(100, gen(2))), "the labelled draw is the unlabelled one"
    which = (x[:, None] == train_images[None, :, None]).flatten(2).all(-1).float().argmax(1)
    assert torch.equal(y, train_labels[which])

    stacked = build_dataset("stacked-mnist", root=str(tmp_path))
    x, y = stacked.sample_labeled(200, gen(3))
    assert stacked.num_classes == 1000 and torch.equal(x, stacked.sample(200, gen(3)))
    digits = [
        train_labels[(x[:, c, None] == train_images[None]).flatten(2).all(-1).float().argmax(1)] for c in range(3)
    ]
    assert torch.equal(y, digits[0] * 100 + digits[1] * 10 + digits[2]), "label = R*100 + G*10 + B digit"
    assert len(y.unique()) > 100


def test_labeled_subset_has_each_class_the_asked_number_of_times():
    ds = build_dataset("digits")
    x, y = ds.labeled_subset(7, gen(0))
    assert x.shape == (70, 1, 28, 28) and torch.bincount(y).tolist() == [7] * 10
    train_images, train_labels = ds.split(True)
    which = (x[:, None] == train_images[None]).flatten(2).all(-1).float().argmax(1)
    assert torch.equal(train_labels[which], y)
    assert torch.equal(ds.labeled_subset(7, gen(0))[0], x), "seeded"
