"""mmdet3d on NumPy 2 without the dataset SDKs (the mmdet3d patches).

patches/mmdetection3d/make-the-nuscenes-lyft-open3d-and-tensorboard-dependencies-o.patch
patches/mmdetection3d/replace-numpy-aliases-that-numpy-removed.patch
"""

from __future__ import annotations

import importlib.metadata
import subprocess
import sys

import numpy as np
import pytest
import torch

# the stack carries nuscenes-devkit and lyft-dataset-sdk as forks now; a user's environment may still lack them
_WITHOUT_SDKS = "import sys; sys.modules.update(nuscenes=None, lyft_dataset_sdk=None, open3d=None, tensorboard=None); "


def _without_sdks(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", _WITHOUT_SDKS + code], capture_output=True, text=True)


def test_stack_runs_numpy_2_without_the_dataset_sdks():
    assert int(np.__version__.split(".")[0]) >= 2
    result = _without_sdks("import mmdet3d.datasets, mmdet3d.evaluation, mmdet3d.models, mmdet3d.apis")
    assert result.returncode == 0, result.stderr[-2000:]


def test_dataset_sdks_are_extras_not_requirements():
    requires = importlib.metadata.requires("mmdet3d")
    plain = {r.split(";")[0].strip() for r in requires if "extra ==" not in r}
    assert not plain & {"nuscenes-devkit", "lyft_dataset_sdk", "open3d", "tensorboard"}
    assert "pyquaternion" in plain
    extras = {r for r in requires if "extra ==" in r}
    for name, extra in (("nuscenes-devkit", "nuscenes"), ("lyft_dataset_sdk", "lyft"), ("open3d", "open3d")):
        assert any(r.startswith(name) and f'extra == "{extra}"' in r for r in extras), name


@pytest.mark.parametrize(("metric", "extra"), [("NuScenesMetric", "nuscenes"), ("LyftMetric", "lyft")])
def test_sdk_metrics_name_their_extra(metric, extra):
    code = f"from mmdet3d.evaluation import metrics; metrics.{metric}(data_root='data', ann_file='infos.pkl')"
    result = _without_sdks(code)
    assert result.returncode != 0 and "ImportError" in result.stderr and f"mmdet3d[{extra}]" in result.stderr


def test_instance_seg_eval_runs_on_numpy_2():
    """Guards np.in1d -> np.isin (np.in1d is gone in NumPy 2.4)."""
    from mmdet3d.evaluation.functional import instance_seg_eval

    n = 400
    instance = torch.zeros(n, dtype=torch.int64)
    instance[100:200], instance[250:400] = 1, 2
    semantic = torch.full((n,), 2, dtype=torch.int64)  # indices into valid_class_ids; 2 = unlabelled
    semantic[100:200], semantic[250:400] = 0, 1
    pred_mask = instance - 1  # -1 is background, 0 and 1 the two instances
    result = instance_seg_eval(
        [semantic],
        [instance],
        [pred_mask],
        [torch.tensor([0, 1])],
        [torch.tensor([0.9, 0.8])],
        valid_class_ids=(3, 4),
        class_labels=("chair", "table"),
    )
    assert result["all_ap"] == pytest.approx(1.0)
    assert result["classes"]["chair"]["ap"] == pytest.approx(1.0)
