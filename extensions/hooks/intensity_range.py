"""Record the training data's intensity range in every checkpoint's meta (``meta["intensity_range"]``), so
that ``infer`` can tell when a recording's intensity is on another scale than the model learned."""

from __future__ import annotations

import numpy as np
from mmdet3d.registry import HOOKS
from mmengine.hooks import Hook

from extensions.io.intensity import META_KEY, summarise

INTENSITY_COLUMN = 3  # x, y, z, intensity


@HOOKS.register_module()
class IntensityRangeHook(Hook):
    """Before training, load up to ``frames`` training frames, spread over the set, with the dataset's own
    point loader (the first step of its pipeline, before augmentation) and summarise their intensity; the
    result goes to the message hub and into the meta of each checkpoint saved."""

    priority = "LOW"

    def __init__(self, frames: int = 32):
        self.frames = frames
        self.range: dict | None = None

    def before_train(self, runner) -> None:
        dataset = _innermost(runner.train_dataloader.dataset)
        count = len(dataset)
        if not count:
            return
        loader = dataset.pipeline.transforms[0]
        picked = np.unique(np.linspace(0, count - 1, min(self.frames, count)).round().astype(int))
        values = []
        for index in picked:
            points = loader(dataset.get_data_info(int(index))).get("points")
            if points is None or points.shape[1] <= INTENSITY_COLUMN:
                return  # not a points loader, or the model reads no intensity
            values.append(points.tensor[:, INTENSITY_COLUMN].numpy())
        self.range = summarise(np.concatenate(values), len(picked))
        runner.message_hub.update_info(META_KEY, self.range)
        runner.logger.info(
            f"training intensity over {len(picked)} frames: {self.range['min']:.3g} to {self.range['max']:.3g}, "
            f"99th percentile {self.range['p99']:.3g}"
        )

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        if self.range is not None:
            checkpoint.setdefault("meta", {})[META_KEY] = self.range


def _innermost(dataset):
    """The dataset under wrappers (RepeatDataset, ClassBalancedDataset; the first of a ConcatDataset)."""
    while True:
        if hasattr(dataset, "datasets"):
            dataset = dataset.datasets[0]
        elif hasattr(dataset, "dataset"):
            dataset = dataset.dataset
        else:
            return dataset
