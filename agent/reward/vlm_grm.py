"""The generalist reward model written by a VLM: the same output as the compact GRM, in words and numbers.

Shown the photo before and after the edit and the instruction, the VLM writes the case's criteria with weights
that sum to 100, a 0–10 score for each, and the weighted total, as one JSON object:

    {"criteria": [{"name": "white balance", "weight": 40, "score": 7},
                  {"name": "autumn tones", "weight": 60, "score": 5}],
     "reward": 5.8}

``parse`` checks it: the weights are numbers ≥ 0 that sum to 100 (± 0.5), the scores lie in 0–10, and the reward
is the weighted sum (± 0.05); anything else is a *format failure* with its reason (an RL reward gives a format
failure the lowest reward; the paper's GRM is rewarded for the format). ``OpenAIGRM`` asks any OpenAI-compatible
server (``openai:URL#MODEL``) through the policy's chat client; ``LocalGRM`` a local Hugging Face VLM
(``vlm:PATH``, a model folder or a LoRA checkpoint, loaded as the VLM policy loads it; greedy decoding). Both are
shown the same messages (``agent.policy.remote.before_after``).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

import numpy as np

from agent.errors import PolicyError, RequestError

SYSTEM = (
    "You are a reward model for photo retouching. You see the photo before an edit, the photo after it, and the "
    "instruction the editor was given. First write the criteria that matter for THIS instruction and photo (what "
    "was asked, and what must not be damaged: clipping, colour casts, halos, unnatural colours), each with a "
    "weight; the weights sum to 100. Then score each criterion from 0 to 10 on the edited photo, and give the "
    "reward: the weighted sum of the scores divided by 100.\n"
    'Answer with one JSON object and nothing else: {"criteria": [{"name": "<criterion>", "weight": <0-100>, '
    '"score": <0-10>}, ...], "reward": <0-10>}'
)
WEIGHT_TOLERANCE = 0.5
REWARD_TOLERANCE = 0.05


class FormatFailure(ValueError):
    """An answer that is not a well-formed rubric; the message says why."""


@dataclass
class Rubric:
    criteria: list[tuple[str, float, float]]  # (name, weight in %, score 0–10)
    reward: float  # 0–10

    def text(self) -> str:
        rows = [f"  {n:<34} {w:>5.1f} %  → {s:.1f}/10" for n, w, s in self.criteria]
        return "\n".join(["Criteria:", *rows, f"  total: Σ weight × score = {self.reward:.2f}/10"])


def _number(x) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and np.isfinite(x)


def parse(text: str) -> Rubric:
    """The rubric in a VLM's answer; ``FormatFailure`` (with the reason) when there is none or it does not add up."""
    if not isinstance(text, str):
        raise FormatFailure("the answer is not text")
    start, end = text.find("{"), text.rfind("}")
    if start < 0 or end < start:
        raise FormatFailure("no JSON object in the answer")
    try:
        doc = json.loads(text[start : end + 1])
    except json.JSONDecodeError as exc:
        raise FormatFailure(f"the JSON does not parse ({exc.msg})") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("criteria"), list) or not doc["criteria"]:
        raise FormatFailure('no "criteria" list')
    rows = []
    for k, c in enumerate(doc["criteria"]):
        if not isinstance(c, dict):
            raise FormatFailure(f"criterion {k + 1} is not an object")
        name, w, s = c.get("name"), c.get("weight"), c.get("score")
        if not isinstance(name, str) or not name.strip():
            raise FormatFailure(f"criterion {k + 1} has no name")
        if not _number(w) or w < 0:
            raise FormatFailure(f"criterion {name!r}: weight {w!r} is not a number ≥ 0")
        if not _number(s) or not 0 <= s <= 10:
            raise FormatFailure(f"criterion {name!r}: score {s!r} is not in 0–10")
        rows.append((re.sub(r"\s+", " ", name.strip())[:80], float(w), float(s)))
    total = sum(w for _, w, _ in rows)
    if abs(total - 100.0) > WEIGHT_TOLERANCE:
        raise FormatFailure(f"the weights sum to {total:g}, not 100")
    reward = doc.get("reward")
    if not _number(reward):
        raise FormatFailure('no numeric "reward"')
    weighted = sum(w * s for _, w, s in rows) / 100.0
    if abs(reward - weighted) > REWARD_TOLERANCE:
        raise FormatFailure(f"the reward {reward:g} is not the weighted sum of the scores ({weighted:.2f})")
    return Rubric(rows, float(reward))


