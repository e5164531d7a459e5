"""The zoo's export column: which mmdet3d families get mmdeploy's voxel or mono task, why the others are n/a,
what a refused export says, and how docs/zoo.md renders and counts them (fast: configs are read, nothing runs)."""

from __future__ import annotations


def _row(name: str, **stages) -> dict:
    ok = dict(ok=True)
    stages = dict(config=ok, train=ok, predict=ok, **stages)
    return dict(name=name, scope="mmdet3d", config="x.py", stages=stages, wall_s=1.0, peak_rss_mb=100)


def test_each_3d_family_gets_the_task_mmdeploy_has_for_its_kind_or_a_reason():
    from scripts.loop.zoo.deploy_3d import MONO_DEPLOY, VOXEL_DEPLOY
    from scripts.loop.zoo.families import by_name

    assert by_name("CenterPoint-pillar").deploy == VOXEL_DEPLOY and by_name("SECOND").deploy == VOXEL_DEPLOY
    assert by_name("SMOKE").deploy == MONO_DEPLOY and by_name("PGD").deploy == MONO_DEPLOY
    for name, words in (("VoteNet", "indoor"), ("MinkUNet", "segmentation"), ("MV-FCOS3D", "multi-view")):
        family = by_name(name)
        assert family.deploy is None and words in family.no_export, family
    assert by_name("nuImages Mask R-CNN").no_export == "" and by_name("ATSS").no_export == ""


def test_what_mmdeploy_cannot_export_is_named_from_the_model_config():
    from scripts.loop.zoo.deploy_3d import refusal
    from scripts.loop.zoo.families import by_name
    from scripts.loop.zoo.probe import build_config

    def why(name: str) -> str:
        family = by_name(name)
        return refusal(build_config(family), family.kind)

    assert why("PointPillars") == "" and why("SMOKE") == ""
    assert "SparseEncoder is sparse 3D convolution" in why("SECOND")
    assert "DynamicPillarFeatureNet" in why("DV-PointPillars")
    parta2 = why("PartA2")
    assert "PartAggregationROIHead" in parta2 and "sparse 3D convolution" in parta2
    assert "raw points" in why("3DSSD")
    assert "FCOSMono3DHead" in why("FCOS3D")


def test_an_anchor_head_on_fpn_levels_exports_one_output_set_per_level():
    from mmdeploy.utils import load_config

    from mmlab_core.settings import REPO_ROOT
    from scripts.loop.zoo.deploy_3d import VOXEL_DEPLOY
    from scripts.loop.zoo.export_stage import output_names
    from scripts.loop.zoo.families import by_name
    from scripts.loop.zoo.probe import build_config

    (deploy_cfg,) = load_config(str(REPO_ROOT / VOXEL_DEPLOY))
    names = output_names(deploy_cfg, build_config(by_name("FreeAnchor")))  # MVX: levels interleaved, as it checks
    assert names[:4] == ["cls_score0", "bbox_pred0", "dir_cls_pred0", "cls_score1"] and len(names) == 9
    assert output_names(deploy_cfg, build_config(by_name("PointPillars"))) == list(deploy_cfg.onnx_config.output_names)


def test_the_table_renders_n_a_and_refused_exports_and_counts_only_export_stages():
    from scripts.loop.zoo import table

    na = _row("VoteNet")
    refused = _row("SECOND", export=dict(ok=False, reason="mmdeploy 1.3.1 cannot export it: SparseEncoder ..."))
    green = _row("PointPillars", export=dict(ok=True, max_abs_diff=1e-5))
    assert table.marks(na).split(" | ")[-1] == "n/a" and table.why(na).startswith("export n/a: mmdeploy 1.3.1")
    assert table.marks(refused).split(" | ")[-1] == "❌"
    assert table.why(refused) == "export: mmdeploy 1.3.1 cannot export it: SparseEncoder ..."
    assert table.marks(green) == "✅ | ✅ | ✅ | ✅" and table.why(green) == ""
    assert table.counts([na, refused, green])["export"] == dict(green=1, total=2)
    text = table.markdown([na, refused, green], dict(table.environment(), date="2026-12-02"), 240)
    assert "export parity: 1/2" in text and "| VoteNet (`x.py`) | ✅ | ✅ | ✅ | n/a |" in text
