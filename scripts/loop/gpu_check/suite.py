"""The check's stages in order, each with its budget (seconds; 480 in all, the issue's 8 minutes).

Later stages read what earlier ones left (the trained checkpoints) from ``State``; a stage whose input is
missing says so and skips.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from mmlab_core.settings import current
from scripts.loop.gpu_check import cases_boxes, cases_points, deploy_check, models, spconv_check
from scripts.loop.gpu_check.parity import Case, compare_case, failed_case
from scripts.loop.gpu_check.stages import FAIL, PASS, SKIP, Deadline, Outcome, Stage

BUDGETS = {
    "ops": 45,
    "spconv": 20,
    "data": 45,
    "pointpillars-fp32": 90,
    "pointpillars-amp": 70,
    "centerpoint-fp32": 70,
    "centerpoint-amp": 55,
    "deploy": 60,
    "inference": 25,
}
STAGES = tuple(BUDGETS)


@dataclass(frozen=True)
class Options:
    """The model stages' recipe: the demo's (200 + 20 frames, 12 epochs of batch 2 = 1,200 iterations)."""

    epochs: int = 12
    centerpoint_epochs: int = 4
    train_frames: int = 200
    val_frames: int = 20
    ap_margin: float = 1.5  # the CPU demo's three seeds span 72.2-74.5 Car BEV AP40 around its 73.5


@dataclass
class State:
    checkpoints: dict[str, str] = field(default_factory=dict)


def parity_stage(cases: Callable[[], list[Case]], device: str, perturb: float = 0.0) -> Callable[[Deadline], Outcome]:
    """Compare every case on ``device`` with the CPU; cases the budget has no time for are listed as skipped."""

    def run(deadline: Deadline) -> Outcome:
        results, skipped = [], []
        for case in cases():
            if deadline.left() < 1:
                skipped.append(case.name)
                continue
            try:
                results.append(compare_case(case, "cpu", device, perturb))
            except Exception as exc:  # one op's failure is that case's result
                results.append(failed_case(case, exc))
        figures = {"compared": f"{device} against cpu", "cases": [asdict(r) for r in results]}
        failed = [r.name for r in results if not r.passed]
        if skipped:
            figures["skipped"] = skipped
        reason = f"{len(failed)} of {len(results)} cases outside tolerance: {', '.join(failed)}" if failed else ""
        if skipped:
            reason = "; ".join(
                filter(None, [reason, f"budget spent before {len(skipped)} cases: {', '.join(skipped)}"])
            )
        status = FAIL if failed or skipped else PASS
        return Outcome(status, figures, reason)

    return run


def after_stage() -> None:
    """Close what a stage stopped by its budget left open: MLflow's active run (the next run would inherit it and
    refuse its parameters), and the CUDA cache."""
    if "mlflow" in sys.modules:
        mlflow = sys.modules["mlflow"]
        while mlflow.active_run() is not None:
            mlflow.end_run(status="KILLED")
    if "torch" in sys.modules and sys.modules["torch"].cuda.is_available():
        sys.modules["torch"].cuda.empty_cache()


def _ops_cases() -> list[Case]:
    return cases_points.cases() + cases_boxes.cases()


def build(device: str, out: Path, options: Options) -> list[Stage]:
    """Every stage for ``device`` ('cuda:0' or 'cpu'), writing under ``out``."""
    state = State()
    runs = [
        models.ModelRun("pointpillars-fp32", models.POINTPILLARS, "fp32", options.epochs, models.CPU_DEMO_AP),
        models.ModelRun("pointpillars-amp", models.POINTPILLARS, "amp", options.epochs, models.CPU_DEMO_AP),
        models.ModelRun("centerpoint-fp32", models.CENTERPOINT, "fp32", options.centerpoint_epochs, None),
        models.ModelRun("centerpoint-amp", models.CENTERPOINT, "amp", options.centerpoint_epochs, None),
    ]

    def data(deadline: Deadline) -> Outcome:
        return models.generate_data(current().datasets / "synthetic", options.train_frames, options.val_frames)

    def model_stage(run: models.ModelRun) -> Callable[[Deadline], Outcome]:
        def go(deadline: Deadline) -> Outcome:
            outcome = models.train_and_evaluate(run, device, out / "runs", options.ap_margin, deadline)
            if outcome.figures.get("checkpoint") not in (None, "None"):
                state.checkpoints[run.key] = outcome.figures["checkpoint"]
            return outcome

        return go

    def deploy(deadline: Deadline) -> Outcome:
        ckpt = state.checkpoints.get("pointpillars-fp32")
        return deploy_check.deploy_stage(models.POINTPILLARS, ckpt, device, out / "deploy", 3, deadline)

    def inference(deadline: Deadline) -> Outcome:
        ckpt = state.checkpoints.get("pointpillars-fp32")
        if not ckpt:
            return Outcome(SKIP, reason="no trained PointPillars checkpoint: its training stage did not finish")
        return models.inference_fps(models.POINTPILLARS, ckpt, device, options.val_frames, deadline)

    titles = {
        "ops": "mmcv ops, device against CPU",
        "spconv": "spconv, device against CPU",
        "data": "generated scenes",
        "deploy": "deploy (ONNX Runtime CPU/CUDA, TensorRT)",
        "inference": "PyTorch inference throughput",
    }
    stages = [
        Stage("ops", BUDGETS["ops"], parity_stage(_ops_cases, device), titles["ops"]),
        Stage("spconv", BUDGETS["spconv"], parity_stage(spconv_check.cases, device), titles["spconv"]),
        Stage("data", BUDGETS["data"], data, titles["data"]),
    ]
    stages += [Stage(r.key, BUDGETS[r.key], model_stage(r), f"train + eval {r.key}") for r in runs]
    stages += [
        Stage("deploy", BUDGETS["deploy"], deploy, titles["deploy"]),
        Stage("inference", BUDGETS["inference"], inference, titles["inference"]),
    ]
    return stages
