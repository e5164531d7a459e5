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

# LiDAR segmentation. Per-point labels are stored as SemanticKITTI stores them (``labels/<id>.label``: uint32,
# the raw class id in the low 16 bits, an instance number in the high 16), with SemanticKITTI's raw ids, so one
# mapping serves SemanticKITTI's own files and the custom format's. The ids the synthetic scenes write:
RAW_IDS = {
    "unlabeled": 0,
    "car": 10,
    "person": 30,
    "bicyclist": 31,
    "road": 40,
    "building": 50,
    "vegetation": 70,
    "trunk": 71,
    "pole": 80,
    "other-object": 99,
}
# the classes a driving segmentation model here predicts, in this order (a point's predicted label is its index)
SEG_CLASSES = ("ground", "car", "pedestrian", "cyclist", "building", "vegetation")
SEG_PALETTE = ((170, 170, 170), (100, 150, 245), (255, 30, 30), (255, 40, 200), (255, 200, 0), (0, 175, 0))
# SemanticKITTI raw id -> index in SEG_CLASSES; ids not listed are ignored in training and evaluation
RAW_TO_SEG = {
    **dict.fromkeys((40, 44, 48, 49, 60, 72), 0),  # road, parking, sidewalk, other-ground, lane marking, terrain
    **dict.fromkeys((10, 252), 1),  # car, moving car
    **dict.fromkeys((30, 254), 2),  # person, moving person
    **dict.fromkeys((31, 253), 3),  # bicyclist, moving bicyclist
    50: 4,  # building
    **dict.fromkeys((70, 71), 5),  # vegetation, trunk
}
