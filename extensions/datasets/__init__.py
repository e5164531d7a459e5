from extensions.datasets.lidar_dataset import LidarDataset, MultiSensorDataset
from extensions.datasets.lidar_seg_dataset import LidarSegDataset

__all__ = ["LidarDataset", "LidarSegDataset", "MultiSensorDataset"]
