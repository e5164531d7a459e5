from extensions.transforms.loading import LoadLidarPoints

__all__ = ["LoadLidarPoints"]
