"""Average precision of any model over a config's test set, with the config's own evaluator (LidarMetric
for LiDAR models, as ``nox -s eval``): a PyTorch model or mmdeploy's backend model (ONNX Runtime,
OpenVINO, INT8), which both take the data loader's batches in ``test_step``."""

from __future__ import annotations

import logging


def evaluate(model, model_cfg, frames: int | None = None) -> dict[str, float]:
    """The test evaluator's metrics of ``model`` on the first ``frames`` (default all) test frames."""
    import torch
    from mmengine.evaluator import Evaluator
    from mmengine.logging import MMLogger
    from mmengine.registry import DATASETS, init_default_scope
    from mmengine.runner import Runner

    init_default_scope(model_cfg.get("default_scope", "mmdet3d"))
    loader_cfg = model_cfg.test_dataloader.copy()
    dataset = DATASETS.build(loader_cfg.dataset)
    if frames is not None:
        dataset = torch.utils.data.Subset(dataset, range(min(frames, len(dataset))))
        dataset.metainfo = dataset.dataset.metainfo
    loader = Runner.build_dataloader(dict(loader_cfg, dataset=dataset, batch_size=1))
    evaluator = Evaluator(model_cfg.test_evaluator)
    evaluator.dataset_meta = dataset.metainfo
    logger = MMLogger.get_current_instance()
    level = logger.level
    logger.setLevel(logging.WARNING)  # the metric logs its whole table; the caller reports what it needs
    try:
        with torch.no_grad():
            for batch in loader:
                evaluator.process(data_samples=model.test_step(batch), data_batch=batch)
        return evaluator.evaluate(len(dataset))
    finally:
        logger.setLevel(level)


def headline(metrics: dict[str, float]) -> dict[str, float]:
    """The whole-range APs (per class, BEV and 3D) and the mean: what an AP drop is measured on."""
    return {k: v for k, v in metrics.items() if k.endswith(("BEV_AP40", "3D_AP40", "mAP_3D", "bbox_mAP"))}


def ap_drop(reference: dict[str, float], other: dict[str, float]) -> float:
    """The largest fall, in AP points, of any headline AP from ``reference`` to ``other``."""
    common = headline(reference).keys() & headline(other).keys()
    scale = 100.0 if any(k.endswith("bbox_mAP") for k in common) else 1.0  # mmdet's COCO mAP is a fraction
    return max((scale * (reference[k] - other[k]) for k in common), default=0.0)
