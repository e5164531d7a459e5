"""Read back what a run logged to a local MLflow store."""

from __future__ import annotations

from pathlib import Path


def client(store: Path):
    import mlflow

    return mlflow.MlflowClient(f"sqlite:///{store / 'mlflow.db'}")


def runs_by_name(store: Path) -> dict:
    """Every run in the store, keyed by run name (train, eval, deploy)."""
    mlflow = client(store)
    experiments = [e.experiment_id for e in mlflow.search_experiments()]
    return {run.info.run_name: run for run in mlflow.search_runs(experiments)}


def artifact_names(store: Path, run) -> set[str]:
    """File names (not paths) of a run's artifacts, folders walked."""
    mlflow, names, todo = client(store), set(), [None]
    while todo:
        for item in mlflow.list_artifacts(run.info.run_id, todo.pop()):
            if item.is_dir:
                todo.append(item.path)
            else:
                names.add(Path(item.path).name)
    return names
