"""A judge of a retouch: SC (does the edit do what was asked), PQ (does the result look good), O = (SC + PQ) / 2.

As in RetouchIQ's evaluation, a VLM is shown the source, the edited photo and the instruction and answers two
scores from 0 to 10. Any OpenAI-compatible server (``--judge openai:URL#MODEL``): temperature 0, ``runs``
answers averaged; an answer that is not the asked JSON is asked again (``retries``), then left out and counted;
a case none of whose answers parse gets no score (blank, never estimated). A server that cannot be reached is
a ``JudgeUnavailable``: the benchmark writes every other column and says so.

``--judge grm:vlm:PATH`` or ``grm:openai:URL#MODEL`` judges with the VLM reward model instead
(``agent.reward.vlm_grm``): its rubric's weighted total is the O column (SC and PQ stay blank, it does not split
them), its criteria are kept with the row; an answer that is not a well-formed rubric is asked again, then
counted as malformed.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

import numpy as np

from agent.errors import PolicyError, RequestError

SYSTEM = (
    "You are an expert photo retoucher judging another retoucher's work. You see the photo before the edit, the "
    "photo after it, and the instruction the retoucher was given. Score two things from 0 to 10:\n"
    "SC (semantic consistency): how completely and precisely the edit does what the instruction asks, and nothing "
    "it did not ask; 0 = the opposite or nothing, 10 = exactly as asked.\n"
    "PQ (perceptual quality): how good the edited photo looks as a photograph: natural colours, no clipping, "
    "halos, banding or casts introduced; 0 = ruined, 10 = flawless.\n"
    'Answer with one JSON object and nothing else: {"SC": <0-10>, "PQ": <0-10>, "why": "<one sentence>"}'
)


class JudgeUnavailable(RequestError):
    """The judge's server cannot be reached or refuses the requests; the message says which and why."""


@dataclass
class Score:
    sc: float | None  # mean over the runs that parsed; None when none did
    pq: float | None
    runs: int  # answers that parsed
    malformed: int  # answers that did not, after the retries
    overall: float | None = None  # a judge that gives O directly (the reward model's rubric total)
    criteria: list | None = None  # its rubric: [name, weight %, score]

    @property
    def o(self) -> float | None:
        if self.overall is not None:
            return self.overall
        return None if self.sc is None or self.pq is None else (self.sc + self.pq) / 2.0

    def to_json(self) -> dict:
        out = {"sc": self.sc, "pq": self.pq, "o": self.o, "runs": self.runs, "malformed": self.malformed}
        return out | ({"criteria": self.criteria} if self.criteria is not None else {})


def parse(text: str) -> tuple[float, float] | None:
    """(SC, PQ) from a judge's answer, or None when it holds no such JSON object with scores in 0–10."""
    if not isinstance(text, str):
        return None
    for match in re.finditer(r"\{[^{}]*\}", text):
        try:
            doc = json.loads(match.group(0))
        except json.JSONDecodeError:
            continue
        if not isinstance(doc, dict):
            continue
        values = {k.upper(): v for k, v in doc.items() if isinstance(k, str)}
        sc, pq = values.get("SC"), values.get("PQ")
        if all(isinstance(v, (int, float)) and not isinstance(v, bool) and 0 <= v <= 10 for v in (sc, pq)):
            return float(sc), float(pq)
    return None


class VLMJudge:
    """``openai:URL#MODEL``: an OpenAI-compatible server's VLM."""

    def __init__(
        self, url: str, model: str, runs: int = 3, retries: int = 1, image_side: int = 768, timeout: float = 120.0
    ):
        from agent.policy.remote import ChatClient

        try:
            self.client = ChatClient(url, model, timeout=timeout, retries=1)
        except PolicyError as exc:
            raise RequestError(f"--judge: {exc}") from None
        self.name = f"openai:{url}#{model}"
        self.runs, self.retries, self.image_side = runs, retries, image_side

    def _ask(self, source: np.ndarray, edited: np.ndarray, instruction: str) -> str:
        from agent.policy.remote import before_after

        messages = before_after(SYSTEM, source, edited, instruction, self.image_side)
        try:
            return self.client.chat(messages, max_tokens=200, temperature=0.0)
        except PolicyError as exc:
            raise JudgeUnavailable(f"the judge {self.name} cannot answer: {exc}") from None

    def score(self, source: np.ndarray, edited: np.ndarray, instruction: str) -> Score:
        scores, malformed = [], 0
        for _ in range(self.runs):
            for _ in range(1 + self.retries):
                got = parse(self._ask(source, edited, instruction))
                if got is not None:
                    scores.append(got)
                    break
            else:
                malformed += 1
        if not scores:
            return Score(None, None, 0, malformed)
        return Score(
            float(np.mean([s for s, _ in scores])), float(np.mean([p for _, p in scores])), len(scores), malformed
        )


class GRMJudge:
    """``grm:SPEC``: the VLM reward model (``vlm:PATH`` or ``openai:URL#MODEL``) as the judge; O is its rubric's
    weighted total."""

    def __init__(self, spec: str):
        from agent.reward import vlm_grm

        try:
            self.grm = vlm_grm.load(spec)
        except RequestError as exc:
            raise RequestError(f"--judge grm:{spec}: {exc}") from None
        self.name = f"grm:{self.grm.name}"

    def score(self, source: np.ndarray, edited: np.ndarray, instruction: str) -> Score:
        try:
            rubric, _ = self.grm.judge(source, edited, instruction)
        except PolicyError as exc:
            raise JudgeUnavailable(f"the judge {self.name} cannot answer: {exc}") from None
        if rubric is None:
            return Score(None, None, 0, 1)
        return Score(None, None, 1, 0, rubric.reward, [[n, w, sc] for n, w, sc in rubric.criteria])


def load_judge(spec: str) -> VLMJudge | GRMJudge:
    kind, _, rest = spec.partition(":")
    if kind == "grm":
        return GRMJudge(rest)
    if kind != "openai" or "#" not in rest:
        raise RequestError(
            f"--judge {spec!r}: expected openai:URL#MODEL (an OpenAI-compatible VLM server), or grm:vlm:PATH / "
            "grm:openai:URL#MODEL (the VLM reward model)"
        )
    from agent.policy.llm import env_number

    url, _, model = rest.partition("#")
    return VLMJudge(url, model, timeout=env_number("RETOUCHIQ_REMOTE_TIMEOUT", 120.0))
