"""What travels to a lent GPU machine (CPython 3.12, its own CUDA torch, no network, 64 MiB a call).

The bundle folder (default ``.gpu-bundle/``, git-ignored) holds ``forks.tar.gz`` (the pure-Python forks and
mmcv's op sources, without docs, tests, upstream's prebuilt libraries or git history; mmdet3d's and mmdet's
``.mim/configs`` stay for ``mmdet3d::`` inheritance), a ``.dist-info`` per fork so that
``importlib.metadata`` finds them on ``PYTHONPATH``, the fork of spconv's Python files, ``wheels/`` (the
packages that machine lacks, listed in ``wheels.txt``) and ``MANIFEST.txt`` with every file and the total.
The repository's own tracked files travel with the working tree and count towards the same 64 MiB.
"""

from __future__ import annotations

import io
import subprocess
import tarfile
from dataclasses import dataclass
from pathlib import Path

from mmlab_core.errors import MmlabError

LIMIT = 64 * 2**20
REPO = Path(__file__).resolve().parents[3]
WHEELS_TXT = Path(__file__).with_name("wheels.txt")
# fork folder -> (distribution, the import packages it holds)
FORKS = {
    "mmengine": ("mmengine", ["mmengine"]),
    "mmcv": ("mmcv", ["mmcv"]),
    "mmdetection": ("mmdet", ["mmdet"]),
    "mmdetection3d": ("mmdet3d", ["mmdet3d"]),
    "mmdeploy": ("mmdeploy", ["mmdeploy"]),
    "nuscenes-devkit": ("nuscenes-devkit", ["nuscenes"]),
    "lyft-dataset-sdk": ("lyft_dataset_sdk", ["lyft_dataset_sdk"]),
}
DROP_PARTS = {"tests", "test", "docs", "demo", "resources", ".github", ".dev_scripts", "parrots", "mlu", "npu", "mps"}
# upstream's prebuilt runtime libraries (ONNX Runtime 1.15, TensorRT 8 custom ops): 38 MB that nothing here loads
DROP_FILES = ("libonnxruntime.so", "libmmdeploy_tensorrt_ops.so", "cpython-311-x86_64-linux-gnu.so")
DOWNLOAD = [
    "python3",
    "-m",
    "pip",
    "download",
    "--no-deps",
    "--only-binary=:all:",
    "--python-version",
    "3.12",
    "--implementation",
    "cp",
    *[f"--platform=manylinux_{v}_x86_64" for v in ("2_17", "2_24", "2_27", "2_28", "2_31", "2_34", "2_35")],
    "--platform=manylinux2014_x86_64",
    "--platform=manylinux1_x86_64",
]


class BundleError(MmlabError):
    """The bundle cannot be made or would not fit."""


@dataclass(frozen=True)
class Bundle:
    """What would travel: each file (path in the bundle, bytes), the total, and whether it fits."""

    folder: Path
    files: list[tuple[str, int]]
    repo_bytes: int
    missing_wheels: list[str]

    @property
    def total(self) -> int:
        return sum(size for _, size in self.files) + self.repo_bytes

    @property
    def fits(self) -> bool:
        return self.total < LIMIT


def kept(path: str) -> bool:
    """Whether a fork's tracked file travels."""
    parts = set(Path(path).parts)
    return not (parts & DROP_PARTS) and not any(path.endswith(f) or f in Path(path).name for f in DROP_FILES)


def _tracked(folder: Path) -> list[str]:
    if not (folder / ".git").exists():
        raise BundleError(f"{folder} is not a synced fork; run `nox -s sync` first, then make the bundle again.")
    out = subprocess.run(["git", "ls-files", "-z"], cwd=folder, capture_output=True, text=True, check=True)
    return [p for p in out.stdout.split("\0") if p and (folder / p).is_file()]


