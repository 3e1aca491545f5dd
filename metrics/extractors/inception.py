"""torch-fidelity's ``inception-v3-compat``: the Inception-v3 of the TF FID/IS code,
the extractor whose numbers papers publish. Its weights download on first use; on
an offline cluster, evaluation.inception.feature_extractor_weights_path points to
a local copy (a PyTorch state dict)."""

from __future__ import annotations

from pathlib import Path

from metrics.extractors import EXTRACTORS, Extractor, ExtractorError

KEY = "evaluation.inception.feature_extractor_weights_path"


@EXTRACTORS.register("inception")
class Inception(Extractor):
    fidelity_name = "inception-v3-compat"
    feature_layer = "2048"
    logits_layer = "logits_unbiased"
    input_channels = 3

    def __init__(self, spec, device="cpu"):
        check_weights(spec.get("weights_path"))
        check_tensors_only(spec.get("weights_path") or hub_copy())
        super().__init__(spec, device)

    @classmethod
    def resolve(cls, config, dataset_cls):
        path = config["evaluation"]["inception"]["feature_extractor_weights_path"]
        check_weights(path)
        return {"name": cls.name, "weights_path": path}


def check_weights(path: str | None) -> None:
    if path is not None and not Path(path).is_file():
        raise ExtractorError(
            f"config key '{KEY}': Inception weights file not found: {path} "
            f"(set it to a local copy of torch-fidelity's inception-v3-compat weights, or to null to download them)"
        )


def hub_copy() -> str | None:
    """The weights torch-fidelity downloaded before (torch.hub's cache), if any."""
    import os

    import torch
    from torch_fidelity.feature_extractor_inceptionv3 import URL_INCEPTION_V3

    path = os.path.join(torch.hub.get_dir(), "checkpoints", os.path.basename(URL_INCEPTION_V3))
    return path if os.path.isfile(path) else None


def check_tensors_only(path: str | None) -> None:
    """torch-fidelity loads these weights with weights_only=False: load them with
    weights_only=True first, so a file holding anything but tensors is refused unrun."""
    from gans.safe_io import DamagedFile, load_tensors

    if path is None:
        return
    try:
        load_tensors(path)
    except DamagedFile as exc:
        raise ExtractorError(f"Inception weights {exc}; replace the file with torch-fidelity's weights") from None
