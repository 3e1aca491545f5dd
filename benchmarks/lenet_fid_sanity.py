"""Sanity figures of the LeNet extractor on a real dataset: its FID between the
train and test splits (should be near zero), between uniform noise and the test
split (should be large), and IS of the test images (at most the class count).

    python -m benchmarks.lenet_fid_sanity --weights results/extractors/lenet/mnist.pt \
        --dataset mnist --root PATH --n 10000
"""

from __future__ import annotations

import argparse
import json

import torch

from gans.datasets import build_dataset
from gans.datasets.images import to_uint8
from metrics import METRICS
from metrics.extractors import build_extractor


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--weights", required=True)
    parser.add_argument("--dataset", default="mnist")
    parser.add_argument("--root", default="resources/data")
    parser.add_argument("--n", type=int, default=10000)
    args = parser.parse_args()
    torch.set_num_threads(1)
    ds = build_dataset(args.dataset, root=args.root)
    ext = build_extractor({"name": "lenet", "weights_path": args.weights})
    test = ext.extract(to_uint8(ds.split(False)[0][: args.n]))
    train_images = ds.split(True)[0]
    pick = torch.randperm(len(train_images), generator=torch.Generator().manual_seed(0))[: args.n]
    train = ext.extract(to_uint8(train_images[pick]))
    noise = ext.extract(
        torch.randint(0, 256, (args.n, *ds.shape), dtype=torch.uint8, generator=torch.Generator().manual_seed(0))
    )
    cfg = {"seed": 0, "images": {"num_samples": args.n, "isc_splits": 10}}
    fid, isc = METRICS.get("fid")(cfg, ds, test), METRICS.get("isc")(cfg, ds, test)
    print(
        json.dumps(
            {
                "dataset": args.dataset,
                "n": args.n,
                "fid_train_vs_test": fid.compute(train)["fid"],
                "fid_noise_vs_test": fid.compute(noise)["fid"],
                "isc_test": isc.compute(test)["isc"],
                "isc_noise": isc.compute(noise)["isc"],
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
