"""PointCloud2 from ROS1 and ROS2 bags (rosbags, no ROS install)."""

from __future__ import annotations

import numpy as np
import pytest
from rosbags.typesys import Stores, get_typestore

from extensions.io.points import read_bin
from extensions.io.rosbag import POINTCLOUD2, read_bag
from mmlab_core.errors import DataFormatError
from mmlab_core.settings import current
from scripts.data.bag_to_dataset import bag_to_dataset

SCAN = current().shared / "data" / "kitti-000008" / "000008.bin"


def _cloud(typestore, points: np.ndarray, stamp: int):
    """A PointCloud2 like a Velodyne driver's: x y z, 4 bytes of padding, intensity, ring."""
    types = typestore.types
    field = types["sensor_msgs/msg/PointField"]
    record = np.dtype(dict(names=["x", "y", "z", "intensity", "ring"], formats=["<f4"] * 4 + ["<u2"],
                           offsets=[0, 4, 8, 16, 20], itemsize=24))  # fmt: skip
    table = np.zeros(len(points), dtype=record)
    for i, name in enumerate(("x", "y", "z", "intensity")):
        table[name] = points[:, i]
    table["ring"] = np.arange(len(points)) % 64
    fields = [field(name="x", offset=0, datatype=7, count=1), field(name="y", offset=4, datatype=7, count=1),
              field(name="z", offset=8, datatype=7, count=1), field(name="intensity", offset=16, datatype=7, count=1),
              field(name="ring", offset=20, datatype=4, count=1)]  # fmt: skip
    header_type = types["std_msgs/msg/Header"]
    extra = {"seq": 0} if "seq" in header_type.__dataclass_fields__ else {}  # ROS1 headers count messages
    header = header_type(stamp=types["builtin_interfaces/msg/Time"](sec=stamp, nanosec=0), frame_id="velo", **extra)
    return types[POINTCLOUD2](
        header=header, height=1, width=len(points), fields=fields, is_bigendian=False, point_step=24,
        row_step=24 * len(points), data=np.frombuffer(table.tobytes(), dtype=np.uint8), is_dense=True,
    )  # fmt: skip


def _write(kind: str, path, clouds: list[np.ndarray], first_second: int = 1):
    """A bag with one cloud a second, stamped from ``first_second``."""
    if kind == "ros2":
        from rosbags.rosbag2 import Writer

        store = get_typestore(Stores.ROS2_HUMBLE)
        with Writer(path, version=9) as writer:
            conn = writer.add_connection("/velodyne_points", POINTCLOUD2, typestore=store)
            for i, points in enumerate(clouds, first_second):
                writer.write(conn, i * 10**9, store.serialize_cdr(_cloud(store, points, i), POINTCLOUD2))
    else:
        from rosbags.rosbag1 import Writer

        store = get_typestore(Stores.ROS1_NOETIC)
        with Writer(path) as writer:
            conn = writer.add_connection("/velodyne_points", POINTCLOUD2, typestore=store)
            for i, points in enumerate(clouds, first_second):
                writer.write(conn, i * 10**9, store.serialize_ros1(_cloud(store, points, i), POINTCLOUD2))


@pytest.fixture(scope="module")
def scan() -> np.ndarray:
    if not SCAN.exists():
        pytest.fail(f"the real KITTI scan is missing: {SCAN}")
    return read_bin(SCAN)


@pytest.mark.parametrize("kind", ["ros1", "ros2"])
def test_bag_gives_back_the_same_points(tmp_path, scan, kind):
    bag = tmp_path / ("scan.bag" if kind == "ros1" else "scan")
    _write(kind, bag, [scan, scan[:1000]])
    messages = list(read_bag(bag))
    assert [t for t, _ in messages] == [10**9, 2 * 10**9]
    np.testing.assert_array_equal(messages[0][1], scan)
    np.testing.assert_array_equal(messages[1][1], scan[:1000])
    five = next(read_bag(bag, dims=5))[1]
    assert five[:, 4].tolist()[:3] == [0.0, 1.0, 2.0]  # the ring column


