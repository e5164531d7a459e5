"""Does ``scripts.loop.infer`` stream? It runs on generated ROS 2 MCAP bags of N and 4N clouds, each in its
own process, and reports the peak memory of each run: it should not grow with the bag's length.

The clouds cycle through a few distinct generated scenes (``synth_scenes.make_frame``) cut to a few thousand
points, and the model is ``configs/pointpillars_lidar-custom-cpu.py`` with its range cut to 20 x 20 m (64 x 64
pillars instead of 248 x 216: about 10 times less network work), so that a bag of thousands of frames is
run through in minutes on 2 cores. The weights are random (saved here): memory and the per-frame work do
not depend on them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from mmlab_core.settings import REPO_ROOT

CONFIG = "configs/pointpillars_lidar-custom-cpu.py"
RANGE = [0, -10.24, -3, 20.48, 10.24, 1]  # 64 x 64 pillars of 0.32 m
TOPIC = "/points"
SCENES = 8  # distinct clouds, cycled
POINTS = 3000  # points per cloud
PERIOD_NS = 100_000_000  # 10 Hz


def scene_clouds(scenes: int = SCENES, points: int = POINTS) -> list[np.ndarray]:
    """``scenes`` generated (points, 4) clouds inside RANGE (make_frame shuffles its points: the first are a sample)."""
    from scripts.data.synth_scenes import make_frame

    clouds = []
    for seed in range(scenes):
        cloud = make_frame(seed).points
        inside = np.all((cloud[:, :3] >= RANGE[:3]) & (cloud[:, :3] < RANGE[3:]), axis=1)
        clouds.append(cloud[inside][:points])
    return clouds


def small_config(path: Path) -> Path:
    """CONFIG with its range cut to RANGE (the pillar grid, the voxel encoder and the anchors follow)."""
    grid = [round((RANGE[4] - RANGE[1]) / 0.32), round((RANGE[3] - RANGE[0]) / 0.32)]  # (y, x)
    anchors = [RANGE[0], RANGE[1], -1.73, RANGE[3], RANGE[4], -1.73]  # on the generated ground, like CONFIG's
    path.write_text(
        f"_base_ = [{str(REPO_ROOT / CONFIG)!r}]\n"
        f"point_cloud_range = {RANGE}\n"
        "model = dict(\n"
        f"    data_preprocessor=dict(voxel_layer=dict(point_cloud_range={RANGE})),\n"
        f"    voxel_encoder=dict(point_cloud_range={RANGE}),\n"
        f"    middle_encoder=dict(output_shape={grid}),\n"
        f"    bbox_head=dict(anchor_generator=dict(ranges=[{anchors}] * 3)),\n"
        ")\n"
    )
    return path


def write_cloud_bag(path: Path, frames: int, clouds: list[np.ndarray], progress: bool = True) -> Path:
    """A ROS 2 MCAP bag at ``path`` with ``frames`` PointCloud2 messages on /points at 10 Hz, cycling ``clouds``."""
    from rosbags.rosbag2 import StoragePlugin, Writer
    from tqdm import tqdm

    from extensions.io.rosbag import POINTCLOUD2, typestore_for
    from scripts.loop.infer.bag_out import cloud_message
    from scripts.loop.infer.messages import build

    store = typestore_for("ros2-mcap")
    with Writer(path, version=9, storage_plugin=StoragePlugin.MCAP) as writer:
        conn = writer.add_connection(TOPIC, POINTCLOUD2, typestore=store)
        for index in tqdm(range(frames), desc=f"write {path.name}", unit="frame", disable=not progress):
            stamp_ns = (index + 1) * PERIOD_NS
            stamp = build(store, "builtin_interfaces/msg/Time", sec=stamp_ns // 10**9, nanosec=stamp_ns % 10**9)
            header = build(store, "std_msgs/msg/Header", frame_id="lidar", stamp=stamp)
            message = cloud_message(store, header, clouds[index % len(clouds)])
            writer.write(conn, stamp_ns, store.serialize_cdr(message, POINTCLOUD2))
    return path


def random_checkpoint(path: Path, config: Path) -> Path:
    """The config's model with its initial (random) weights, saved as a checkpoint ``infer`` loads."""
    import extensions

    extensions.register(rewriters=True)
    from benchmarks import deploy as bench_deploy
    from scripts.loop.common.checks import load_checkpoint, load_config

    bench_deploy.random_checkpoint(load_config(str(config)), path, zero_classifier_bias=False)
    load_checkpoint(str(path))  # the weights-only loader infer uses accepts it
    return path


def size_mb(path: Path) -> float:
    files = [path] if path.is_file() else [p for p in path.rglob("*") if p.is_file()]
    return round(sum(p.stat().st_size for p in files) / 2**20, 1)


def rss_mb(pid: int) -> float:
    """A process's resident memory now (Linux)."""
    status = Path(f"/proc/{pid}/status").read_text()
    return int(status.split("VmRSS:")[1].split()[0]) / 1024  # kB


