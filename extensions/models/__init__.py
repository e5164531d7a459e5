from extensions.models.occupancy_scatter import OccupancyPillarScatter

__all__ = ["OccupancyPillarScatter"]
