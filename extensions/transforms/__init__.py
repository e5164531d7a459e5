from extensions.transforms.loading import LoadLidarPoints
from extensions.transforms.velocity import ZeroVelocity

__all__ = ["LoadLidarPoints", "ZeroVelocity"]
