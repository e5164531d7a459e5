"""mmdet3d's own dataset converters (``tools/dataset_converters``), imported from
the installed package, and a staging folder that publishes their output whole.

mmdet3d installs its ``tools/`` folder as ``mmdet3d/.mim/tools`` (a namespace
package, imported as ``tools.dataset_converters.<name>``). We call those
modules rather than copying them; where NumPy 2 or torch 2.13 breaks them the
fix is a patch in patches/mmdetection3d/.
"""

from __future__ import annotations

import importlib
import os
import shutil
import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType

from mmlab_core.errors import DataFormatError, MmlabError

# each converter's dataset SDK, and how the stack gets it
FORK = "the stack installs it as a patched fork (patches/{}/); rebuild the environment with `nox -s setup`"
NO_NUMPY2 = "waymo-open-dataset-tf-2-12-0 1.6.7 pins numpy==1.23.5, so the stack cannot carry it next to NumPy 2"
SDKS = {
    "nuscenes": ("nuscenes-devkit", FORK.format("nuscenes-devkit")),
    "lyft_dataset_sdk": ("lyft_dataset_sdk", FORK.format("lyft-dataset-sdk")),
    "tensorflow": ("tensorflow and waymo-open-dataset", NO_NUMPY2),
    "waymo_open_dataset": ("waymo-open-dataset", NO_NUMPY2),
}


class MissingSdkError(MmlabError):
    """A converter needs a dataset SDK that is not installed in the stack."""


def tools_root() -> Path:
    """The folder that holds mmdet3d's ``tools/`` package (``mmdet3d/.mim``)."""
    import mmdet3d

    return Path(mmdet3d.__file__).parent / ".mim"


def converter(name: str, dataset: str) -> ModuleType:
    """``tools.dataset_converters.<name>``; a missing dataset SDK is a paragraph saying what to install."""
    root = str(tools_root())
    if root not in sys.path:
        sys.path.insert(0, root)
    try:
        return importlib.import_module(f"tools.dataset_converters.{name}")
    except ImportError as exc:  # waymo_converter re-raises the ModuleNotFoundError as a bare ImportError
        missing = exc if isinstance(exc, ModuleNotFoundError) else exc.__context__
        top = (getattr(missing, "name", None) or "").split(".")[0]
        if top not in SDKS:
            raise
        sdk, remedy = SDKS[top]
        raise MissingSdkError(
            f"converting {dataset} runs mmdet3d's tools/dataset_converters/{name}.py, which imports {top!r}, and "
            f"this environment does not have {sdk}: {remedy}. Otherwise convert this dataset in an environment "
            "that has the SDK, or lay it out as KITTI or as our custom layout and use `nox -s data -- kitti` or "
            "`custom`."
        ) from exc


def require(path: Path, what: str) -> Path:
    """``path`` if it exists; otherwise a paragraph naming it."""
    if not path.exists():
        raise DataFormatError(path, f"{what} does not exist; check the dataset folder you passed")
    return path


@contextmanager
def staging(out: Path, name: str) -> Iterator[Path]:
    """A hidden folder in ``out`` for a converter to write into; removed whatever happens.

    Move what it made into ``out`` with :func:`publish` before the block ends.
    """
    out.mkdir(parents=True, exist_ok=True)
    folder = out / f".{name}.{os.getpid()}.tmp"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir()
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def publish(folder: Path, out: Path, names: Iterable[str]) -> list[Path]:
    """Rename each finished ``folder/<name>`` (file or folder) over ``out/<name>``; returns the targets."""
    targets = []
    for name in names:
        source, target = folder / name, out / name
        if not source.exists():
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        if target.is_dir() and not target.is_symlink():
            old = target.with_name(f".{target.name}.{os.getpid()}.old")
            os.replace(target, old)
            os.replace(source, target)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(source, target)
        targets.append(target)
    return targets
