"""Real dataset formats -> mmdet3d info files (``nox -s data -- <format> ...``).

kitti SRC [OUT]                         mmdet3d's KITTI converter: infos + GT database
nuscenes SRC [OUT] [--version V]        mmdet3d's nuScenes converter: infos + GT database
lyft SRC [OUT] [--version V]            mmdet3d's Lyft converter: infos (scene lists SRC/{train,val}.txt)
waymo SRC [OUT]                         mmdet3d's Waymo converter (needs waymo-open-dataset)
semantickitti SRC [OUT]                 SemanticKITTI sequences: segmentation infos (train, val, test)
custom SRC                              our LiDAR layout (points/, labels/, splits/): infos + GT database
bag BAG OUT                             PointCloud2 messages of a ROS bag -> our layout, then custom
kitti-to-custom SRC OUT                 KITTI labels moved into the LiDAR frame, our layout
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from mmlab_core.cli import run
from mmlab_core.files import atomic_write
from scripts.loop.infer.sources import reading_of, reading_options


def _kitti(args: argparse.Namespace) -> None:
    from scripts.data import kitti

    _report("kitti", kitti.convert(args.src, args.out))


def _nuscenes(args: argparse.Namespace) -> None:
    from scripts.data import nuscenes

    _report("nuscenes", nuscenes.convert_nuscenes(args.src, args.out, args.version or "v1.0-trainval", args.sweeps))


def _lyft(args: argparse.Namespace) -> None:
    from scripts.data import nuscenes

    _report("lyft", nuscenes.convert_lyft(args.src, args.out, args.version or "v1.01-train", args.sweeps))


def _waymo(args: argparse.Namespace) -> None:
    from scripts.data import waymo

    _report("waymo", waymo.convert(args.src, args.out))


def _semantickitti(args: argparse.Namespace) -> None:
    from scripts.data import semantickitti

    written = semantickitti.convert(args.src, args.out)
    for split in semantickitti.SPLITS:
        if split in written:
            path, frames = written[split]
            print(f"semantickitti: {split}: {frames} frames -> {path}")
        else:
            print(semantickitti.skipped(split))


def _custom(args: argparse.Namespace) -> None:
    from scripts.data import convert_lidar

    for name, (path, count) in convert_lidar.convert(args.src, dims=args.dims).items():
        print(f"custom: {name}: {count} -> {path}")


def _bag(args: argparse.Namespace) -> None:
    from scripts.data import bag_to_dataset

    frames = bag_to_dataset.bag_to_dataset(args.bag, args.out, reading_of(args), args.every, args.dims)
    print(f"bag: {frames} frames -> {args.out} (labels/ left empty to fill in)")
    train = args.out / "splits" / "train.txt"
    if not train.exists():  # the bag's frames are all in val; an empty train split keeps `custom` happy
        atomic_write(train, "")
    args.src = args.out
    _custom(args)


def _kitti_to_custom(args: argparse.Namespace) -> None:
    from scripts.data import kitti_to_custom

    frames = kitti_to_custom.convert(args.src, args.out)
    print(f"kitti-to-custom: {frames} frames -> {args.out}; next: nox -s data -- custom {args.out}")


def _report(name: str, written: list[Path]) -> None:
    for path in written:
        print(f"{name}: wrote {path}")


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="nox -s data --", description=__doc__.split("\n")[0])
    formats = root.add_subparsers(dest="format", required=True, metavar="FORMAT")
    for name, run_format, helptext in (
        ("kitti", _kitti, "KITTI object layout: infos + GT database (mmdet3d)"),
        ("nuscenes", _nuscenes, "nuScenes: infos + GT database (mmdet3d)"),
        ("lyft", _lyft, "Lyft: infos, split by SRC/{train,val}.txt (mmdet3d)"),
        ("waymo", _waymo, "Waymo tfrecords: KITTI-format frames, infos, GT database (mmdet3d)"),
        ("semantickitti", _semantickitti, "SemanticKITTI sequences: point-segmentation infos (mmdet3d's format)"),
    ):
        sub = formats.add_parser(name, help=helptext)
        sub.add_argument("src", type=Path, help="the dataset's root folder")
        sub.add_argument("out", type=Path, nargs="?", help="where the info files go (default: SRC)")
        if name in ("nuscenes", "lyft"):
            sub.add_argument("--version", help="v1.0-trainval | v1.0-test | v1.0-mini; Lyft: v1.01-train | v1.01-test")
            sub.add_argument("--sweeps", type=int, default=10, help="LiDAR sweeps kept per sample")
        sub.set_defaults(run=run_format)
    custom = formats.add_parser("custom", help="our LiDAR layout: infos + GT database")
    custom.add_argument("src", type=Path)
    custom.set_defaults(run=_custom)
    bag = formats.add_parser("bag", help="a ROS1/ROS2 bag -> our LiDAR layout, then custom")
    bag.add_argument("bag", type=Path, help="a ROS 1 .bag or .mcap file, or a ROS 2 bag folder")
    bag.add_argument("out", type=Path)
    reading_options(bag)
    bag.add_argument("--every", type=int, default=1, help="keep every N-th cloud")
    bag.set_defaults(run=_bag)
    to_custom = formats.add_parser("kitti-to-custom", help="KITTI labels in the LiDAR frame, our layout")
    to_custom.add_argument("src", type=Path)
    to_custom.add_argument("out", type=Path)
    to_custom.set_defaults(run=_kitti_to_custom)
    for sub in (custom, bag):
        sub.add_argument("--dims", type=int, default=4, help="columns per point (4 or 5)")
    return root


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    args.run(args)
    return 0


if __name__ == "__main__":
    sys.exit(run(main))
