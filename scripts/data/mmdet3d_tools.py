"""mmdet3d's own dataset converters (``tools/dataset_converters``), imported from
the installed package (the converters stage and publish their output with mmlab_core.files).

mmdet3d installs its ``tools/`` folder as ``mmdet3d/.mim/tools`` (a namespace
package, imported as ``tools.dataset_converters.<name>``). We call those
modules rather than copying them; where NumPy 2 or torch 2.13 breaks them the
fix is a patch in patches/mmdetection3d/.
"""

from __future__ import annotations

import importlib
import sys
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
