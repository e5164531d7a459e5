from extensions.datasets.lidar_dataset import LidarDataset

__all__ = ["LidarDataset"]
