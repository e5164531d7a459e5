from extensions.datasets.lidar_dataset import LidarDataset, MultiSensorDataset

__all__ = ["LidarDataset", "MultiSensorDataset"]
