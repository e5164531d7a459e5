"""MLflow tracking for every train, eval and deploy run.

Runs go to ``$MLFLOW_TRACKING_URI`` when it is set (a server such as
``http://mlflow.internal:5000``, whose artifacts go where that server says, or
another ``sqlite:///`` file, with ``artifacts/`` beside it).
Otherwise they go to a local store in the workspace,
``$MMLAB_TRACKING_PATH`` (default ``$MMLAB_CHECKPOINTS_PATH/mlflow``): a SQLite
database ``mlflow.db`` and an ``artifacts/`` folder. Browse it with
``mlflow ui --backend-store-uri sqlite:///<that folder>/mlflow.db``.

One experiment per config (its file name); the run name says train, eval or
deploy. Params are the flattened config, metrics come per step (training) or
once (eval, deploy), and artifacts are the config, the final checkpoint, the
ONNX model and the reports. Every run is tagged with the stack's identity
(``stack.*``: the hash of patches/, each fork's commit, the lock's hash, torch's
version; scripts.stack.identity), so two runs show whether they ran on the same stack.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from mmlab_core.settings import current
from scripts.stack.identity import current_identity


def store_dir() -> Path:
    """The local store, used when MLFLOW_TRACKING_URI is not set."""
    return current().tracking_path


def tracking_uri() -> str:
    return current().tracking_server or f"sqlite:///{store_dir() / 'mlflow.db'}"


def artifact_location() -> str | None:
    """Where a new experiment keeps artifacts: beside a SQLite store (MLflow would use ./mlruns in
    the current folder), or wherever a tracking server says."""
    uri = tracking_uri()
    if uri.startswith("sqlite:///"):
        return (Path(uri.removeprefix("sqlite:///")).parent / "artifacts").as_uri()
    return None


@contextmanager
def keep_environment() -> Iterator[None]:
    """mlflow.set_tracking_uri() exports MLFLOW_TRACKING_URI to the environment; put back what the user had,
    so that a later run in this process (the demo, tests) still finds its own store."""
    saved = os.environ.get("MLFLOW_TRACKING_URI")
    try:
        yield
    finally:
        if saved is None:
            os.environ.pop("MLFLOW_TRACKING_URI", None)
        else:
            os.environ["MLFLOW_TRACKING_URI"] = saved


def backend_cfg(config_path: str, kind: str, **tags: str) -> dict:
    """mmengine's MLflowVisBackend, pointed at our store (a ``vis_backends`` entry)."""
    store_dir().mkdir(parents=True, exist_ok=True)
    return dict(
        type="MLflowVisBackend",
        save_dir=str(store_dir()),
        exp_name=Path(config_path).stem,
        run_name=kind,
        tags={"kind": kind, "config": config_path, **current_identity(), **tags},
        tracking_uri=tracking_uri(),
        artifact_location=artifact_location(),
    )


def log_run(cfg, config_path: str, kind: str, metrics: dict, artifacts: list[Path], **tags: str) -> str:
    """One finished run (eval, deploy): the flattened config, metrics and files; returns its run id."""
    from mmengine.visualization import MLflowVisBackend

    with keep_environment():
        backend = MLflowVisBackend(**{k: v for k, v in backend_cfg(config_path, kind, **tags).items() if k != "type"})
        backend.add_config(cfg)
        numeric = {k: float(v) for k, v in metrics.items() if isinstance(v, int | float)}
        if numeric:
            backend.add_scalars(numeric, step=0)
        mlflow = backend.experiment
        for path in artifacts:
            mlflow.log_artifact(str(path))
        run_id = mlflow.active_run().info.run_id
        mlflow.end_run()
    return run_id


def log_artifacts_to_last_run(paths: list[Path]) -> str | None:
    """Add files to the run that just ended in this process (training's final checkpoint)."""
    import mlflow

    run = mlflow.last_active_run()
    if run is None:
        return None
    client = mlflow.MlflowClient(tracking_uri())
    for path in paths:
        client.log_artifact(run.info.run_id, str(path))
    return run.info.run_id
