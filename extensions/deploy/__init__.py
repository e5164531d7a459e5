"""mmdeploy rewriters for the models in extensions (registered on import)."""

from extensions.deploy import rewriters  # noqa: F401
