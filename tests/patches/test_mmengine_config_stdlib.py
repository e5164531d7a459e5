"""Configs that import the standard library load in a venv made from a pyenv or
uv Python, whose standard library lies outside the venv's prefix.

patches/mmengine/config-tell-the-standard-library-by-name-not-by-path.patch
"""

from __future__ import annotations

import textwrap

import pytest
from mmengine.config import Config
from mmengine.config.lazy import LazyObject
from mmengine.config.utils import _is_builtin_module


@pytest.fixture(autouse=True)
def python_elsewhere(monkeypatch):
    """The situation of a pyenv or uv venv on any machine: the interpreter's prefix is not where the standard
    library lives (without the patch, mmengine compares module paths with that prefix and /usr/lib/python)."""
    import mmengine.config.utils as utils

    monkeypatch.setattr(utils, "PYTHON_ROOT_DIR", "/nonexistent/python-prefix", raising=False)
    monkeypatch.setattr(utils, "SYSTEM_PYTHON_PREFIX", "/nonexistent/usr/lib/python", raising=False)


def _load(tmp_path, source: str) -> Config:
    path = tmp_path / "cfg.py"
    path.write_text(textwrap.dedent(source))
    return Config.fromfile(str(path))


def _assert_lazy_sampler(cfg: Config) -> None:
    """The class stays a LazyObject until it is used, as mmengine's lazy-import configs do."""
    from mmengine.dataset import DefaultSampler

    assert isinstance(cfg._to_lazy_dict()["sampler"]["type"], LazyObject)
    assert cfg.to_dict()["sampler"] == dict(type="mmengine.dataset.DefaultSampler", shuffle=False)
    assert cfg.sampler.type is DefaultSampler  # built on access


def test_standard_library_counts_as_built_in_wherever_it_lives():
    for name in ("os", "os.path", "json", "math", "collections.abc"):
        assert _is_builtin_module(name), name
    for name in ("mmengine", "mmengine.dataset", "torch", "numpy", "no_such_module", ".relative"):
        assert not _is_builtin_module(name), name
    assert _is_builtin_module("mmengine.config")


def test_config_importing_os_path_json_and_math_loads(tmp_path):
    cfg = _load(
        tmp_path,
        """
        import json
        import math
        import os.path as osp

        model = dict(path=osp.join("a", "b"))
        data = json.loads('{"classes": ["car", "pedestrian"]}')
        radius = math.sqrt(16)
        angle = round(math.pi, 2)
        """,
    )
    assert cfg.model == dict(path="a/b")
    assert cfg.data == dict(classes=["car", "pedestrian"])
    assert cfg.radius == 4.0 and cfg.angle == 3.14
    assert sorted(cfg.keys()) == ["angle", "data", "model", "radius"]  # modules are not config values


def test_lazy_import_of_a_package_is_still_lazy(tmp_path):
    cfg = _load(
        tmp_path,
        """
        from mmengine.dataset import DefaultSampler

        sampler = dict(type=DefaultSampler, shuffle=False)
        """,
    )
    _assert_lazy_sampler(cfg)


def test_lazy_config_may_use_the_standard_library(tmp_path):
    cfg = _load(
        tmp_path,
        """
        import os.path as osp

        from mmengine.dataset import DefaultSampler

        sampler = dict(type=DefaultSampler, shuffle=False)
        work_dir = osp.join("work_dirs", "demo")
        """,
    )
    _assert_lazy_sampler(cfg)
    assert cfg.to_dict()["work_dir"] == "work_dirs/demo"
    assert "osp" not in cfg.to_dict()
