"""The GPU check's logic on the CPU: the parity harness (CPU against CPU over every op, and a perturbed output
that must fail), the stage time box, the report writer, the no-CUDA paragraph, and the bundle's dry run.
Nothing here runs on a GPU."""

from __future__ import annotations

import json
import sys
import tarfile
import time

import pytest
import torch

from mmlab_core.cli import run
from scripts.loop.gpu_check import bundle, cases_boxes, cases_points, command, report, spconv_check, suite
from scripts.loop.gpu_check.parity import EXACT, Case, Tolerance, compare_case, difference
from scripts.loop.gpu_check.stages import FAIL, PASS, SKIP, Deadline, Outcome, Stage, StageResult, run_stages

OPS = {c.name: c for c in cases_points.cases() + cases_boxes.cases()}


def test_every_op_matches_itself_cpu_against_cpu():
    outcome = suite.parity_stage(lambda: list(OPS.values()), "cpu")(Deadline(time.monotonic() + 120))
    failed = [(c["name"], c["reason"]) for c in outcome.figures["cases"] if not c["passed"]]
    assert outcome.status == PASS and not failed, failed
    assert len(outcome.figures["cases"]) == len(OPS) >= 29
    names = {c["op"].split(" ")[0] for c in outcome.figures["cases"]}
    for op in (
        "nms",
        "voxelization",
        "dynamic_scatter",
        "roiaware_pool3d",
        "roipoint_pool3d",
        "furthest_point_sample",
        "ball_query",
        "grouping_operation",
        "gather_points",
        "three_nn",
        "three_interpolate",
        "points_in_boxes_all",
        "deform_conv",
        "modulated_deform_conv",
        "deform_roi_pool",
        "roi_align",
        "sigmoid_focal_loss",
    ):
        assert op in names
    with_backward = [c for c in outcome.figures["cases"] if c["backward_max_abs_diff"] is not None]
    assert len(with_backward) >= 12


@pytest.mark.parametrize(
    "name", ["roi_align", "deform_conv2d", "furthest_point_sample", "voxelization_hard", "dynamic_scatter_max"]
)
def test_a_perturbed_output_fails_its_tolerance(name):
    result = compare_case(OPS[name], "cpu", "cpu", perturb=1e-2)
    assert not result.passed and "output 0" in result.reason and result.forward_max_abs_diff > 0


def test_gradients_are_compared_too():
    calls = []

    def scaled(x, device):
        calls.append(device)
        return [x["x"] * (2.0 if len(calls) == 1 else 3.0)]  # the tested run's gradient is 3, the reference's 2

    case = Case("scaled", "mul", lambda: {"x": torch.ones(4)}, scaled, Tolerance(10, 0), ("x",))
    result = compare_case(case, "cpu", "cpu")
    assert not result.passed and result.backward_max_abs_diff > 0 and "gradient 0" in result.reason


def test_difference_handles_shapes_integers_nan_and_inf():
    assert difference(torch.zeros(3), torch.zeros(4), EXACT)[0] is False
    assert difference(torch.tensor([1, 2]), torch.tensor([1, 3]), EXACT)[:2] == (False, 1.0)
    nan_inf = torch.tensor([float("nan"), float("inf"), 1.0])
    assert difference(nan_inf, nan_inf.clone(), EXACT)[0]
    assert not difference(torch.tensor([float("nan")]), torch.tensor([0.0]), Tolerance(1, 1))[0]
    assert difference(torch.tensor([1.0]), torch.tensor([1.0 + 1e-6]), Tolerance(1e-5, 0))[0]


def test_sparse_convolution_stack_matches_itself_cpu_against_cpu():
    result = compare_case(spconv_check.cases()[0], "cpu", "cpu")
    assert result.passed, result.reason
    assert result.backward_max_abs_diff == 0.0


def _sleep(seconds):
    def stage(deadline):
        time.sleep(seconds)
        return Outcome(PASS)

    return stage


def test_a_stage_over_its_budget_is_stopped_and_the_next_one_runs():
    def broken(deadline):
        raise ValueError("no such op")

    stages = [Stage("slow", 0.5, _sleep(5)), Stage("broken", 5, broken), Stage("quick", 5, _sleep(0))]
    started = time.monotonic()
    results = run_stages(stages, 30, log=lambda _: None)
    assert time.monotonic() - started < 3
    assert [r.status for r in results] == [FAIL, FAIL, PASS]
    assert "budget of 0 s" in results[0].reason or "budget" in results[0].reason
    assert "ValueError: no such op" in results[1].reason


def test_stages_after_the_total_budget_are_skipped_with_the_reason():
    results = run_stages([Stage("a", 5, _sleep(1.2)), Stage("b", 5, _sleep(0))], 1.5, log=lambda _: None)
    assert results[0].status == PASS
    assert results[1].status == SKIP and "total budget" in results[1].reason


def test_after_each_stage_the_cleanup_runs_and_closes_an_open_tracking_run(monkeypatch):
    class FakeMlflow:
        open_runs = 2

        def active_run(self):
            return object() if self.open_runs else None

        def end_run(self, status):
            self.open_runs -= 1

    fake = FakeMlflow()
    monkeypatch.setitem(sys.modules, "mlflow", fake)
    calls = []
    results = run_stages(
        [Stage("a", 0.3, _sleep(2)), Stage("b", 5, _sleep(0))],
        30,
        log=lambda _: None,
        after=lambda: (calls.append(1), suite.after_stage()),
    )
    assert [r.status for r in results] == [FAIL, PASS] and len(calls) == 2 and fake.open_runs == 0


