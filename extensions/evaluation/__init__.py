from extensions.evaluation.lidar_metric import LidarMetric, average_precision

__all__ = ["LidarMetric", "average_precision"]
