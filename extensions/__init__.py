"""mmlab-extension: registered components for driving data.

Configs load this package with ``custom_imports = dict(imports=['extensions'])``;
importing it registers the datasets and transforms into mmdet3d's registries.
"""

__version__ = "0.1.0"


def _register() -> None:
    try:
        import mmdet3d  # noqa: F401
    except ImportError:  # the readers and writers work without the stack
        return
    from extensions import datasets, evaluation, transforms  # noqa: F401


_register()
