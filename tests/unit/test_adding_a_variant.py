"""The user story: a new variant is one new module plus its name in the config."""

import copy
import shutil

import gans.variants
from analysis import config as acfg
from gans import config as gcfg
from gans.config import ROOT
from gans.job import build
from gans.variants import VARIANTS
from tests.conftest import TINY


def test_a_new_module_is_picked_up_without_editing_any_list(tmp_path, monkeypatch):
    # the new file sits beside the package's modules, as gans/variants/dropout_d.py would
    shutil.copy(ROOT / "docs" / "example_variant.py", tmp_path / "dropout_d.py")
    monkeypatch.setattr(gans.variants, "__path__", [*gans.variants.__path__, str(tmp_path)])
    monkeypatch.setattr(VARIANTS, "_discovered", False)
    monkeypatch.setattr(VARIANTS, "_items", dict(VARIANTS._items))
    assert "dropout-d" in VARIANTS.names()

    cfg = copy.deepcopy(TINY)
    cfg["grid"]["variants"] = ["gan", "dropout-d"]
    cfg["variants"] = {"dropout-d": {"p": 0.5}}
    cfg = acfg.validate(cfg)
    runs = [r for r in gcfg.grid(cfg) if r["variant"] == "dropout-d"]
    assert len(runs) == len(cfg["grid"]["losses"]) * len(cfg["grid"]["seeds"])
    run = gcfg.resolve_run(cfg, **runs[0])
    _, model = build(run)
    assert any(m.p == 0.5 for m in model.discriminator.modules() if m.__class__.__name__ == "Dropout")
    g = __import__("torch").Generator().manual_seed(0)
    model.d_step(model.real_batch(16, g))
    model.g_step(16)