def watch(child: subprocess.Popen, staging: Path, period_s: float = 1.0) -> tuple[int, object, list]:
    """Wait for ``child``, sampling once per ``period_s`` its resident memory (``/proc``) against the frames it has
    done (the lines of its staged detections.jsonl); returns its exit status, its resource usage and the samples."""
    jsonl, done, offset, samples = staging / "detections.jsonl", 0, 0, []
    while True:
        pid, status, usage = os.wait4(child.pid, os.WNOHANG)  # this child's own usage, not all children's
        if pid:
            return status, usage, samples
        try:
            with jsonl.open("rb") as lines:
                lines.seek(offset)
                chunk = lines.read()
            offset, done = offset + len(chunk), done + chunk.count(b"\n")
            rss = rss_mb(child.pid)
        except FileNotFoundError:  # not started, or renamed: the loop is over
            rss = None
        if done and rss:
            samples.append((done, rss))
        time.sleep(period_s)


def growth(samples: list, frames: int) -> dict:
    """Resident memory over the loop once 10% of the frames are done (warm), and its slope per 1000 frames."""
    warm = np.array([s for s in samples if s[0] >= 0.1 * frames])
    if len(warm) < 3:
        return dict(loop_rss_mb=None, growth_mb_per_1000_frames=None)
    slope = np.polyfit(warm[:, 0], warm[:, 1], 1)[0]
    return dict(
        loop_rss_mb=[round(warm[0, 1], 1), round(warm[-1, 1], 1)],
        growth_mb_per_1000_frames=round(float(slope) * 1000, 2),
    )


def run_infer(config: Path, checkpoint: Path, bag: Path, out: Path, env: dict) -> dict:
    """One ``python -m scripts.loop.infer`` process on ``bag``; its stats.json figures and the OS's view of it."""
    cmd = [sys.executable, "-m", "scripts.loop.infer", str(config), str(bag), "--checkpoint", str(checkpoint)]
    cmd += ["--runtime", "pytorch", "--out", str(out)]
    log = out.with_suffix(".log")
    with log.open("w") as stdout:  # the progress bar (stderr) goes to the terminal
        started = time.monotonic()
        child = subprocess.Popen(cmd, cwd=REPO_ROOT, env=env, stdout=stdout)
        status, usage, samples = watch(child, out.with_name(f".{out.name}.{child.pid}.tmp"))  # runner.staged's name
        wall = time.monotonic() - started
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({child.returncode}):\n{log.read_text()[-2000:]}")
    stats = json.loads((out / "stats.json").read_text())
    return dict(
        frames=stats["frames"],
        bag_mb=size_mb(bag),
        peak_rss_mb=round(stats["peak_rss_mb"], 1),
        os_max_rss_mb=round(usage.ru_maxrss / 1024, 1),  # KiB on Linux
        **growth(samples, stats["frames"]),
        frames_per_s=round(stats["frames_per_s"], 2),
        process_wall_s=round(wall, 1),
        median_ms={k: round(v["median_ms"], 1) for k, v in stats["latency"].items()},
        output_bag_mb=size_mb(Path(stats["output_bag"])),
        detections_jsonl_mb=size_mb(out / "detections.jsonl"),
        recording_rrd_mb=size_mb(out / "recording.rrd"),
    )


def load_average() -> float:
    return round(os.getloadavg()[0], 2)


def infer_memory(frames: int) -> dict:
    """Peak memory of ``infer`` on bags of ``frames`` and 4 x ``frames`` clouds, and their ratio."""
    runs = []
    with tempfile.TemporaryDirectory(prefix="bench-infer-") as tmp:
        root = Path(tmp)
        config = small_config(root / "pointpillars_small.py")
        checkpoint = random_checkpoint(root / "random.pth", config)
        clouds = scene_clouds()
        # infer's MLflow run goes to a throwaway store, not the user's
        env = dict(os.environ, MMLAB_TRACKING_PATH=str(root / "mlflow"), MMLAB_CHECKPOINTS_PATH=str(root / "ckpt"))
        for count in (frames, 4 * frames):
            bag = write_cloud_bag(root / f"bag{count}", count, clouds)
            load_before = load_average()
            runs.append(dict(run_infer(config, checkpoint, bag, root / f"out{count}", env), load_average=load_before))
            print(f"{count} frames: {json.dumps(runs[-1])}", file=sys.stderr)
    small, large = runs
    return dict(
        what="peak memory of `python -m scripts.loop.infer` (PointPillars, --runtime pytorch) on N and 4N frames",
        how=f"generated ROS 2 MCAP bags of PointCloud2 ({SCENES} distinct synth_scenes clouds of {POINTS} points, "
        f"cycled, 10 Hz), {CONFIG} cut to {RANGE} with random weights, one process per bag; "
        "peak_rss_mb from stats.json, "
        "os_max_rss_mb from wait4() on that process (includes loading the model and MLflow logging); "
        "loop_rss_mb: its resident memory (/proc, sampled each second) once 10% of the frames were done and at "
        "the last sample, growth_mb_per_1000_frames the slope of a line fitted to those samples; "
        "load_average: 1-minute load just before the run (frames/s are not final figures above ~1.5 on 2 cores)",
        runs=runs,
        peak_ratio=round(large["peak_rss_mb"] / small["peak_rss_mb"], 3),
        os_max_rss_ratio=round(large["os_max_rss_mb"] / small["os_max_rss_mb"], 3),
    )
