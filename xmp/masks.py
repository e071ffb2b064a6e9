"""Drawn forms (src/develop/masks.h, masks version 6) declared as data.

Coordinates are normalised to the pipeline's input image (before flip and crop); radii and borders are
relative to the smaller image side.
"""

from __future__ import annotations

from .structs import Field as F
from .structs import Struct

VERSION = 6

CIRCLE, PATH, GROUP, CLONE, GRADIENT, ELLIPSE, BRUSH, NON_CLONE = 1, 2, 4, 8, 16, 32, 64, 128
# group member state bits
STATE_USE, STATE_SHOW, STATE_INVERSE, STATE_UNION, STATE_INTERSECTION, STATE_DIFFERENCE, STATE_EXCLUSION = (
    1,
    2,
    4,
    8,
    16,
    32,
    64,
)

GROUP_POINT = Struct(
    "mask_group",
    VERSION,
    (
        F("formid", "int", 0, doc="member form id"),
        F("parentid", "int", 0, doc="the group's own form id"),
        F("state", "int", STATE_USE | STATE_SHOW, doc="state bits"),
        F("opacity", default=1.0, min=0.0, max=1.0, doc="member opacity"),
    ),
)
GRADIENT_POINT = Struct(
    "mask_gradient",
    VERSION,
    (
        F("anchor", shape=(2,), default=[0.5, 0.5], doc="anchor point (x, y)"),
        F("rotation", default=0.0, min=-360.0, max=360.0, unit="°", doc="rotation; 0 = mask covers the top"),
        F("compression", default=0.5, min=0.001, max=1.0, doc="width of the transition"),
        F("steepness", default=0.0, doc="unused by the renderer"),
        F("curvature", default=0.0, min=-2.0, max=2.0, doc="curvature of the line"),
        F("state", "int", 2, choices={1: "linear", 2: "sigmoidal"}, doc="transition profile"),
    ),
)
ELLIPSE_POINT = Struct(
    "mask_ellipse",
    VERSION,
    (
        F("center", shape=(2,), default=[0.5, 0.5], min=-1.0, max=2.0, doc="centre (x, y)"),
        F("radius", shape=(2,), default=[0.2, 0.1], min=0.0005, max=1.0, doc="radii (a, b)"),
        F("rotation", default=0.0, min=-360.0, max=360.0, unit="°", doc="rotation"),
        F("border", default=0.05, min=0.0005, max=1.0, doc="feather width"),
        F("flags", "int", 0, choices={0: "equidistant", 1: "proportional"}, doc="feather mode"),
    ),
)
CIRCLE_POINT = Struct(
    "mask_circle",
    VERSION,
    (
        F("center", shape=(2,), default=[0.5, 0.5], min=-1.0, max=2.0, doc="centre (x, y)"),
        F("radius", default=0.1, min=0.0005, max=1.0, doc="radius"),
        F("border", default=0.05, min=0.0005, max=1.0, doc="feather width"),
    ),
)
PATH_POINT = Struct(
    "mask_path",
    VERSION,
    (
        F("corner", shape=(2,), doc="node (x, y)"),
        F("ctrl1", shape=(2,), doc="incoming Bézier control point"),
        F("ctrl2", shape=(2,), doc="outgoing Bézier control point"),
        F("border", shape=(2,), default=[0.05, 0.05], doc="feather at this node (inner, outer)"),
        F("state", "int", 1, doc="1 normal node, 2 user-moved control points"),
    ),
)
BRUSH_POINT = Struct(
    "mask_brush",
    VERSION,
    (
        F("corner", shape=(2,)),
        F("ctrl1", shape=(2,)),
        F("ctrl2", shape=(2,)),
        F("border", shape=(2,)),
        F("density", default=1.0),
        F("hardness", default=0.66),
        F("state", "int", 1),
    ),
)

POINT_STRUCTS = {
    GROUP: GROUP_POINT,
    GRADIENT: GRADIENT_POINT,
    ELLIPSE: ELLIPSE_POINT,
    CIRCLE: CIRCLE_POINT,
    PATH: PATH_POINT,
    BRUSH: BRUSH_POINT,
}


def point_struct(mask_type: int) -> Struct | None:
    """The point layout for a form type (clone variants share their shape's layout)."""
    return POINT_STRUCTS.get(mask_type & ~(CLONE | NON_CLONE))
