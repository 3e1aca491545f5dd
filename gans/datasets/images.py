"""Image datasets: MNIST, Fashion-MNIST and CIFAR-10 through torchvision,
Stacked MNIST (three MNIST digits as R, G, B: 1,000 modes) and scikit-learn's
bundled 8x8 digits (offline, for the default config and CI).

Images are float tensors in [-1, 1] (the generator ends in tanh), shape (C, H, W).
Training batches are drawn by index from the train split held on the training
device as one tensor (moved there once per process), so a step on a GPU makes no
host round trip; on the CPU the batches are those of indexing the CPU tensor.

Files live under a data root (config key ``data_root``, default resources/data);
``python -m gans.datasets.prepare`` fetches them once, or says which files to put
where when the machine is offline.
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

import numpy as np
import torch

from gans.datasets import DATASETS, Dataset

DEFAULT_ROOT = "resources/data"


class DataMissingError(FileNotFoundError):
    """A dataset's files are absent (and could not be downloaded)."""


def to_unit_range(images_uint8: torch.Tensor) -> torch.Tensor:
    """uint8 [0, 255] -> float32 [-1, 1]."""
    return images_uint8.to(torch.float32).div(127.5).sub(1.0)


def to_uint8(images: torch.Tensor) -> torch.Tensor:
    """float [-1, 1] -> uint8 [0, 255], the input feature extractors take."""
    return images.detach().add(1.0).mul(127.5).round().clamp(0, 255).to(torch.uint8)


class ImageDataset(Dataset):
    modality = "images"
    labeled = True  # every image has its class (Stacked MNIST: its digit triple)
    classes: ClassVar[int] = 10
    # the dataset whose labelled images train the LeNet classifier used for this one
    # (None: no classifier makes sense, e.g. CIFAR-10, which uses Inception)
    classifier_source: ClassVar[str | None] = None
    # the feature extractor used unless evaluation.extractors names another
    default_extractor: ClassVar[str] = "lenet"
    # (C, H, W) of one image, known without loading the files
    image_shape: ClassVar[tuple[int, int, int]] = (1, 28, 28)

    def __init__(self, **params):
        super().__init__(**params)
        self._cache: dict[str, tuple[torch.Tensor, torch.Tensor]] = {}
        self._on_device: dict[torch.device, tuple[torch.Tensor, torch.Tensor]] = {}

    # -- what a dataset implements ------------------------------------------------------
    def files(self) -> tuple[str, list[str]]:
        """(folder under the root, file names torchvision needs there)."""
        raise NotImplementedError

    def url(self) -> str:
        return ""

    def load_split(self, train: bool, download: bool = False) -> tuple[torch.Tensor, torch.Tensor]:
        """(uint8 images N x C x H x W, int64 labels) of one split."""
        raise NotImplementedError

    # -- shared ---------------------------------------------------------------------------
    def missing_message(self, cause: str = "") -> str:
        folder, names = self.files()
        where = Path(self.root) / folder
        msg = (
            f"dataset '{self.name}' is not under the data root '{self.root}' (config key 'data_root'). "
            f"Put these files in {where}/: {', '.join(names)}"
        )
        if self.url():
            msg += f" (from {self.url()})"
        return msg + (f"; download failed: {cause}" if cause else "")

    def split(self, train: bool) -> tuple[torch.Tensor, torch.Tensor]:
        """(float images in [-1, 1], labels), loaded once per process."""
        key = "train" if train else "test"
        if key not in self._cache:
            try:
                images, labels = self.load_split(train)
            except (RuntimeError, FileNotFoundError, OSError) as exc:
                raise DataMissingError(self.missing_message() + f" [{exc}]") from None
            self._cache[key] = (to_unit_range(images), labels.to(torch.int64))
        return self._cache[key]

    def prepare(self, download: bool = True) -> dict:
        """Make the files present (downloading when allowed); a short description."""
        try:
            self.load_split(True, download=download)
            images, _ = self.load_split(False, download=download)
        except Exception as exc:  # torchvision raises RuntimeError/URLError/OSError offline
            raise DataMissingError(self.missing_message(str(exc) if download else "")) from None
        return {"dataset": self.name, **self.params, "shape": list(images.shape[1:]), "test_images": len(images)}

    @property
    def shape(self):
        return tuple(self.split(True)[0].shape[1:])

    def declared_shape(self):
        return self.image_shape

    @property
    def num_classes(self) -> int:
        return self.classes

    def train_images(self, device: torch.device | str = "cpu") -> torch.Tensor:
        """The train split's images on ``device``, copied there once per process
        (MNIST: 188 MB, CIFAR-10: 614 MB as float32)."""
        return self._train_split(device)[0]

    def train_labels(self, device: torch.device | str = "cpu") -> torch.Tensor:
        return self._train_split(device)[1]

    def _train_split(self, device) -> tuple[torch.Tensor, torch.Tensor]:
        device = torch.device(device)
        if device.type == "cuda" and device.index is None:
            device = torch.device("cuda", torch.cuda.current_device())
        if device not in self._on_device:
            images, labels = self.split(True)
            self._on_device[device] = (images.to(device), labels.to(device))
        return self._on_device[device]

    def _indices(self, shape: tuple[int, ...], generator: torch.Generator, device) -> tuple[torch.Tensor, torch.Tensor]:
        """(train images on ``device``, random indices into them drawn from
        ``generator`` on its own device, then placed beside the images)."""
        images = self.train_images(device)
        idx = torch.randint(len(images), shape, generator=generator, device=generator.device)
        return images, idx.to(images.device)

    def sample_labeled(self, n, generator, device="cpu"):
        images, idx = self._indices((n,), generator, device)
        return images[idx], self.train_labels(device)[idx]

    def sample(self, n, generator, device="cpu"):
        images, idx = self._indices((n,), generator, device)
        return images[idx]

    def real_eval(self, n: int) -> torch.Tensor:
        """The first ``n`` images of the test split (the real side of every metric)."""
        return self.split(False)[0][:n]


