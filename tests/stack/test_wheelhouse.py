"""The wheelhouse: a compiled mmcv written as a wheel named after its cache key, found again by key in a
folder or behind a URL, and a one-line difference when nothing matches."""

from __future__ import annotations

import functools
import hashlib
import http.server
import threading
import zipfile
from pathlib import Path

import pytest

from scripts.stack.wheelhouse import WheelhouseError, difference, take_library, wheel_name, write_wheel

LIB = "_ext.cpython-311-x86_64-linux-gnu.so"
INPUTS = {"torch": "2.13.0+cpu", "cuda": None, "python": "3.11", "flags": "-O3", "sources": "abc"}


def _fork(tmp_path: Path) -> Path:
    fork = tmp_path / "mmcv-fork"
    (fork / "mmcv" / "ops" / "csrc").mkdir(parents=True)
    (fork / "mmcv" / "__init__.py").write_text("__version__ = '2.1.0'\n")
    (fork / "mmcv" / "ops" / "__init__.py").write_text("")
    (fork / "mmcv" / "ops" / "csrc" / "nms.cpp").write_text("// source, not shipped\n")
    (fork / "mmcv" / "__pycache__").mkdir()
    (fork / "mmcv" / "__pycache__" / "x.pyc").write_bytes(b"junk")
    (fork / "mmcv" / LIB).write_bytes(b"\x7fELF compiled ops")
    return fork


def test_a_build_is_written_as_a_deterministic_wheel_named_after_its_key(tmp_path):
    fork = _fork(tmp_path)
    first = write_wheel(fork, "2.1.0", "k1", "cp311", INPUTS, tmp_path / "a")
    second = write_wheel(fork, "2.1.0", "k1", "cp311", INPUTS, tmp_path / "b")
    assert first.name == wheel_name("2.1.0", "k1", "cp311") == "mmcv-2.1.0+mmlab.k1-cp311-cp311-linux_x86_64.whl"
    assert hashlib.sha256(first.read_bytes()).digest() == hashlib.sha256(second.read_bytes()).digest()
    names = zipfile.ZipFile(first).namelist()
    assert f"mmcv/{LIB}" in names and "mmcv/__init__.py" in names
    assert not [n for n in names if "csrc" in n or "__pycache__" in n]
    record = zipfile.ZipFile(first).read("mmcv-2.1.0+mmlab.k1.dist-info/RECORD").decode()
    assert f"mmcv/{LIB},sha256=" in record and "mmlab_build.json" in record


def test_the_matching_wheel_gives_the_library_and_a_mismatch_says_what_differed(tmp_path):
    house = tmp_path / "house"
    write_wheel(_fork(tmp_path), "2.1.0", "k1", "cp311", INPUTS, house)
    dest = tmp_path / "cache" / LIB
    assert take_library(str(house), wheel_name("2.1.0", "k1", "cp311"), LIB, dest)
    assert dest.read_bytes() == b"\x7fELF compiled ops"
    assert not take_library(str(house), wheel_name("2.1.0", "k2", "cp311"), LIB, tmp_path / "other.so")
    changed = dict(INPUTS, flags="-O2", torch="2.13.0+cu130")
    line = difference(str(house), "2.1.0", changed)
    assert line.startswith("nearest wheel mmcv-2.1.0+mmlab.k1-") and "\n" not in line
    assert "flags '-O3' there, '-O2' here" in line and "torch '2.13.0+cpu' there, '2.13.0+cu130' here" in line
    assert "python" not in line
    assert difference(str(house), "9.9.9", INPUTS) == f"the wheelhouse {house} has no mmcv 9.9.9 build"


def test_a_wheelhouse_behind_a_url_works_like_a_folder(tmp_path):
    house = tmp_path / "house"
    write_wheel(_fork(tmp_path), "2.1.0", "k1", "cp311", INPUTS, house)
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(house))
    handler.log_message = lambda *args: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/"
        assert take_library(url, wheel_name("2.1.0", "k1", "cp311"), LIB, tmp_path / LIB)
        assert (tmp_path / LIB).read_bytes() == b"\x7fELF compiled ops"
        assert "flags" in difference(url, "2.1.0", dict(INPUTS, flags="-O0"))
    finally:
        server.shutdown()


def test_a_wheelhouse_that_is_not_there_is_a_paragraph(tmp_path):
    with pytest.raises(WheelhouseError, match="is not a folder; point it at a folder or a URL"):
        take_library(str(tmp_path / "missing"), "x.whl", LIB, tmp_path / LIB)
    with pytest.raises(WheelhouseError, match="cannot be read"):
        take_library("http://127.0.0.1:9/", "x.whl", LIB, tmp_path / LIB)
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "mmcv-2.1.0+mmlab.k1-cp311-cp311-linux_x86_64.whl").write_bytes(b"not a zip")
    with pytest.raises(WheelhouseError, match="is not a wheel this project wrote"):
        take_library(str(tmp_path / "bad"), "mmcv-2.1.0+mmlab.k1-cp311-cp311-linux_x86_64.whl", LIB, tmp_path / LIB)


def test_an_altered_library_or_an_insecure_url_is_refused(tmp_path):
    house = tmp_path / "house"
    wheel = write_wheel(_fork(tmp_path), "2.1.0", "k1", "cp311", INPUTS, house)
    assert (house / f"{wheel.name}.json").is_file()  # the inputs beside the wheel, for a miss's one line
    tampered = tmp_path / "tampered"
    tampered.mkdir()
    with zipfile.ZipFile(wheel) as source, zipfile.ZipFile(tampered / wheel.name, "w") as out:
        for item in source.infolist():
            data = source.read(item)
            out.writestr(item, b"\x7fELF something else" if item.filename == f"mmcv/{LIB}" else data)
    with pytest.raises(WheelhouseError, match="does not match the hash its RECORD lists"):
        take_library(str(tampered), wheel.name, LIB, tmp_path / LIB)
    assert not (tmp_path / LIB).exists()
    with pytest.raises(WheelhouseError, match="records other inputs \\(flags\\)"):
        take_library(str(house), wheel.name, LIB, tmp_path / LIB, dict(INPUTS, flags="-O0"))
    with pytest.raises(WheelhouseError, match="only https URLs"):
        take_library("http://wheels.example.com/house/", wheel.name, LIB, tmp_path / LIB)