def _dist_info(dist: str, packages: list[str]) -> dict[str, bytes]:
    from importlib.metadata import version

    name = dist.replace("-", "_")
    info = f"{name}-{version(dist)}.dist-info"
    return {
        f"{info}/METADATA": f"Metadata-Version: 2.1\nName: {dist}\nVersion: {version(dist)}\n".encode(),
        f"{info}/top_level.txt": ("\n".join(packages) + "\n").encode(),
        f"{info}/RECORD": b"",
    }


def pack_forks(target: Path | None) -> int:
    """``forks.tar.gz`` of every fork (and spconv's Python files), written to ``target`` unless None; its size."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz", compresslevel=9) as tar:
        for folder, (dist, packages) in FORKS.items():
            for rel in sorted(_tracked(REPO / folder)):
                if kept(rel):
                    tar.add(REPO / folder / rel, arcname=f"forks/{folder}/{rel}", recursive=False)
            for rel, data in _dist_info(dist, packages).items():
                entry = tarfile.TarInfo(f"forks/{folder}/{rel}")
                entry.size = len(data)
                tar.addfile(entry, io.BytesIO(data))
        for path in sorted((REPO / "spconv" / "spconv").rglob("*.py")):
            tar.add(path, arcname=f"spconv-py/{path.relative_to(REPO / 'spconv' / 'spconv')}", recursive=False)
    if target is not None:
        target.write_bytes(buffer.getvalue())
    return len(buffer.getvalue())


def wheel_pins() -> list[str]:
    return [line.strip() for line in WHEELS_TXT.read_text().splitlines() if line.strip() and line[0] != "#"]


def _wheel_name(pin: str) -> str:
    return pin.split("==")[0].lower().replace("-", "_").replace(".", "_")


def missing(folder: Path) -> list[str]:
    """The pins of wheels.txt with no wheel in ``folder/wheels``."""
    have = {w.name.split("-")[0].lower().replace(".", "_") for w in (folder / "wheels").glob("*.whl")}
    return [pin for pin in wheel_pins() if _wheel_name(pin) not in have]


def download(folder: Path) -> None:
    """Fetch the missing wheels (CPython 3.12 manylinux, no dependencies) with pip; a failure is a paragraph."""
    (folder / "wheels").mkdir(parents=True, exist_ok=True)
    for pin in missing(folder):
        done = subprocess.run([*DOWNLOAD, "-q", "-d", str(folder / "wheels"), pin], capture_output=True, text=True)
        if done.returncode != 0:
            raise BundleError(
                f"pip could not download {pin} for CPython 3.12 manylinux: "
                f"{done.stderr.strip().splitlines()[-1] if done.stderr.strip() else 'no output'}"
            )


def repo_bytes() -> int:
    """The working tree that travels with every call: the repository's tracked files."""
    return sum((REPO / p).stat().st_size for p in _tracked(REPO))


def make(folder: Path, dry_run: bool) -> Bundle:
    """List (``dry_run``) or write the bundle in ``folder`` and its MANIFEST.txt."""
    if not dry_run:
        folder.mkdir(parents=True, exist_ok=True)
    forks = pack_forks(None if dry_run else folder / "forks.tar.gz")
    files = [("forks.tar.gz", forks)]
    files += [(f"wheels/{w.name}", w.stat().st_size) for w in sorted((folder / "wheels").glob("*.whl"))]
    files.append(("bootstrap.sh (in the repository)", 0))
    bundle = Bundle(folder, files, repo_bytes(), missing(folder))
    if not dry_run:
        (folder / "MANIFEST.txt").write_text(manifest(bundle))
    return bundle


def manifest(bundle: Bundle) -> str:
    lines = [f"{size:>12,d}  {name}" for name, size in bundle.files]
    lines.append(f"{bundle.repo_bytes:>12,d}  the repository's tracked files (they travel with every call)")
    lines.append(
        f"{bundle.total:>12,d}  total ({bundle.total / 2**20:.1f} MiB of {LIMIT // 2**20} MiB: "
        f"{'fits' if bundle.fits else 'TOO LARGE'})"
    )
    if bundle.missing_wheels:
        lines.append("wheels not yet downloaded (--download): " + " ".join(bundle.missing_wheels))
    return "\n".join(lines) + "\n"