class TorchvisionDataset(ImageDataset):
    param_schema = {"root": {"minLength": 1}}
    defaults = {"root": DEFAULT_ROOT}
    tv_class: ClassVar[str] = ""

    def _tv(self, train: bool, download: bool):
        import torchvision.datasets as tvd

        return getattr(tvd, self.tv_class)(root=self.root, train=train, download=download)

    def load_split(self, train, download=False):
        ds = self._tv(train, download)
        images = torch.as_tensor(np.asarray(ds.data))
        images = images.unsqueeze(1) if images.ndim == 3 else images.permute(0, 3, 1, 2)  # HWC -> CHW
        return images.contiguous(), torch.as_tensor(np.asarray(ds.targets))


class MNISTFamily(TorchvisionDataset):
    def files(self):
        import torchvision.datasets as tvd

        cls = getattr(tvd, self.tv_class)
        return f"{cls.__name__}/raw", [name.removesuffix(".gz") for name, _ in cls.resources]

    def url(self):
        import torchvision.datasets as tvd

        return getattr(tvd, self.tv_class).mirrors[0]


@DATASETS.register("mnist")
class MNIST(MNISTFamily):
    tv_class = "MNIST"
    classifier_source = "mnist"


@DATASETS.register("fashion-mnist")
class FashionMNIST(MNISTFamily):
    tv_class = "FashionMNIST"
    classifier_source = "fashion-mnist"


@DATASETS.register("cifar10")
class CIFAR10(TorchvisionDataset):
    tv_class = "CIFAR10"
    default_extractor = "inception"
    image_shape = (3, 32, 32)

    def files(self):
        from torchvision.datasets import CIFAR10 as tv

        return tv.base_folder, [name for name, _ in tv.train_list + tv.test_list] + [tv.meta["filename"]]

    def url(self):
        from torchvision.datasets import CIFAR10 as tv

        return tv.url + " (unpacked)"


@DATASETS.register("stacked-mnist")
class StackedMNIST(MNIST):
    """Three MNIST digits drawn independently, stacked as R, G, B (Metz et al. 2017;
    VEEGAN, PacGAN): 1,000 modes. Test images are a fixed, seeded stacking of the
    MNIST test split."""

    param_schema = {"root": {"minLength": 1}, "test_seed": {"minimum": 0}}
    defaults = {"root": DEFAULT_ROOT, "test_seed": 0}
    classifier_source = "mnist"
    classes = 1000  # the label of a stack is its digit triple d1*100 + d2*10 + d3 (R, G, B)
    label_factors = (10, 10, 10)
    image_shape = (3, 28, 28)

    def load_split(self, train, download=False):
        images, labels = super().load_split(train, download)
        if not train:  # a fixed set of stacked test images
            g = torch.Generator().manual_seed(self.test_seed)
            idx = torch.randint(len(images), (len(images), 3), generator=g)
            return images[idx, 0], labels[idx[:, 0]] * 100 + labels[idx[:, 1]] * 10 + labels[idx[:, 2]]
        return images, labels

    @property
    def shape(self):
        return (3, *self.split(True)[0].shape[2:])

    def sample_labeled(self, n, generator, device="cpu"):
        images, idx = self._indices((n, 3), generator, device)
        labels = self.train_labels(device)[idx]
        triple = labels[:, 0] * 100 + labels[:, 1] * 10 + labels[:, 2]
        return images[idx, 0], triple  # (n, 3, H, W): one independent digit per channel

    def sample(self, n, generator, device="cpu"):
        images, idx = self._indices((n, 3), generator, device)
        return images[idx, 0]


@DATASETS.register("digits")
class Digits(ImageDataset):
    """scikit-learn's bundled 8x8 handwritten digits (1,797 images), resized
    bilinearly to ``size`` x ``size`` for the conv nets; a fixed, seeded
    ``test_fraction`` is held out as the test split. Needs no download."""

    param_schema = {
        "size": {"minimum": 1},
        "test_fraction": {"exclusiveMinimum": 0, "exclusiveMaximum": 1},
        "split_seed": {"minimum": 0},
    }
    defaults = {"size": 28, "test_fraction": 0.2, "split_seed": 0}
    classifier_source = "digits"

    def declared_shape(self):
        return (1, self.size, self.size)

    def files(self):
        return "(bundled with scikit-learn)", []

    def load_split(self, train, download=False):
        from sklearn.datasets import load_digits

        bunch = load_digits()
        images = torch.as_tensor(bunch.images, dtype=torch.float32).unsqueeze(1) / 16.0
        images = torch.nn.functional.interpolate(
            images, size=(self.size, self.size), mode="bilinear", align_corners=False
        )
        images = (images.clamp(0, 1) * 255).round().to(torch.uint8)
        labels = torch.as_tensor(bunch.target, dtype=torch.int64)
        order = torch.randperm(len(images), generator=torch.Generator().manual_seed(self.split_seed))
        n_test = int(round(len(images) * self.test_fraction))
        idx = order[n_test:] if train else order[:n_test]
        return images[idx], labels[idx]