def test_bag_to_dataset(tmp_path, scan):
    bag = tmp_path / "drive"
    _write("ros2", bag, [scan[:500], scan[500:900], scan[900:1200]])
    out = tmp_path / "dataset"
    assert bag_to_dataset(bag, out, every=2) == 2
    frames = (out / "splits" / "val.txt").read_text().split()
    assert frames == [str(10**9), str(3 * 10**9)]
    np.testing.assert_array_equal(read_bin(out / "points" / f"{frames[1]}.bin"), scan[900:1200])
    assert not list(out.rglob(".*.tmp"))


def test_bag_to_dataset_to_convert_to_lidar_dataset(tmp_path, scan):
    """Issue 11 §5: bag -> dataset -> convert failed because only splits/val.txt was written."""
    from mmdet3d.registry import DATASETS
    from mmdet3d.utils import register_all_modules

    import extensions

    extensions.register()
    from scripts.data.convert_lidar import convert, main

    bag, second = tmp_path / "drive", tmp_path / "drive.bag"
    _write("ros2", bag, [scan[:500], scan[500:900], scan[900:1200]])
    _write("ros1", second, [scan[1200:1700]], first_second=4)
    out = tmp_path / "dataset"
    assert bag_to_dataset(bag, out) == 3
    written = convert(out)
    assert set(written) == {"val"} and written["val"][1] == 3  # no train split: nothing to train on, no error
    assert not (out / "lidar_infos_train.pkl").exists() and not (out / "gt_database").exists()

    assert bag_to_dataset(second, out, split="train") == 1  # a second bag joins the same dataset
    assert (out / "splits" / "val.txt").read_text().split() == [str(i * 10**9) for i in (1, 2, 3)]
    assert main([str(out)]) == 0
    register_all_modules()
    for split, count in (("val", 3), ("train", 1)):
        dataset = DATASETS.build(
            dict(type="LidarDataset", data_root=str(out), ann_file=f"lidar_infos_{split}.pkl", test_mode=True)
        )
        assert len(dataset) == count
        info = dataset.get_data_info(count - 1)
        points = read_bin(info["lidar_points"]["lidar_path"])
        assert len(points) > 0 and info["eval_ann_info"]["gt_bboxes_3d"].tensor.shape == (0, 7)
    assert (out / "splits" / "train.txt").read_text().split() == [str(4 * 10**9)]
    np.testing.assert_array_equal(read_bin(out / "points" / f"{4 * 10**9}.bin"), scan[1200:1700])


def test_convert_without_any_split_names_the_folder(tmp_path):
    from scripts.data.convert_lidar import convert

    (tmp_path / "splits").mkdir()
    with pytest.raises(DataFormatError, match=r"splits: no split file: list frame ids in splits/train\.txt"):
        convert(tmp_path)


def test_bag_without_pointclouds_lists_its_topics(tmp_path):
    from rosbags.rosbag2 import Writer

    store = get_typestore(Stores.ROS2_HUMBLE)
    bag = tmp_path / "chatter"
    with Writer(bag, version=9) as writer:
        conn = writer.add_connection("/chatter", "std_msgs/msg/String", typestore=store)
        writer.write(conn, 1, store.serialize_cdr(store.types["std_msgs/msg/String"](data="hi"), "std_msgs/msg/String"))
    with pytest.raises(
        DataFormatError, match=r"no sensor_msgs/PointCloud2 topic; the bag holds: /chatter \(std_msgs/msg/String\)"
    ):
        list(read_bag(bag))
    with pytest.raises(DataFormatError, match="not a readable ros1 bag"):
        (tmp_path / "junk.bag").write_bytes(b"junk")
        list(read_bag(tmp_path / "junk.bag"))
