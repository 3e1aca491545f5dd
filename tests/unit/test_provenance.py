"""What a result records about how it was produced."""

import subprocess

import torch

from gans import provenance


def test_code_version_is_the_checkouts_commit():
    code = provenance.code_version()
    head = subprocess.run(["git", "-C", str(provenance.ROOT), "rev-parse", "HEAD"], capture_output=True, text=True)
    if head.returncode == 0:
        assert code["commit"] == head.stdout.strip() and isinstance(code["dirty"], bool)
        assert provenance.code_label(code).startswith(code["commit"][:10])
    assert provenance.code_label({"commit": None, "version": "0.1.0"}) == "gan-benchmark 0.1.0"
    assert provenance.code_label({"commit": "0123456789abcdef", "dirty": True}) == "0123456789+dirty"


def test_hardware_and_library_versions():
    torch.set_num_threads(1)
    record = provenance.provenance("cpu")
    assert record["cpu"] and record["gpu"] is None and record["cuda"] is None  # a CPU result used no CUDA
    assert record["torch"] == torch.__version__ and record["threads"] == 1
    columns = provenance.columns(record)
    assert columns["processor"] == record["cpu"] and columns["threads"] == 1
    assert provenance.columns(None) == {}  # runs written without a record
