"""The agent's public face: what the server (and any other front end) may use, and nothing else.

A front end turns its input into a preview and a sidecar, calls ``edit`` (or, for a roll with one look,
``predict`` → ``consistent_plan`` → ``consistent_result`` → ``merge``), and hands back ``Outcome.text``;
``undo`` takes the agent's last edit back against the sidecar's backups.
"""

from agent.core import Outcome, edit, merge
from agent.edit import consistent_plan, consistent_result, predict, require_shared
from agent.errors import PolicyError, RequestError, instruction
from agent.policy import EditResult, Policy, load_policy
from darktable_bridge.apply import parse_sidecar, undo, undone_items
from darktable_bridge.errors import PhotoError
from darktable_bridge.photos import PREVIEW_SIDE
from darktable_bridge.photos import decode as decode_preview
from darktable_bridge.schema import operations_schema
from xmp.errors import SidecarError, UserError
from xmp.sidecar import MAX_BYTES as MAX_SIDECAR_BYTES

__all__ = [
    "MAX_SIDECAR_BYTES",
    "PREVIEW_SIDE",
    "EditResult",
    "Outcome",
    "PhotoError",
    "Policy",
    "PolicyError",
    "RequestError",
    "SidecarError",
    "UserError",
    "consistent_plan",
    "consistent_result",
    "decode_preview",
    "edit",
    "instruction",
    "load_policy",
    "merge",
    "operations_schema",
    "parse_sidecar",
    "predict",
    "require_shared",
    "undo",
    "undone_items",
]
