"""Turning agent curves (lists of [x, y] nodes) into darktable's fixed 20-node arrays."""

from xmp.modules._curves import MAXNODES


def pad(curve: list) -> list:
    return [[float(x), float(y)] for x, y in curve] + [[0.0, 0.0]] * (MAXNODES - len(curve))


def set_curves(out: dict, nodes_field: str, count_field: str, curves: list, defaults: list) -> None:
    """Write ``curves`` over the struct defaults, channel by channel, with their node counts."""
    merged = [curves[i] if i < len(curves) else defaults[i] for i in range(len(defaults))]
    out[nodes_field] = [pad(c) for c in merged]
    out[count_field] = [len(c) for c in merged]
