"""MLflow tracking: where runs go, and what a finished run holds."""

from __future__ import annotations

import os

from scripts.loop.common import tracking
from tests.helpers.tracking import artifact_names, client, runs_by_name


def test_default_store_is_in_the_checkpoints_workspace(tmp_path, monkeypatch):
    monkeypatch.delenv("MMLAB_TRACKING_PATH", raising=False)
    monkeypatch.setenv("MMLAB_CHECKPOINTS_PATH", str(tmp_path / "ckpt"))
    assert tracking.tracking_uri() == f"sqlite:///{tmp_path / 'ckpt' / 'mlflow' / 'mlflow.db'}"
    assert tracking.artifact_location() == (tmp_path / "ckpt" / "mlflow" / "artifacts").as_uri()


def test_a_tracking_uri_sends_runs_to_that_server(monkeypatch):
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://mlflow.internal:5000")
    assert tracking.tracking_uri() == "http://mlflow.internal:5000"
    assert tracking.artifact_location() is None  # the server decides
    assert tracking.backend_cfg("configs/x.py", "eval")["tracking_uri"] == "http://mlflow.internal:5000"


def test_a_sqlite_uri_keeps_artifacts_beside_its_database(tmp_path, monkeypatch):
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path}/team/runs.db")
    assert tracking.artifact_location() == (tmp_path / "team" / "artifacts").as_uri()


def test_log_run_records_flattened_config_metrics_and_files(tmp_path, monkeypatch):
    from mmengine.config import Config

    monkeypatch.setenv("MMLAB_TRACKING_PATH", str(tmp_path / "store"))
    report = tmp_path / "report.json"
    report.write_text("{}")
    cfg = Config(dict(model=dict(type="VoxelNet", head=dict(num_classes=3)), pipeline=[dict(type="Load")]))
    run_id = tracking.log_run(cfg, "configs/demo.py", "eval", {"mAP": 12.5, "note": "text"}, [report], checkpoint="c")
    assert "MLFLOW_TRACKING_URI" not in os.environ  # mlflow exports it; a later run must not inherit this store
    run = runs_by_name(tmp_path / "store")["eval"]
    assert run.info.run_id == run_id and run.info.status == "FINISHED"
    assert run.data.params["model.head.num_classes"] == "3" and run.data.params["pipeline.0.type"] == "Load"
    assert run.data.metrics == {"mAP": 12.5}  # numbers only
    assert run.data.tags["kind"] == "eval" and run.data.tags["checkpoint"] == "c"
    assert client(tmp_path / "store").get_experiment(run.info.experiment_id).name == "demo"
    assert artifact_names(tmp_path / "store", run) == {"config.py", "report.json"}
    assert (tmp_path / "store" / "artifacts").is_dir()  # artifacts beside the database, not in the cwd


def test_every_run_carries_the_stack_identity(tmp_path, monkeypatch):
    """Two runs in the store say whether they ran on the same patches, forks, lock and torch."""
    import hashlib
    import subprocess

    import torch
    from mmengine.config import Config

    from mmlab_core.settings import REPO_ROOT
    from scripts.stack.pins import fork_names

    monkeypatch.setenv("MMLAB_TRACKING_PATH", str(tmp_path / "store"))
    tracking.log_run(Config(dict(model=dict(type="VoxelNet"))), "configs/demo.py", "deploy", {}, [])
    tags = runs_by_name(tmp_path / "store")["deploy"].data.tags
    lock = REPO_ROOT / "requirements" / "stack.lock"
    assert tags["stack.lock_sha256"] == hashlib.sha256(lock.read_bytes()).hexdigest()
    assert tags["stack.torch"] == torch.__version__
    assert tags["stack.commit.mmdetection3d"] != "not synced"
    for fork in fork_names():
        head = subprocess.run(["git", "-C", str(REPO_ROOT / fork), "rev-parse", "HEAD"], capture_output=True, text=True)
        assert tags[f"stack.commit.{fork}"] == (head.stdout.strip() if head.returncode == 0 else "not synced")
    assert len(tags["stack.patches_sha256"]) == 64  # what the hash covers: tests/stack/test_identity.py
