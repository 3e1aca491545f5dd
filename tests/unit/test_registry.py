import sys
import textwrap

import pytest

from gans.losses import LOSSES, Loss
from gans.registry import Registry, RegistryError


def test_refuses_duplicates_and_wrong_base():
    reg = Registry("widget", base=Loss)

    @reg.register("a")
    class A(Loss):
        pass

    assert reg.get("a") is A and A.name == "a"
    with pytest.raises(RegistryError, match="already registered"):
        reg.add("a", type("B", (Loss,), {}))
    with pytest.raises(TypeError, match="subclass of Loss"):
        reg.add("c", object)


def test_unknown_name_lists_choices():
    with pytest.raises(RegistryError) as err:
        LOSSES.get("wgan_gp")
    assert str(err.value).startswith("unknown loss 'wgan_gp'; choose one of: ")
    assert "wgan-gp" in str(err.value)


def test_discovers_a_new_module_without_editing_any_list(tmp_path, monkeypatch):
    pkg = tmp_path / "plugins_pkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "mine.py").write_text(
        textwrap.dedent("""
        from gans.losses import Loss
        from plugins_pkg_registry import REG

        @REG.register("mine")
        class Mine(Loss):
            pass
    """)
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    reg = Registry("loss", base=Loss, package="plugins_pkg")
    module = type(sys)("plugins_pkg_registry")
    module.REG = reg
    monkeypatch.setitem(sys.modules, "plugins_pkg_registry", module)
    assert reg.names() == ["mine"]
