"""A config with a dict keyed by int (mmdet3d's SemanticKITTI label map) is logged to MLflow.

patches/mmengine/visualization-flatten-config-keys-that-are-not-strings-for-m.patch
"""

from __future__ import annotations

from pathlib import Path


def test_config_with_int_keys_is_logged_as_mlflow_params(tmp_path: Path):
    import mlflow
    from mmengine.config import Config
    from mmengine.visualization import MLflowVisBackend

    backend = MLflowVisBackend(str(tmp_path / "vis"), exp_name="keys", tracking_uri=f"sqlite:///{tmp_path}/mlflow.db")
    cfg = Config(dict(work_dir=str(tmp_path), metainfo=dict(seg_label_mapping={0: 19, 10: 0}, max_label=259)))
    backend.add_config(cfg)  # raised TypeError (str + int) on the first int key
    run = mlflow.get_run(backend.experiment.active_run().info.run_id)
    backend.close()
    assert run.data.params["metainfo.seg_label_mapping.10"] == "0"
    assert run.data.params["metainfo.max_label"] == "259"
