"""Turn the PointCloud2 messages of a ROS1/ROS2 bag into a custom LiDAR dataset
(``points/*.bin``, empty ``labels/*.txt`` to fill in, ``splits/val.txt``)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from extensions.errors import DataFormatError
from extensions.io.points import write_bin
from extensions.io.rosbag import read_bag


def bag_to_dataset(bag: Path, out: Path, topic: str | None = None, every: int = 1, dims: int = 4) -> int:
    """Write every ``every``-th cloud as a frame; returns the number of frames."""
    for sub in ("points", "labels", "splits"):
        (out / sub).mkdir(parents=True, exist_ok=True)
    ids = []
    for index, (timestamp, points) in enumerate(read_bag(bag, topic, dims)):
        if index % every:
            continue
        frame_id = f"{timestamp}"
        write_bin(out / "points" / f"{frame_id}.bin", points)
        (out / "labels" / f"{frame_id}.txt").touch()
        ids.append(frame_id)
    (out / "splits" / "val.txt").write_text("".join(f"{i}\n" for i in ids))
    return len(ids)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("bag", type=Path, help="a ROS1 .bag file or a ROS2 bag folder")
    parser.add_argument("out", type=Path)
    parser.add_argument("--topic", help="PointCloud2 topic (default: all)")
    parser.add_argument("--every", type=int, default=1, help="keep every N-th cloud")
    parser.add_argument("--dims", type=int, default=4)
    args = parser.parse_args(argv)
    try:
        count = bag_to_dataset(args.bag, args.out, args.topic, args.every, args.dims)
    except DataFormatError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"wrote {count} frames to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
