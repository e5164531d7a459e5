"""Turn the PointCloud2 messages of a ROS1/ROS2 bag into frames of a custom LiDAR dataset:
``points/<timestamp>.bin``, an empty ``labels/<timestamp>.txt`` to fill in, and the frame ids
added to ``splits/<split>.txt`` (``val`` unless ``--split train``).

The result converts as it is: ``python -m scripts.data.convert_lidar OUT`` (a split
without frames is skipped). Running it again with another bag, or the same bag with
``--split train``, adds frames to the same dataset.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from extensions.io.rosbag import Bag
from mmlab_core.cli import run
from mmlab_core.files import atomic_write
from scripts.data.convert_lidar import SPLITS
from scripts.loop.infer.sources import Reading, choose_clouds, read_bag, reading_of, reading_options


def bag_to_dataset(
    bag: Path, out: Path, reading: Reading | None = None, every: int = 1, dims: int = 4, split: str = "val"
) -> int:
    """Write every ``every``-th cloud (of the topics ``infer`` would read: ``reading.topics``, or those whose
    fields a ``dims``-column model can use) as a frame of ``split``; returns the number of frames written."""
    reading = reading or Reading()
    for sub in ("points", "labels", "splits"):
        (out / sub).mkdir(parents=True, exist_ok=True)
    ids = []
    with Bag(bag) as source:
        frames = read_bag(source, choose_clouds(source, reading, dims), dims, reading)
        for index, frame in enumerate(frames):
            if index % every:
                continue
            data = np.ascontiguousarray(frame.points, dtype=np.float32).tobytes()
            atomic_write(out / "points" / f"{frame.name}.bin", data)
            (out / "labels" / f"{frame.name}.txt").touch()  # keeps labels already written
            ids.append(frame.name)
    split_file = out / "splits" / f"{split}.txt"
    listed = split_file.read_text().split() if split_file.exists() else []
    atomic_write(split_file, "".join(f"{i}\n" for i in dict.fromkeys([*listed, *ids])))
    return len(ids)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("bag", type=Path, help="a ROS 1 .bag or .mcap file, or a ROS 2 bag folder")
    parser.add_argument("out", type=Path)
    reading_options(parser)
    parser.add_argument("--every", type=int, default=1, help="keep every N-th cloud")
    parser.add_argument("--dims", type=int, default=4)
    parser.add_argument("--split", choices=SPLITS, default="val", help="the split the frames join (default: val)")
    args = parser.parse_args(argv)
    count = bag_to_dataset(args.bag, args.out, reading_of(args), args.every, args.dims, args.split)
    print(f"wrote {count} frames to {args.out} (split {args.split}: {args.out / 'splits' / f'{args.split}.txt'})")
    print(f"next: label them in {args.out / 'labels'}, then python -m scripts.data.convert_lidar {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(run(main))
