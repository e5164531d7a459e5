"""mmlab-extension: registered components for driving data.

Importing this package registers nothing. A config names the modules it needs
in ``custom_imports`` (each module registers its components into mmdet3d's
registries when imported), the way mmengine loads a registry's ``locations``.
A config spells the list out (an ``import`` in a config would make it a
lazy-import config); ``COMPONENTS`` is that list, and a test keeps the
configs equal to it::

    custom_imports = dict(imports=["extensions.datasets", ...], allow_failed_imports=False)

Code that builds models without such a config calls ``register()``; the deploy
pipeline calls ``register(rewriters=True)`` for the mmdeploy rewriters.
"""

from __future__ import annotations

from importlib import import_module

__version__ = "0.1.0"

# The modules whose import registers the plugin's datasets, transforms, metrics, models, optimizer wrappers
# and training hooks.
COMPONENTS = (
    "extensions.datasets",
    "extensions.transforms",
    "extensions.evaluation",
    "extensions.models",
    "extensions.optim",
    "extensions.hooks",
)
# mmdeploy's function rewriters (needs mmdeploy).
REWRITERS = ("extensions.deploy",)


def register(*, rewriters: bool = False) -> None:
    """Import the component modules (and the deploy rewriters): each registers itself once."""
    for name in COMPONENTS + (REWRITERS if rewriters else ()):
        import_module(name)
