"""The class list of each dataset format the project writes, defined once.

A converter stores each box's class as its index in this tuple (``bbox_label_3d``,
COCO ``category_id - 1``) and writes the tuple into the info file's ``metainfo``,
so the order is part of the file format: change it and old info files mean other
classes. A config may list the same classes in another order (its anchors' order);
mmdet3d and mmdet map the labels by name from the file's ``metainfo``.
"""

from __future__ import annotations

# the custom LiDAR format (scripts/data/convert_lidar.py), the multi-sensor frames
# (convert_multisensor.py) and the synthetic scenes and camera images generated for them
DRIVING_CLASSES = ("Car", "Pedestrian", "Cyclist")
