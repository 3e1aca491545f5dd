"""Copy a run's summary tables and main figures into the tracked results/reference/.

    python -m analysis.reference --out results/reference --config CONFIG_JSON \
        [--configfiles "config/x.yaml"] FILE [FILE ...]

Each FILE (tables from results/tables, figures from results/figures/{dataset}) is
copied under --out keeping its path below results/; the config that produced the
run is saved beside them as config.yaml, and a README.md lists what is there, where
and with which code it was produced (from the tables' provenance.json) and the
command that regenerates it.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path

import yaml

from analysis.records import PROVENANCE
from gans.provenance import code_label

# --configfile last: it takes several values and would read a target after it as a file
COMMAND = "snakemake --cores all reference --forcerun aggregate{configfiles}"


def relative(path: Path) -> Path:
    """A path below results/ (results/tables/x.md -> tables/x.md)."""
    parts = path.parts
    return Path(*parts[parts.index("results") + 1 :]) if "results" in parts else Path(path.name)


def build(files: list[Path], out: Path, config: dict, configfiles: str = "") -> None:
    out.mkdir(parents=True, exist_ok=True)
    for f in files:
        target = out / relative(f)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(f, target)
    (out / "config.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    tables = sorted(str(relative(f)) for f in files if f.suffix != ".png")
    figures = sorted(str(relative(f)) for f in files if f.suffix == ".png")
    from gans.config import grid_blocks

    blocks = "; ".join(
        f"datasets {', '.join(b['datasets'])} x variants {', '.join(b['variants'])} x losses {', '.join(b['losses'])}"
        f" x seeds {', '.join(map(str, b['seeds']))}"
        for b in grid_blocks(config)
    )
    source = f"`{configfiles}`" if configfiles else "the default config (`config/config.yaml`)"
    lines = [
        "# Reference results",
        "",
        f"A curated copy of a real run of {source}: its summary tables and main figures,",
        "so the results can be read without running anything. Regenerate it from existing runs with",
        "",
        "    " + COMMAND.format(configfiles=f" --configfile {configfiles}" if configfiles else ""),
        "",
        f"Grid: {blocks}. The full, validated config is in `config.yaml`.",
        "",
        *produced_by(files, out),
        "",
        "Tables: " + ", ".join(f"`{t}`" for t in tables),
        "",
        "Figures: " + ", ".join(f"`{f}`" for f in figures),
        "",
    ]
    (out / "README.md").write_text("\n".join(lines))


def produced_by(files: list[Path], out: Path) -> list[str]:
    """Where and with which code the runs were produced, from the tables' provenance.json."""
    record = next((f for f in files if f.name == PROVENANCE), None)
    if record is None:
        return ["Provenance: not recorded (no provenance.json among the files)."]
    prov = json.loads(record.read_text())

    def listed(counts: dict[str, int]) -> str:
        return ", ".join(f"{k} ({v} runs)" if len(counts) > 1 else k for k, v in counts.items())

    return [
        f"Produced by code {listed(prov['code_versions'])} on {listed(prov['processors'])} with "
        f"{listed(prov['threads'])} thread(s) per job and {listed(prov['torch'])}; "
        f"aggregated by code {code_label(prov['aggregated_with']['code'])}. Per-seed numbers differ on other "
        "processors and thread counts; compare a run of yours with this one by its intervals:",
        "",
        f"    python -m analysis.compare {out.as_posix()}/tables results/tables",
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m analysis.reference", description=__doc__.split("\n\n")[0])
    parser.add_argument("files", nargs="+", type=Path)
    parser.add_argument("--out", required=True, type=Path)
    parser.add_argument("--config", required=True, help="the validated config, as JSON")
    parser.add_argument("--configfiles", default="", help="the config files the run was given (empty: the default)")
    args = parser.parse_args(argv)
    missing = [str(f) for f in args.files if not f.is_file()]
    if missing:
        parser.exit(2, f"error: missing: {', '.join(missing)}\n")
    build(args.files, args.out, json.loads(args.config), args.configfiles.strip())
    return 0


if __name__ == "__main__":
    sys.exit(main())
