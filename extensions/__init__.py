"""mmlab-extension: registered components for driving data.

Configs load this package with ``custom_imports = dict(imports=['extensions'])``.
Each submodule registers its classes into the OpenMMLab registries on import.
"""

__version__ = "0.1.0"
