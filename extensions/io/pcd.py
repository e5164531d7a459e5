"""PCD (Point Cloud Library) files: ``ascii``, ``binary`` and
``binary_compressed`` data, read into (N, dims) float32 arrays. (The product reads
PCD files and never writes them; tests write theirs with tests/helpers/pcd_writer.py.)

Fields map to x, y, z, intensity (``intensity``, ``i``, ``reflectance`` ...),
then the extra columns (``ring``, ``time`` ...); extra columns a file lacks are zero, and a file without
intensity is refused unless a ``fill_intensity`` is given (extensions/io/fields.py).
Every malformed file raises :class:`DataFormatError` naming it.
"""

from __future__ import annotations

import io
import warnings
from pathlib import Path

import numpy as np

from extensions.io.fields import structured_to_points
from mmlab_core.errors import DataFormatError

_TYPES = {
    ("F", 4): "<f4",
    ("F", 8): "<f8",
    ("I", 1): "<i1",
    ("I", 2): "<i2",
    ("I", 4): "<i4",
    ("I", 8): "<i8",
    ("U", 1): "<u1",
    ("U", 2): "<u2",
    ("U", 4): "<u4",
    ("U", 8): "<u8",
}
_HEADER_KEYS = ("VERSION", "FIELDS", "SIZE", "TYPE", "COUNT", "WIDTH", "HEIGHT", "VIEWPOINT", "POINTS", "DATA")


