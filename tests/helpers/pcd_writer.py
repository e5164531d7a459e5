"""Write PCD fixtures for the reader's tests (the product only reads PCD files)."""

from __future__ import annotations

from pathlib import Path

import numpy as np


def lzf_literal(data: bytes) -> bytes:
    """A valid LZF encoding of ``data`` that uses literal runs only."""
    out = bytearray()
    for start in range(0, len(data), 32):
        chunk = data[start : start + 32]
        out.append(len(chunk) - 1)
        out += chunk
    return bytes(out)


def write_pcd(path: str | Path, points: np.ndarray, fields=("x", "y", "z", "intensity"), data: str = "binary") -> None:
    """Write float32 columns as a PCD file (test fixtures and round trips)."""
    points = np.ascontiguousarray(points, dtype=np.float32)
    n, k = points.shape
    header = (
        "# .PCD v0.7 - Point Cloud Data file format\nVERSION 0.7\n"
        f"FIELDS {' '.join(fields[:k])}\nSIZE {' '.join(['4'] * k)}\nTYPE {' '.join(['F'] * k)}\n"
        f"COUNT {' '.join(['1'] * k)}\nWIDTH {n}\nHEIGHT 1\nVIEWPOINT 0 0 0 1 0 0 0\nPOINTS {n}\nDATA {data}\n"
    ).encode()
    if data == "ascii":
        body = "".join(" ".join(repr(float(v)) for v in row) + "\n" for row in points).encode()
    elif data == "binary":
        body = points.tobytes()
    elif data == "binary_compressed":
        raw = np.ascontiguousarray(points.T).tobytes()  # field by field
        packed = lzf_literal(raw)
        body = np.array([len(packed), len(raw)], dtype="<u4").tobytes() + packed
    else:
        raise ValueError(f"unknown PCD data type {data}")
    Path(path).write_bytes(header + body)
