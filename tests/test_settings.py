"""mmlab_core/settings.py: every variable read in one place, with the repository's defaults."""

from __future__ import annotations

import os
from pathlib import Path

from mmlab_core.settings import REPO_ROOT, Settings, environment


def test_defaults_are_under_the_repository():
    settings = Settings.from_env({"HOME": "/home/u"})
    assert settings.datasets == REPO_ROOT / "data"
    assert settings.checkpoints == REPO_ROOT / "checkpoints"
    assert settings.venv == REPO_ROOT / ".venv"
    assert settings.tracking_path == REPO_ROOT / "checkpoints" / "mlflow"
    assert settings.tracking_server is None
    assert settings.index_url == "https://pypi.org/simple"


def test_variables_override_and_derive(tmp_path):
    env = {"MMLAB_CHECKPOINTS_PATH": str(tmp_path / "ck"), "MMLAB_INDEX_URL": "http://idx/simple/",
           "MMLAB_DATASET_PATH": "~/datasets"}  # fmt: skip
    settings = Settings.from_env(env)
    assert settings.tracking_path == tmp_path / "ck" / "mlflow"  # follows the checkpoints folder
    assert settings.index_url == "http://idx/simple"
    assert settings.datasets == Path("~/datasets").expanduser()


def test_configs_resolve_the_same_data_root_as_the_project(tmp_path):
    """The configs read ``{{$MMLAB_DATASET_PATH:data}}``; unset, that would be relative to the current folder."""
    settings = Settings.from_env({}).with_(datasets=tmp_path)
    assert settings.config_env() == {"MMLAB_DATASET_PATH": str(tmp_path)}
    assert Path(settings.config_env()["MMLAB_DATASET_PATH"]).is_absolute()


def test_environment_puts_back_what_was(monkeypatch):
    monkeypatch.setenv("MMLAB_X", "before")
    monkeypatch.delenv("MMLAB_Y", raising=False)
    with environment({"MMLAB_X": "during", "MMLAB_Y": "new"}):
        assert os.environ["MMLAB_X"] == "during" and os.environ["MMLAB_Y"] == "new"
    assert os.environ["MMLAB_X"] == "before"
    assert "MMLAB_Y" not in os.environ
