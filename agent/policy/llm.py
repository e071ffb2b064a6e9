"""What the chat-model policies share (a local VLM, an OpenAI-compatible server): prompts, answer parsing, repair.

A chat model sees a system prompt with the vocabulary (written from its JSON Schema, one line per module) and a
user turn with the photo, its measured facts, the current darktable history and the instruction. It answers
reasoning first, then one JSON object ``{"operations": [...]}``. ``parse_answer`` finds that object in whatever
came back (fenced or not, with or without chatter around it), and the operations are validated against the
vocabulary. A bad answer is quoted back with the validation error for a bounded number of repair rounds; an answer
that still fails is a ``PolicyError`` ("could not produce a valid edit"), and nothing is written.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass

import numpy as np

from agent.errors import PolicyError
from agent.errors import instruction as checked_instruction
from agent.policy import EditResult, validate
from xmp.sidecar import Sidecar

MAX_ANSWER_CHARS = 20000  # longer answers are cut before parsing (a runaway generation)
MAX_JSON_STARTS = 400  # '{' positions tried when looking for the operations object
NO_REASONING = "The model gave no reasoning."

ANSWER_FORMAT = (
    "Answer in two parts. First the reasoning: a few sentences on what the photo shows (use the measurements) and "
    "why each operation. Then one JSON object, in a ```json fenced block, of the form "
    '{"operations": [{"module": ..., "params": {...}}, ...]}. Use only the modules and fields listed, inside their '
    "ranges; leave out fields that should keep darktable's defaults. An empty list means: change nothing."
)

EXAMPLE = {
    "operations": [
        {"module": "exposure", "params": {"exposure": 0.5}},
        {"module": "channelmixerrgb", "params": {"temperature": 5600}},
        {
            "module": "exposure",
            "instance": "sky",
            "params": {"exposure": -0.6},
            "mask": {"type": "gradient", "anchor": [0.5, 0.35], "rotation": 0, "compression": 0.3},
        },
    ]
}


# ---- the vocabulary as prompt text --------------------------------------------------------------------------


def _range(spec: dict) -> str:
    if "enum" in spec:
        return "one of " + "|".join(str(v) for v in spec["enum"])
    if spec.get("type") == "array":  # a vector (depth 1), a curve of [x, y] nodes (2) or a list of curves (3)
        leaf, depth = spec, 0
        while leaf.get("type") == "array":
            leaf, depth = leaf.get("items", {}), depth + 1
        if depth > 1:
            shape = "[[x, y], ...] curve" if depth == 2 else "list of [[x, y], ...] curves"
            return f"{shape}, each in {_range(leaf)}"
        n = spec.get("minItems")
        return f"list of {n} × {_range(leaf)}" if n and n == spec.get("maxItems") else f"list of {_range(leaf)}"
    if "minimum" in spec and "maximum" in spec:
        kind = "integer " if spec.get("type") == "integer" else ""
        return f"{kind}[{spec['minimum']:g}, {spec['maximum']:g}]"
    return spec.get("type", "value")


def _short(description: str) -> str:
    return description.split(" (darktable:")[0].strip()


def vocabulary_text(detail: bool = True) -> str:
    """One line per module (``module``: what it does; fields with ranges), then the mask shapes."""
    from darktable_bridge.operations import SHAPE_FIELDS
    from darktable_bridge.schema import operations_schema

    schema = operations_schema()
    lines = []
    for op in schema["properties"]["operations"]["items"]["oneOf"]:
        props = op["properties"]
        name = props["module"]["const"]
        params = props["params"]["properties"]
        fields = "; ".join(
            f"{k} {_range(v)}" + (f" ({_short(v.get('description', ''))})" if detail else "") for k, v in params.items()
        )
        head = f"- {name}" + (f" — {props['module']['description']}" if detail else "")
        stack = "" if "mask" in props else " [edited in place: no instance, no mask]"
        lines.append(f"{head}{stack}\n    {fields}")
    shapes = []
    for kind, fields in SHAPE_FIELDS.items():
        if kind == "parametric":
            shapes.append(
                '{"type": "parametric", "channel": "lightness"|"chroma"|"hue", "range": [x0, x1, x2, x3]} '
                "(trapezoid in L* 0–100, C* 0–180 or hue °)"
            )
            continue
        parts = [f'"type": "{kind}"']
        for key, (default, lo, hi) in fields.items():
            parts.append(
                f'"{key}": ' + ("[[x, y], ...]" if default is None else json.dumps(default)) + f" ({lo:g}..{hi:g})"
            )
        shapes.append("{" + ", ".join(parts) + "}")
    return (
        "Modules (darktable operation names and params struct fields, in darktable's stored units):\n"
        + "\n".join(lines)
        + '\nEvery module except those edited in place also takes: "instance" (a short name, for a second '
        'instance), "mask", "opacity" (0–100), "blend_mode". Masks, coordinates 0–1 of the frame, '
        "rotation 0 of a gradient covers the top:\n"
        + "\n".join("  " + s for s in shapes)
        + '\n  or {"parts": [mask, ...]} to combine; any mask takes "invert", "feathering_radius", '
        '"blur_radius".'
    )


def system_prompt(style: str = "full") -> str:
    """``full``: the whole vocabulary with one-line docs (for instruction-tuned models that never saw it);
    ``short``: names and ranges only (for models fine-tuned on RetouchIQ's triples, to keep sequences short)."""
    if style not in ("full", "short"):
        raise PolicyError(f"unknown system prompt style {style!r} (full or short)")
    head = (
        "You are RetouchIQ, a retouching assistant inside darktable. You turn a photographer's instruction "
        "into darktable history items."
    )
    if style == "short":
        return head + " " + ANSWER_FORMAT
    return (
        head
        + "\n\n"
        + vocabulary_text(True)
        + "\n\n"
        + ANSWER_FORMAT
        + "\nExample of the JSON part:\n"
        + json.dumps(EXAMPLE)
    )


def history_text(history: Sidecar | None) -> str:
    if history is None or not history.history:
        return "none (the photo is unedited)"
    names = []
    for item in sorted(history.active_history(), key=lambda h: h.num):
        names.append(
            item.operation + (f" '{item.multi_name}'" if item.multi_name else "") + ("" if item.enabled else " (off)")
        )
    return ", ".join(names[-24:]) if names else "none"


def pil_image(image: np.ndarray, side: int):
    """uint8 RGB [H, W, 3] → a PIL image with long side ≤ ``side``: what every chat model is shown, at edit time and
    in SFT alike."""
    from PIL import Image

    im = Image.fromarray(np.ascontiguousarray(image[..., :3]).astype(np.uint8))
    if max(im.size) > side:
        im.thumbnail((side, side), Image.BICUBIC)
    return im


def env_number(name: str, default, kind=float):
    """A numeric setting from the environment; a malformed one is a clear PolicyError."""
    value = os.environ.get(name)
    if not value:
        return default
    try:
        return kind(value)
    except ValueError:
        raise PolicyError(f"{name}={value!r}: expected a number") from None


def photo_facts(image: np.ndarray) -> str:
    from agent.measure import describe, measure

    return describe(measure(image))


def user_prompt(instruction: str, facts: str, history: str = "none (the photo is unedited)") -> str:
    """The text beside the photo. The same function writes the SFT prompts, so training and use agree."""
    return (
        f"Measurements of the photo as it looks now: {facts}\n"
        f"Current darktable history: {history}. Your operations are added on top of it.\n"
        f"Instruction: {' '.join(instruction.split())}"
    )


def answer_text(reasoning: str, operations: list[dict]) -> str:
    """The answer format (reasoning, then the fenced JSON): SFT targets are written with it."""
    return f"{reasoning.strip()}\n```json\n{json.dumps({'operations': operations}, separators=(',', ':'))}\n```"


def repair_prompt(error: str) -> str:
    return (
        f"That answer is not a valid edit: {error}. Answer again, reasoning first, then one ```json block "
        'with {"operations": [...]} using only the listed modules and fields, inside their ranges.'
    )


# ---- answers ----------------------------------------------------------------------------------------------


def _ops_object(value) -> bool:
    if isinstance(value, dict):
        return "operations" in value
    return isinstance(value, list) and all(isinstance(v, dict) and "module" in v for v in value)


def find_json(text: str) -> tuple[int, object] | None:
    """(start index, value) of the last JSON value in ``text`` that holds operations, or None."""
    decoder = json.JSONDecoder()
    found = None
    tried = 0
    i = text.find("{")
    while i != -1 and tried < MAX_JSON_STARTS:
        tried += 1
        try:
            value, end = decoder.raw_decode(text, i)
        except (ValueError, RecursionError):
            i = text.find("{", i + 1)
            continue
        if _ops_object(value):
            found = (i, value)
            i = text.find("{", end)
        else:
            i = text.find("{", i + 1)
    if found is None:  # a bare list of operations
        j = text.find("[")
        while j != -1 and tried < MAX_JSON_STARTS:
            tried += 1
            try:
                value, end = decoder.raw_decode(text, j)
                if value and _ops_object(value):
                    found = (j, value)
                    break
            except (ValueError, RecursionError):
                pass
            j = text.find("[", j + 1)
    return found


def _clean_reasoning(text: str) -> str:
    text = text.strip()
    for fence in ("```json", "```JSON", "```"):
        if text.endswith(fence):
            text = text[: -len(fence)].rstrip()
    for label in ("Reasoning:", "reasoning:", "**Reasoning:**", "**Reasoning**"):
        if text.startswith(label):
            text = text[len(label) :].strip()
    return " ".join(text.split())


def parse_answer(text: str) -> EditResult:
    """A model's answer → validated EditResult, or PolicyError saying what is wrong."""
    if not isinstance(text, str) or not text.strip():
        raise PolicyError("could not produce a valid edit: the answer was empty")
    text = text[:MAX_ANSWER_CHARS]
    found = find_json(text)
    if found is None:
        raise PolicyError('could not produce a valid edit: no JSON object with "operations" in the answer')
    start, value = found
    doc = value if isinstance(value, dict) else {"operations": value}
    reasoning = _clean_reasoning(text[:start])
    if not reasoning and isinstance(doc.get("reasoning"), str):
        reasoning = " ".join(doc["reasoning"].split())
    ops = doc.get("operations")
    if not isinstance(ops, list):
        raise PolicyError('could not produce a valid edit: "operations" must be a list')
    extra = set(doc) - {"operations", "reasoning"}
    if extra:
        raise PolicyError(f"could not produce a valid edit: unknown top-level key(s) {sorted(extra)}")
    result = validate(EditResult(reasoning or NO_REASONING, ops))
    return result


# ---- the repair loop ----------------------------------------------------------------------------------------


@dataclass
class Turn:
    """One chat message; ``image`` marks the turn that carries the photo."""

    role: str
    text: str
    image: bool = False


class ChatPolicy:
    """Base of the chat-model policies: ``complete(turns, image) -> str`` is all a backend writes."""

    name = "chat"
    prompt_style = "full"
    repairs = 1  # extra rounds after a bad answer

    def complete(self, turns: list[Turn], image: np.ndarray) -> str:  # pragma: no cover - abstract
        raise NotImplementedError

    def turns(self, image: np.ndarray, instruction: str, history: Sidecar | None) -> list[Turn]:
        return [
            Turn("system", system_prompt(self.prompt_style)),
            Turn("user", user_prompt(instruction, photo_facts(image), history_text(history)), image=True),
        ]

    def edit(self, image: np.ndarray, instruction: str, history: Sidecar | None = None) -> EditResult:
        instruction = checked_instruction(instruction)
        turns = self.turns(image, instruction, history)
        errors = []
        for attempt in range(1 + max(0, self.repairs)):
            text = self.complete(turns, image)
            try:
                result = parse_answer(text)
                result.extra.update({"attempts": attempt + 1, "answer": text[:MAX_ANSWER_CHARS]})
                return result
            except PolicyError as exc:
                reason = str(exc).removeprefix("could not produce a valid edit: ")
                errors.append(reason)
                turns = turns + [Turn("assistant", (text or "")[:4000]), Turn("user", repair_prompt(reason))]
        raise PolicyError(
            f"could not produce a valid edit: {len(errors)} answer(s) from {self.name} failed "
            f"validation (last: {errors[-1]})"
        )
