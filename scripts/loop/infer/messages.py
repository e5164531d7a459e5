"""The detection messages written for each frame: ``visualization_msgs/msg/MarkerArray`` (boxes any ROS
viewer shows) and Autoware's ``autoware_perception_msgs/msg/DetectedObjects`` (class, score, pose, size, yaw).

rosbags ships no Autoware types; their definitions below (fields as in autoware_msgs' .msg files) are
registered into the bag's typestore with ``get_types_from_msg``, so no ROS install is needed.
"""

from __future__ import annotations

import functools
import math

import numpy as np

MARKERS = "visualization_msgs/msg/MarkerArray"
OBJECTS = "autoware_perception_msgs/msg/DetectedObjects"

_AUTOWARE = {
    "autoware_perception_msgs/msg/ObjectClassification": """
uint8 UNKNOWN=0
uint8 CAR=1
uint8 TRUCK=2
uint8 BUS=3
uint8 TRAILER=4
uint8 MOTORCYCLE=5
uint8 BICYCLE=6
uint8 PEDESTRIAN=7
uint8 label
float32 probability
""",
    "autoware_perception_msgs/msg/Shape": """
uint8 BOUNDING_BOX=0
uint8 CYLINDER=1
uint8 POLYGON=2
uint8 type
geometry_msgs/Polygon footprint
geometry_msgs/Vector3 dimensions
""",
    "autoware_perception_msgs/msg/DetectedObjectKinematics": """
uint8 UNAVAILABLE=0
uint8 SIGN_UNKNOWN=1
uint8 AVAILABLE=2
geometry_msgs/PoseWithCovariance pose_with_covariance
bool has_position_covariance
uint8 orientation_availability
geometry_msgs/TwistWithCovariance twist_with_covariance
bool has_twist
bool has_twist_covariance
""",
    "autoware_perception_msgs/msg/DetectedObject": """
float32 existence_probability
autoware_perception_msgs/ObjectClassification[] classification
autoware_perception_msgs/DetectedObjectKinematics kinematics
autoware_perception_msgs/Shape shape
""",
    OBJECTS: """
std_msgs/Header header
autoware_perception_msgs/DetectedObject[] objects
""",
}
# our class names -> ObjectClassification labels (anything else is UNKNOWN)
AUTOWARE_LABELS = {
    "car": 1,
    "truck": 2,
    "bus": 3,
    "trailer": 4,
    "motorcycle": 5,
    "cyclist": 6,
    "bicycle": 6,
    "pedestrian": 7,
}
_COLORS = {1: (0.1, 0.6, 1.0), 6: (1.0, 0.8, 0.1), 7: (1.0, 0.2, 0.2)}


def register_autoware(typestore) -> None:
    """Add the Autoware detected-object types to ``typestore`` (ROS 1 or ROS 2); a no-op when present."""
    from rosbags.typesys import get_types_from_msg

    if OBJECTS in typestore.types:
        return
    types = {}
    for name, text in _AUTOWARE.items():
        types.update(get_types_from_msg(text, name))
    typestore.register(types)


def build(typestore, msgtype: str, **values):
    """A message of ``msgtype`` with ``values`` set and every other field at its ROS default."""
    return typestore.types[msgtype](**{**_defaults(typestore, msgtype), **values})


@functools.cache
def _defaults(typestore, msgtype: str) -> dict:
    """Every field of ``msgtype`` at its ROS default, made once per type: the nested default messages and
    arrays are shared by the messages built from them, which are only serialized, never changed."""
    from rosbags.typesys.store import Nodetype

    _, fields = typestore.fielddefs[msgtype]
    defaults = {}
    for name, (kind, desc) in fields:
        if kind == Nodetype.NAME:
            defaults[name] = build(typestore, desc)
        elif kind == Nodetype.BASE:
            defaults[name] = "" if desc[0] == "string" else False if desc[0] == "bool" else 0
        elif kind == Nodetype.ARRAY and desc[0][0] == Nodetype.BASE:
            defaults[name] = np.zeros(desc[1], dtype=np.dtype(desc[0][1][0]))
        elif kind == Nodetype.ARRAY:
            defaults[name] = [build(typestore, desc[0][1]) for _ in range(desc[1])]
        else:  # a sequence
            defaults[name] = np.zeros(0, np.uint8) if desc[0] == (Nodetype.BASE, ("uint8", 0)) else []
    return defaults


def _pose(typestore, box: np.ndarray):
    x, y, z, _, _, dz, yaw = (float(v) for v in box[:7])
    return build(
        typestore,
        "geometry_msgs/msg/Pose",
        position=build(typestore, "geometry_msgs/msg/Point", x=x, y=y, z=z + dz / 2),  # box z is the bottom
        orientation=build(typestore, "geometry_msgs/msg/Quaternion", z=math.sin(yaw / 2), w=math.cos(yaw / 2)),
    )


def detection_messages(typestore, header, detections, classes: list[str]) -> tuple:
    """The MarkerArray and DetectedObjects of one frame's ``detections`` (boxes (N, 7), scores, labels),
    stamped with the cloud's ``header``."""
    markers, objects = [], []
    for index, (box, score, label) in enumerate(
        zip(detections.boxes, detections.scores, detections.labels, strict=True)
    ):
        name = classes[int(label)]
        code = AUTOWARE_LABELS.get(name.lower(), 0)
        size = build(typestore, "geometry_msgs/msg/Vector3", x=float(box[3]), y=float(box[4]), z=float(box[5]))
        red, green, blue = _COLORS.get(code, (0.7, 0.7, 0.7))
        color = build(typestore, "std_msgs/msg/ColorRGBA", r=red, g=green, b=blue, a=0.5)
        pose = _pose(typestore, box)
        markers.append(
            build(
                typestore,
                "visualization_msgs/msg/Marker",
                header=header,
                ns=name,
                id=index,
                type=1,
                action=0,
                pose=pose,
                scale=size,
                color=color,
                text=f"{name} {score:.2f}",
            )
        )
        kinematics = build(
            typestore,
            "autoware_perception_msgs/msg/DetectedObjectKinematics",
            pose_with_covariance=build(typestore, "geometry_msgs/msg/PoseWithCovariance", pose=pose),
            orientation_availability=2,
        )
        classification = build(
            typestore, "autoware_perception_msgs/msg/ObjectClassification", label=code, probability=float(score)
        )
        shape = build(typestore, "autoware_perception_msgs/msg/Shape", type=0, dimensions=size)
        objects.append(
            build(
                typestore,
                "autoware_perception_msgs/msg/DetectedObject",
                existence_probability=float(score),
                classification=[classification],
                kinematics=kinematics,
                shape=shape,
            )
        )
    if not markers:  # an empty frame clears what the viewer showed for the previous one
        markers.append(build(typestore, "visualization_msgs/msg/Marker", header=header, action=3))
    return build(typestore, MARKERS, markers=markers), build(typestore, OBJECTS, header=header, objects=objects)
