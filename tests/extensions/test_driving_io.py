"""Custom driving-data readers: round trips, bad input, fuzzing."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from extensions.classes import DRIVING_CLASSES as CLASSES
from extensions.io.labels import format_labels, parse_labels, read_labels
from extensions.io.pcd import lzf_decompress, parse_pcd, read_pcd
from extensions.io.points import read_bin, read_points, write_bin
from mmlab_core.errors import DataFormatError
from mmlab_core.settings import current
from tests.helpers.pcd_writer import write_pcd

SCAN = current().shared / "data" / "kitti-000008" / "000008.bin"


@pytest.fixture(scope="module")
def scan() -> np.ndarray:
    if not SCAN.exists():
        pytest.fail(f"the real KITTI scan is missing: {SCAN} (clone next to ../shared or set MMLAB_SHARED_DIR)")
    return read_bin(SCAN)


@pytest.mark.parametrize("data", ["binary", "binary_compressed", "ascii"])
def test_real_scan_round_trips_through_pcd(scan, tmp_path, data):
    points = scan if data != "ascii" else scan[:3000]  # ascii is slow to write and read
    path = tmp_path / f"scan-{data}.pcd"
    write_pcd(path, points, data=data)
    back = read_points(path)
    np.testing.assert_array_equal(back, points)
    assert back.dtype == np.float32


def test_pcd_fields_map_to_intensity_and_extras(tmp_path):
    table = np.array([[1, 2, 3, 0.5, 7], [4, 5, 6, 0.25, 8]], np.float32)
    path = tmp_path / "rings.pcd"
    write_pcd(path, table, fields=("x", "y", "z", "reflectance", "ring"))
    np.testing.assert_array_equal(read_pcd(path, dims=5), table)
    np.testing.assert_array_equal(read_pcd(path, dims=4), table[:, :4])
    write_pcd(path, table[:, :3], fields=("x", "y", "z"))
    np.testing.assert_array_equal(read_pcd(path, dims=3), table[:, :3])  # a model that reads no intensity


@pytest.mark.parametrize("data", ["ascii", "binary"])
def test_pcd_without_intensity_is_refused_unless_a_fill_value_is_given(tmp_path, data):
    """The same paragraph as a bag's cloud without intensity (scripts/loop/infer), not a silent zero."""
    table = np.array([[1, 2, 3], [4, 5, 6]], np.float32)
    path = tmp_path / "xyz.pcd"
    write_pcd(path, table, fields=("x", "y", "z"), data=data)
    with pytest.raises(DataFormatError) as caught:
        read_points(path)
    for phrase in (str(path), "the cloud has the fields x, y, z,", "intensity (or one of", "--fill-intensity VALUE"):
        assert phrase in str(caught.value)
    assert read_points(path, fill_intensity=0.4)[:, 3].tolist() == pytest.approx([0.4, 0.4])


ASCII_HEAD = b"VERSION 0.7\nFIELDS x y z intensity\nSIZE 4 4 4 4\nTYPE F F F F\nCOUNT 1 1 1 1\n"


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (b"1 2 3 4\n5 6 7 8\n", ": POINTS says 3 but the file has 2 rows (truncated?)"),
        (b"1 2 3 4\n\n5 6 7\n9 9 9 9\n", ":12: expected 4 values, got 3"),
        (b"1 2 3 4\n5 6 x 8\n9 9 9 9\n", ":11: not a number in '5 6 x 8'"),
        (b"1 2 3\n5 6 7\n9 9 9\n", ":10: expected 4 values, got 3"),
    ],
)
def test_malformed_ascii_pcd_names_file_and_line(tmp_path, body, expected):
    path = tmp_path / "bad.pcd"
    path.write_bytes(ASCII_HEAD + b"WIDTH 3\nHEIGHT 1\nPOINTS 3\nDATA ascii\n" + body)
    with pytest.raises(DataFormatError) as caught:
        read_pcd(path)
    assert f"{path}{expected}" in str(caught.value)


def test_ascii_pcd_with_counted_and_integer_fields(tmp_path):
    """COUNT > 1 and integer types are split out of the one parsed block; rows past POINTS are ignored."""
    head = b"FIELDS x y z rgb normal intensity\nSIZE 4 4 4 4 4 1\nTYPE F F F U F U\nCOUNT 1 1 1 1 3 1\n"
    body = b"1 2 3 7 0 0 1 200\n\n4 5 6 8 0 1 0 100\n9 9 9 9 9 9 9 9\n"
    raw = b"VERSION 0.7\n" + head + b"WIDTH 2\nHEIGHT 1\nPOINTS 2\nDATA ascii\n" + body
    np.testing.assert_array_equal(parse_pcd(raw, "mem.pcd"), [[1, 2, 3, 200], [4, 5, 6, 100]])