def read_pcd(path: str | Path, dims: int = 4, fill_intensity: float | None = None) -> np.ndarray:
    path = Path(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise DataFormatError(path, "point file not found") from None
    return parse_pcd(raw, path, dims, fill_intensity)


def parse_pcd(raw: bytes, path: str | Path, dims: int = 4, fill_intensity: float | None = None) -> np.ndarray:
    header, body, line = _split_header(raw, path)
    fields, dtype, count = _layout(header, path)
    kind = header["DATA"][0].lower()
    if kind == "ascii":
        table = _ascii(body, dtype, count, path, line)
    elif kind == "binary":
        table = _binary(body, dtype, count, path)
    elif kind == "binary_compressed":
        table = _compressed(body, dtype, count, path)
    else:
        raise DataFormatError(path, f"unknown DATA type {kind!r} (ascii, binary or binary_compressed)", line)
    return structured_to_points(table, fields, dims, path, fill_intensity)


def _split_header(raw: bytes, path) -> tuple[dict[str, list[str]], bytes, int]:
    header: dict[str, list[str]] = {}
    offset = 0
    for number in range(1, 200):
        end = raw.find(b"\n", offset)
        if end < 0:
            raise DataFormatError(path, "header ends before a DATA line (truncated or not a PCD file)", number)
        try:
            text = raw[offset:end].decode("ascii").strip()
        except UnicodeDecodeError:
            raise DataFormatError(path, "header is not ASCII (not a PCD file)", number) from None
        offset = end + 1
        if not text or text.startswith("#"):
            continue
        key, *values = text.split()
        if key.upper() not in _HEADER_KEYS:
            raise DataFormatError(path, f"unknown header line {text!r}", number)
        header[key.upper()] = values
        if key.upper() == "DATA":
            if not values:
                raise DataFormatError(path, "DATA line names no data type", number)
            return header, raw[offset:], number
    raise DataFormatError(path, "no DATA line in the first 200 lines")


def _layout(header: dict[str, list[str]], path) -> tuple[list[str], np.dtype, int]:
    for key in ("FIELDS", "SIZE", "TYPE"):
        if not header.get(key):
            raise DataFormatError(path, f"header has no {key} line")
    fields = header["FIELDS"]
    counts = header.get("COUNT") or ["1"] * len(fields)
    if not len(fields) == len(header["SIZE"]) == len(header["TYPE"]) == len(counts):
        raise DataFormatError(path, "FIELDS, SIZE, TYPE and COUNT have different lengths")
    if len(set(fields)) != len(fields):
        raise DataFormatError(path, "FIELDS names a field twice")
    parts = []
    try:
        for name, size, kind, n in zip(fields, header["SIZE"], header["TYPE"], counts, strict=True):
            code = _TYPES[(kind.upper(), int(size))]
            parts.append((name, code, (int(n),)) if int(n) > 1 else (name, code))
            if int(n) < 1:
                raise ValueError
    except (KeyError, ValueError):
        raise DataFormatError(path, "unsupported SIZE/TYPE/COUNT in the header") from None
    try:
        count = int(header.get("POINTS", [None])[0] or int(header["WIDTH"][0]) * int(header["HEIGHT"][0]))
    except (KeyError, ValueError, IndexError):
        raise DataFormatError(path, "header gives no valid POINTS (or WIDTH and HEIGHT)") from None
    if count < 0:
        raise DataFormatError(path, f"negative POINTS {count}")
    return fields, np.dtype(parts), count


def _ascii(body: bytes, dtype: np.dtype, count: int, path, first_line: int) -> np.ndarray:
    """The rows after the DATA line, parsed whole by NumPy; a malformed file is read again row by row,
    only to name its first bad line."""
    widths = [int(np.prod(dtype[name].shape or (1,))) for name in dtype.names]
    table = np.zeros(count, dtype=dtype)
    if count == 0:
        return table
    text = body.decode("ascii", "replace")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # blank lines and an empty body: checked below
            values = np.loadtxt(io.StringIO(text), dtype=np.float64, comments=None, ndmin=2, max_rows=count)
    except ValueError:
        values = None
    if values is None or values.shape[1] != sum(widths) or len(values) < count:
        _diagnose(text, sum(widths), count, path, first_line)
    position = 0
    for name, width in zip(dtype.names, widths, strict=True):
        table[name] = values[:, position : position + width].reshape(table[name].shape)
        position += width
    return table


def _diagnose(text: str, width: int, count: int, path, first_line: int) -> None:
    """Say what is wrong with ascii data NumPy could not read as ``count`` rows of ``width`` numbers: too few
    rows, else the first row that is not ``width`` numbers (its line number)."""
    rows = [(n, row) for n, row in enumerate(text.splitlines(), first_line + 1) if row.strip()]
    if len(rows) < count:
        raise DataFormatError(path, f"POINTS says {count} but the file has {len(rows)} rows (truncated?)")
    for number, row in rows[:count]:
        values = row.split()
        if len(values) != width:
            raise DataFormatError(path, f"expected {width} values, got {len(values)}", number)
        try:
            [float(v) for v in values]
        except ValueError:
            raise DataFormatError(path, f"not a number in {row.strip()!r}", number) from None
    raise DataFormatError(path, f"the ascii data is not {count} rows of {width} numbers")


def _binary(body: bytes, dtype: np.dtype, count: int, path) -> np.ndarray:
    need = dtype.itemsize * count
    if len(body) < need:
        raise DataFormatError(path, f"binary data has {len(body)} bytes, {need} needed for {count} points (truncated?)")
    return np.frombuffer(body[:need], dtype=dtype).copy()


def _compressed(body: bytes, dtype: np.dtype, count: int, path) -> np.ndarray:
    if len(body) < 8:
        raise DataFormatError(path, "binary_compressed data is truncated before its sizes")
    packed, unpacked = (int(v) for v in np.frombuffer(body[:8], dtype="<u4"))
    if unpacked != dtype.itemsize * count:
        raise DataFormatError(
            path, f"uncompressed size {unpacked} does not match {count} points of {dtype.itemsize} bytes"
        )
    if len(body) < 8 + packed:
        raise DataFormatError(path, "binary_compressed data is truncated")
    data = lzf_decompress(body[8 : 8 + packed], unpacked, path)
    table = np.zeros(count, dtype=dtype)
    offset = 0
    for name in dtype.names:  # stored field by field
        field = dtype[name]
        size = field.itemsize * count
        table[name] = np.frombuffer(data[offset : offset + size], dtype=field.base).reshape((count, *field.shape))
        offset += size
    return table


def lzf_decompress(data: bytes, expected: int, path="<lzf>") -> bytes:
    """Decompress an LZF block (the codec PCL uses for binary_compressed)."""
    out = bytearray()
    i, n = 0, len(data)
    while i < n:
        ctrl = data[i]
        i += 1
        if ctrl < 32:  # a run of ctrl + 1 literal bytes
            if i + ctrl + 1 > n:
                raise DataFormatError(path, "compressed data ends inside a literal run")
            out += data[i : i + ctrl + 1]
            i += ctrl + 1
        else:  # a back reference
            length = ctrl >> 5
            if length == 7:
                if i >= n:
                    raise DataFormatError(path, "compressed data ends inside a back reference")
                length += data[i]
                i += 1
            if i >= n:
                raise DataFormatError(path, "compressed data ends inside a back reference")
            ref = len(out) - ((ctrl & 0x1F) << 8) - data[i] - 1
            i += 1
            if ref < 0:
                raise DataFormatError(path, "compressed data refers before its start")
            for _ in range(length + 2):
                out.append(out[ref])
                ref += 1
        if len(out) > expected:
            raise DataFormatError(path, f"compressed data expands beyond the {expected} bytes the header gives")
    if len(out) != expected:
        raise DataFormatError(path, f"compressed data expands to {len(out)} bytes, not {expected}")
    return bytes(out)
