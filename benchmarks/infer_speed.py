"""How many frames a second does ``infer`` run on a real-sized cloud, and against what? ``python -m benchmarks
infer-speed``.

The demo's model (``configs/pointpillars_lidar-custom-cpu.py``, full range) with random weights (its
classifier bias left random: many candidate boxes reach the NMS, the post-process's worst case), exported by
``nox -s deploy``'s code path, runs ``scripts.loop.infer.pipeline.infer`` over a ROS 2 MCAP bag of generated
clouds of 35k points in each runtime; in the same run, mmdet3d's own ``inference_detector`` (the config's
model in PyTorch, its test pipeline) runs on the same clouds. Box parity: each runtime's boxes against
``inference_detector``'s (matched fraction, ``scripts.loop.deploy.box_parity.match``). The post-process stage
is also timed both ways on the same raw outputs: infer's (``scripts.loop.infer.anchor_post``) and the head's
own ``predict_by_feat``, and their boxes compared for equality."""

from __future__ import annotations

import contextlib
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from benchmarks.infer import load_average, write_cloud_bag

CONFIG = "configs/pointpillars_lidar-custom-cpu.py"
DEPLOY = "configs/deploy/voxel-detection_onnxruntime_dynamic.py"
RUNTIMES = ("onnxruntime", "openvino", "pytorch")


def clouds_of(count: int, points: int) -> list[np.ndarray]:
    """``count`` generated scenes (``synth_scenes.make_frame``, shuffled points), ``points`` points each."""
    from scripts.data.synth_scenes import make_frame

    return [make_frame(seed).points[:points].copy() for seed in range(count)]


def deployed(root: Path) -> Path:
    """Generated data, a random-weight checkpoint and the folder ``nox -s deploy`` writes, under ``root``."""
    from benchmarks.deploy import random_checkpoint
    from scripts.data.convert_lidar import convert
    from scripts.data.synth_scenes import generate
    from scripts.loop.common.checks import load_config
    from scripts.loop.deploy import command as deploy

    generate(root / "datasets" / "synthetic", train=1, val=1, seed=0)
    convert(root / "datasets" / "synthetic")
    os.environ.update(
        MMLAB_DATASET_PATH=str(root / "datasets"),
        MMLAB_CHECKPOINTS_PATH=str(root / "ckpt"),
        MMLAB_TRACKING_PATH=str(root / "mlflow"),
    )
    checkpoint = random_checkpoint(load_config(CONFIG), root / "random.pth", zero_classifier_bias=False)
    args = [DEPLOY, CONFIG, checkpoint, "--samples", "1", "--repeat", "1", "--work-dir", str(root / "deployed")]
    with contextlib.redirect_stdout(sys.stderr):  # its report: stdout is this benchmark's JSON
        passed = deploy.main(args) == 0
    if not passed:
        raise RuntimeError("the deploy of the benchmark's model did not pass parity")
    return root / "deployed"


def mmdet3d_run(checkpoint: str, clouds: list[np.ndarray], rounds: int) -> tuple[dict, list]:
    """mmdet3d's ``init_model`` + ``inference_detector`` on each cloud (arrays, as infer gets them)."""
    from mmdet3d.apis import inference_detector, init_model
    from mmengine.config import ConfigDict

    from scripts.loop.common.checks import load_config
    from scripts.loop.deploy.box_parity import Detections

    cfg = load_config(CONFIG)
    loader = ConfigDict(type="LoadPointsFromDict", coord_type="LIDAR", load_dim=4, use_dim=4)  # arrays, not files
    cfg.test_dataloader.dataset.pipeline[0] = loader
    model = init_model(cfg, checkpoint, device="cpu")
    inference_detector(model, clouds[0])  # warm-up
    seconds, found = [], []
    for _ in range(rounds):
        for cloud in clouds:
            start = time.perf_counter()
            result, _ = inference_detector(model, cloud)
            seconds.append(time.perf_counter() - start)
            found.append(Detections.from_sample(result))
    return dict(frames=len(seconds), frames_per_s=len(seconds) / sum(seconds), median_ms=_ms(seconds)), found