def test_lzf_back_references():
    # literal "abc", then a back reference copying 6 bytes from 3 back
    assert lzf_decompress(bytes([2]) + b"abc" + bytes([(4 << 5) | 0, 2]), 9) == b"abcabcabc"


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (lambda b: b[: len(b) // 2], "truncated"),
        (lambda b: b.replace(b"DATA binary", b"DATA zip"), "unknown DATA type"),
        (lambda b: b.replace(b"FIELDS x y z intensity", b"FIELDS a b c intensity"), "no x, y, z field"),
        (lambda b: b[:40], "header ends before a DATA line"),
        (lambda b: b"\xff\xfe" + b, "not ASCII"),
    ],
)
def test_corrupt_pcd_names_the_file(tmp_path, scan, mutate, expected):
    good = tmp_path / "good.pcd"
    write_pcd(good, scan[:100])
    bad = tmp_path / "bad.pcd"
    bad.write_bytes(mutate(good.read_bytes()))
    with pytest.raises(DataFormatError, match=expected) as caught:
        read_pcd(bad)
    assert str(bad) in str(caught.value)


def test_truncated_bin_names_the_file(tmp_path, scan):
    path = tmp_path / "cut.bin"
    write_bin(path, scan[:10])
    path.write_bytes(path.read_bytes()[:-3])
    with pytest.raises(DataFormatError, match=r"cut\.bin: 157 bytes is not a whole number"):
        read_bin(path)


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("Car 1 2 3 4 5 6", "expected 8 fields"),
        ("Truck 1 2 3 4 5 6 0.1", "unknown class 'Truck'"),
        ("Car 1 2 x 4 5 6 0.1", "not a number"),
        ("Car 1 2 3 -4 5 6 0.1", "must be positive"),
        ("Car 1 2 3 4 5 6 nan", "non-finite"),
    ],
)
def test_bad_label_lines_name_file_and_line(tmp_path, line, expected):
    path = tmp_path / "000001.txt"
    path.write_text(f"Pedestrian 5 1 -0.9 0.8 0.6 1.7 0.0\n\n{line}\n")
    with pytest.raises(DataFormatError, match=expected) as caught:
        read_labels(path, CLASSES)
    assert f"{path}:3:" in str(caught.value)


def test_labels_round_trip():
    boxes = np.array([[10.5, -2.25, -0.9, 3.9, 1.6, 1.56, 0.5], [5, 5, -1, 0.8, 0.6, 1.7, -3.0]], np.float32)
    labels = parse_labels(format_labels(["Car", "Pedestrian"], boxes), "mem", CLASSES)
    assert labels.names == ["Car", "Pedestrian"]
    np.testing.assert_allclose(labels.boxes, boxes, atol=1e-4)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=600))
def test_pcd_parser_fuzz_bytes(raw):
    try:
        points = parse_pcd(raw, "fuzz.pcd")
    except DataFormatError:
        return
    assert points.ndim == 2 and points.shape[1] == 4


HEADER = st.sampled_from(
    [
        b"FIELDS x y z intensity\nSIZE 4 4 4 4\nTYPE F F F F\nCOUNT 1 1 1 1\n",
        b"FIELDS x y z\nSIZE 4 4 4\nTYPE F F F\n",
        b"FIELDS x y z i\nSIZE 8 8 8 1\nTYPE F F F U\nCOUNT 1 1 1 1\n",
    ]
)


@settings(max_examples=300, deadline=None)
@given(
    HEADER, st.integers(-2, 50), st.sampled_from([b"ascii", b"binary", b"binary_compressed"]), st.binary(max_size=400)
)
def test_pcd_parser_fuzz_structured(fields, points, kind, body):
    raw = b"VERSION 0.7\n" + fields + f"WIDTH {points}\nHEIGHT 1\nPOINTS {points}\nDATA ".encode() + kind + b"\n" + body
    try:
        result = parse_pcd(raw, "fuzz.pcd")
    except DataFormatError:
        return
    assert result.shape[1] == 4 and len(result) <= max(points, 0)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300))
def test_label_parser_fuzz(text):
    try:
        labels = parse_labels(text, "fuzz.txt", CLASSES)
    except DataFormatError:
        return
    assert labels.boxes.shape == (len(labels.names), 7)
