"""Prepare one dataset once: download it where the machine is online, use the files
already present offline, or fail with a message naming the files to put where.

    python -m gans.prepare_data --dataset-config '{"name": "mnist", "params": {"root": "resources/data"}}' \
        --out results/data/mnist.json
"""

from __future__ import annotations

import argparse
import json
import sys

from gans.datasets import build_dataset
from gans.datasets.images import DataMissingError
from gans.runtime import write_json


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m gans.prepare_data", description=__doc__.split("\n\n")[0])
    parser.add_argument("--dataset-config", required=True, help='{"name": ..., "params": {...}} as JSON')
    parser.add_argument("--out", required=True, help="a JSON file describing the prepared data")
    parser.add_argument("--no-download", action="store_true", help="only check the files are present")
    args = parser.parse_args(argv)
    spec = json.loads(args.dataset_config)
    dataset = build_dataset(spec["name"], **spec["params"])
    try:
        info = dataset.prepare(download=not args.no_download)
    except DataMissingError as exc:
        parser.exit(1, f"error: {exc}\n")
    write_json(info, args.out)
    print(json.dumps(info), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