def post_process_both(detector, clouds: list[np.ndarray]) -> dict:
    """Infer's post-process and the head's ``predict_by_feat`` on the same raw outputs: time and equality."""
    import torch

    from scripts.loop.infer.frame import Timer

    ours, theirs, equal = [], [], True
    for cloud in clouds:
        with torch.no_grad():
            raw, metas = detector.raw(cloud, Timer())
        start = time.perf_counter()
        mine = detector.head.predict(raw, metas)
        ours.append(time.perf_counter() - start)
        start = time.perf_counter()
        ref = detector.head.head.predict_by_feat(*raw, metas, cfg=detector.model.test_cfg)[0]
        theirs.append(time.perf_counter() - start)
        equal &= torch.equal(mine.bboxes_3d.tensor, ref.bboxes_3d.tensor) and torch.equal(mine.scores_3d, ref.scores_3d)
    return dict(infer_median_ms=_ms(ours), predict_by_feat_median_ms=_ms(theirs), identical_boxes=bool(equal))


def infer_speed(scenes: int, points: int, rounds: int, runtimes: tuple[str, ...] = RUNTIMES) -> dict:
    """Frames/s and per-stage medians of ``infer`` per runtime; mmdet3d's ``inference_detector`` on the same frames."""
    from scripts.loop.deploy.box_parity import match
    from scripts.loop.infer.model import load_detector
    from scripts.loop.infer.pipeline import infer

    runs = {}
    with tempfile.TemporaryDirectory(prefix="bench-infer-speed-") as tmp:
        root = Path(tmp)
        model = deployed(root)
        clouds = clouds_of(scenes, points)
        bag = write_cloud_bag(root / "bag", scenes * rounds, clouds, progress=False)
        baseline, reference = mmdet3d_run(str(root / "random.pth"), clouds, rounds)
        for runtime in runtimes:
            _spec, _cfg, detector = load_detector(str(model), None, runtime)
            detector.detect(clouds[0])  # warm-up
            load = load_average()
            stats = infer(detector, bag, root / f"out-{runtime}", progress=False)  # the command's --score-thr
            lines = (root / f"out-{runtime}" / "detections.jsonl").read_text().splitlines()
            pairs = zip(reference[: len(clouds)], clouds, strict=True)
            matched = [match(ref, detector.detect(cloud))["matched_fraction"] for ref, cloud in pairs]
            runs[runtime] = dict(
                frames=stats["frames"],
                frames_per_s=round(stats["frames_per_s"], 1),
                median_ms={k: round(v["median_ms"], 2) for k, v in stats["latency"].items()},
                detect_frames_per_s=round(1e3 / sum(v["median_ms"] for v in stats["latency"].values()), 1),
                writing_ms=round(1e3 / stats["frames_per_s"] - sum(v["mean_ms"] for v in stats["latency"].values()), 2),
                ratio_to_inference_detector=round(stats["frames_per_s"] / baseline["frames_per_s"], 2),
                min_matched_fraction=min(matched),
                boxes_per_frame=round(sum(len(json.loads(line)["objects"]) for line in lines) / len(lines), 1),
                load_average_before=load,
            )
            if runtime == "onnxruntime":
                runs[runtime]["post_process_both_ways"] = post_process_both(detector, clouds)
    return dict(
        what=f"`infer` end to end per runtime on {points}-point clouds vs mmdet3d's inference_detector, same run",
        how=f"{CONFIG} (random weights, classifier bias random: many NMS candidates), deployed by nox -s deploy's "
        f"code path; a ROS 2 MCAP bag of {scenes} synth_scenes clouds x {rounds} rounds through "
        "scripts.loop.infer.pipeline.infer (--score-thr 0.3, the default); frames/s = frames / loop wall time "
        "(decode, voxelize, network, post-process, writing the bag, jsonl and rerun recording); "
        "detect_frames_per_s = 1000 / the sum of the stage medians (no writing); writing_ms = loop time per "
        "frame less the stages' means (the detections bag, jsonl and rerun recording); "
        "inference_detector gets the decoded arrays (its pipeline, model.test_step); matched fraction: each "
        "runtime's boxes against inference_detector's (IoU >= 0.9, same label)",
        inference_detector=dict(baseline, median_ms=round(baseline["median_ms"], 2)),
        runs=runs,
    )


def _ms(seconds: list[float]) -> float:
    return round(statistics.median(seconds) * 1e3, 2)