def test_cases_the_stage_has_no_time_for_are_skipped_and_fail_the_stage():
    outcome = suite.parity_stage(lambda: [OPS["nms"], OPS["knn"]], "cpu")(Deadline(time.monotonic() - 1))
    assert outcome.status == FAIL and outcome.figures["skipped"] == ["nms", "knn"]
    assert "budget spent before 2 cases" in outcome.reason


def test_report_has_every_figure_and_the_reason_of_each_failure_and_skip(tmp_path):
    machine = report.Machine("cuda:0", "NVIDIA H200", "2.11.0+cu130", "13.0", "3.12.3", "cuda against cpu")
    case = compare_case(OPS["nms"], "cpu", "cpu", perturb=1.0)
    results = [
        StageResult("ops", "mmcv ops", FAIL, 3.2, 45, {"cases": [case.__dict__]}, "1 of 1 cases outside tolerance"),
        StageResult("pointpillars-fp32", "train", PASS, 80.0, 90, {"ap": {"lidar/Car/BEV_AP40": 74.1}}, ""),
        StageResult("deploy", "deploy", SKIP, 0.0, 60, {}, "no trained PointPillars checkpoint"),
    ]
    data = report.write(tmp_path, machine, results, 83.2, "bootstrap: 120 s")
    on_disk = json.loads((tmp_path / "report.json").read_text())
    assert on_disk == data and data["verdict"] == "fail" and data["setup"] == "bootstrap: 120 s"
    assert [s["status"] for s in on_disk["stages"]] == [FAIL, PASS, SKIP]
    assert on_disk["stages"][0]["figures"]["cases"][0]["passed"] is False
    md = (tmp_path / "report.md").read_text()
    assert md.startswith("# GPU check: FAIL")
    assert "| deploy | skip | 0.0 | 60 | no trained PointPillars checkpoint |" in md
    assert "| nms | nms | FAIL |" in md and "74.1" in md and "NVIDIA H200" in md
    assert report.verdict(results[1:2]) == PASS and report.verdict([]) == "fail"


def test_without_cuda_it_says_so_in_one_paragraph_and_exits_2(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert run(lambda: command.main(["--out", str(tmp_path / "out")])) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: this machine has no CUDA GPU") and err.count("\n") == 1
    assert "--device cpu" in err and not (tmp_path / "out").exists()


def test_dry_mode_writes_the_report_to_out_and_to_the_device_out(tmp_path, monkeypatch):
    monkeypatch.setattr(suite, "_ops_cases", lambda: [OPS["nms"], OPS["three_nn"]])
    monkeypatch.setenv("OUT", str(tmp_path / "device"))
    (tmp_path / "device").mkdir()
    result = command.gpu_check(tmp_path / "out", "cpu", only=("ops",), budget_s=60)
    assert result.verdict == PASS and [s.name for s in result.stages] == ["ops"]
    for folder in (tmp_path / "out", tmp_path / "device"):
        assert json.loads((folder / "report.json").read_text())["machine"]["compare"] == "cpu against cpu"
        assert (folder / "report.md").exists()


def test_bundle_dry_run_lists_the_forks_and_wheels_and_fits(tmp_path):
    (tmp_path / "wheels").mkdir()
    (tmp_path / "wheels" / "addict-2.4.0-py3-none-any.whl").write_bytes(b"x" * 1000)
    made = bundle.make(tmp_path, dry_run=True)
    assert not (tmp_path / "forks.tar.gz").exists() and not (tmp_path / "MANIFEST.txt").exists()
    names = [name for name, _ in made.files]
    assert names[0] == "forks.tar.gz" and "wheels/addict-2.4.0-py3-none-any.whl" in names
    assert "addict==2.4.0" not in made.missing_wheels and "spconv-triton==1.0.0" in made.missing_wheels
    assert made.fits and made.total < bundle.LIMIT
    text = bundle.manifest(made)
    assert "forks.tar.gz" in text and "MiB of 64 MiB: fits" in text


def test_the_forks_archive_holds_every_fork_with_metadata_and_without_tests(tmp_path):
    size = bundle.pack_forks(tmp_path / "forks.tar.gz")
    assert size == (tmp_path / "forks.tar.gz").stat().st_size < 16 * 2**20
    with tarfile.open(tmp_path / "forks.tar.gz") as tar:
        members = tar.getnames()
    for folder in bundle.FORKS:
        assert any(m.startswith(f"forks/{folder}/") and ".dist-info/METADATA" in m for m in members), folder
    assert "forks/mmcv/setup.py" in members and any(
        m.startswith("forks/mmcv/mmcv/ops/csrc/pytorch/cuda/") for m in members
    )
    assert any(m.startswith("forks/mmdetection3d/mmdet3d/.mim/configs/") for m in members)
    assert any(m.startswith("spconv-py/pytorch/") for m in members)
    assert not [m for m in members if "/tests/" in m or m.endswith(".so.1.15.1") or "cpython-311" in m]


def test_a_complete_bundle_fits_in_one_call():
    folder = bundle.REPO / ".gpu-bundle"
    if bundle.missing(folder):
        pytest.skip(
            "the wheels are not downloaded here (python -m scripts.loop.gpu_check --bundle .gpu-bundle --download)"
        )
    made = bundle.make(folder, dry_run=True)
    assert made.fits, bundle.manifest(made)
