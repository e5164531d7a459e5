"""mmlab-extension: registered components for driving data.

Configs load this package with ``custom_imports = dict(imports=['extensions'])``;
importing it registers the datasets, transforms, metrics, models and optimizer wrappers into
mmdet3d's registries, and the deploy rewriters into mmdeploy's.
"""

__version__ = "0.1.0"


def _register() -> None:
    try:
        import mmdet3d  # noqa: F401
    except ImportError:  # the readers and writers work without the stack
        return
    from extensions import datasets, evaluation, models, optim, transforms  # noqa: F401

    try:
        import mmdeploy  # noqa: F401
    except ImportError:  # training needs no deploy rewriters
        return
    from extensions import deploy  # noqa: F401


_register()
