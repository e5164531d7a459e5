"""mmengine's package helpers without pkg_resources, and with editable installs.

patches/mmengine/utils-use-importlib-metadata-instead-of-pkg-resources.patch
patches/mmengine/utils-find-editable-installs-in-get-installed-path.patch
"""

from __future__ import annotations

from mmlab_core.settings import REPO_ROOT


def test_is_installed_and_package2module_use_importlib_metadata():
    from mmengine.utils import is_installed
    from mmengine.utils.package_utils import package2module

    assert is_installed("numpy") and is_installed("mmdet") and not is_installed("no-such-package-xyz")
    assert package2module("opencv-python-headless") == "cv2"


def test_get_installed_path_finds_editable_forks():
    from mmengine.utils import get_installed_path

    assert get_installed_path("mmdet") == str(REPO_ROOT / "mmdetection" / "mmdet")
    assert get_installed_path("mmdet3d") == str(REPO_ROOT / "mmdetection3d" / "mmdet3d")


def test_config_inherits_upstream_configs_through_the_scope(tmp_path):
    from mmengine.config import Config

    config = tmp_path / "retina.py"
    config.write_text(
        "_base_ = ['mmdet::retinanet/retinanet_r18_fpn_1x_coco.py']\nmodel = dict(bbox_head=dict(num_classes=3))\n"
    )
    cfg = Config.fromfile(str(config))
    assert cfg.model.type == "RetinaNet" and cfg.model.backbone.depth == 18
    assert cfg.model.bbox_head.num_classes == 3
