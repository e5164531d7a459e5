"""Training hooks the configs add (``custom_hooks``); importing this module registers them."""

from extensions.hooks.intensity_range import IntensityRangeHook

__all__ = ["IntensityRangeHook"]