def reward_of(text: str) -> float:
    """An RL reward in [0, 1]: the rubric's reward / 10, or 0 for a format failure (below every valid answer)."""
    try:
        return parse(text).reward / 10.0
    except FormatFailure:
        return 0.0


MAX_TOKENS = 400  # a rubric of a dozen criteria fits


class _VLMGRM:
    name: str
    retries: int

    def answer(self, source: np.ndarray, edited: np.ndarray, instruction: str) -> str:
        raise NotImplementedError

    def judge(self, source: np.ndarray, edited: np.ndarray, instruction: str) -> tuple[Rubric | None, list[str]]:
        """(the rubric, or None when every answer was a format failure; the failures' reasons)."""
        failures = []
        for _ in range(1 + self.retries):
            try:
                return parse(self.answer(source, edited, instruction)), failures
            except FormatFailure as exc:
                failures.append(str(exc))
        return None, failures


class OpenAIGRM(_VLMGRM):
    """``openai:URL#MODEL``: the rubric written by an OpenAI-compatible server's VLM (temperature 0)."""

    def __init__(self, url: str, model: str, retries: int = 1, image_side: int = 768, timeout: float = 120.0):
        from agent.policy.remote import ChatClient

        try:
            self.client = ChatClient(url, model, timeout=timeout, retries=1)
        except PolicyError as exc:
            raise RequestError(f"reward model: {exc}") from None
        self.name = f"openai:{url}#{model}"
        self.retries, self.image_side = retries, image_side

    def answer(self, source: np.ndarray, edited: np.ndarray, instruction: str) -> str:
        from agent.policy.remote import before_after

        messages = before_after(SYSTEM, source, edited, instruction, self.image_side)
        return self.client.chat(messages, max_tokens=MAX_TOKENS, temperature=0.0)


class LocalGRM(_VLMGRM):
    """``vlm:PATH``: the rubric written by a local VLM (greedy), on the device the VLM policy would use."""

    def __init__(self, path: str, retries: int = 1, max_new_tokens: int = MAX_TOKENS):
        from agent.policy import vlm

        try:
            self.vlm = vlm.load(path)
        except PolicyError as exc:
            raise RequestError(f"reward model: {exc}") from None
        self.name = f"vlm:{path}"
        self.retries, self.max_new_tokens = retries, max_new_tokens

    def inputs(self, source: np.ndarray, edited: np.ndarray, instruction: str):
        """The model's tensors for one judgement (also what a fine-tuning of the reward model would feed it)."""
        from agent.policy.remote import before_after

        messages = before_after(SYSTEM, source, edited, instruction, self.vlm.image_side, local=True)
        return self.vlm.chat_inputs(messages, [source, edited])

    def answer(self, source: np.ndarray, edited: np.ndarray, instruction: str) -> str:
        return self.vlm.generate_from(self.inputs(source, edited, instruction), max_new_tokens=self.max_new_tokens)[0]


def load(spec: str) -> _VLMGRM:
    kind, _, rest = spec.partition(":")
    if kind == "vlm" and rest:
        return LocalGRM(rest)
    if kind != "openai" or "#" not in rest:
        raise RequestError(
            f"reward model {spec!r}: expected vlm:PATH (a local VLM folder) or openai:URL#MODEL (an "
            "OpenAI-compatible VLM server)"
        )
    from agent.policy.llm import env_number

    url, _, model = rest.partition("#")
    # the same per-request limit as the remote policy and the benchmark's judge (RETOUCHIQ_REMOTE_TIMEOUT)
    return OpenAIGRM(url, model, timeout=env_number("RETOUCHIQ_REMOTE_TIMEOUT", 120.0))
