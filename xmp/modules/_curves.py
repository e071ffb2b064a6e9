"""Shared declarations of darktable's curve modules (rgbcurve, tonecurve, colorzones)."""

from ..structs import Field as F

MAXNODES = 20
CURVE_TYPES = {0: "cubic spline", 1: "centripetal spline (Catmull-Rom)", 2: "monotonic spline"}
RGB_NORMS = {0: "none", 1: "luminance", 2: "max RGB", 3: "average RGB", 4: "sum RGB", 5: "norm RGB", 6: "basic power"}


def nodes_field(name, curves, doc):
    """``curves`` is one list of (x, y) nodes per channel; unused slots are zero as darktable stores them."""
    default = [[list(p) for p in c] + [[0.0, 0.0]] * (MAXNODES - len(c)) for c in curves]
    return F(name, shape=(len(curves), MAXNODES, 2), default=default, min=0.0, max=1.0, doc=doc)


def counts_field(name, curves, doc):
    return F(name, "int", shape=(len(curves),), default=[len(c) for c in curves], min=0, max=MAXNODES, doc=doc)


def types_field(name, n, default, doc):
    return F(name, "int", shape=(n,), default=[default] * n, min=0, max=2, doc=doc)
