"""A policy behind an OpenAI-compatible chat-completions server: Ollama, vLLM, llama.cpp's server, LM Studio...

    --policy openai:URL#MODEL        e.g. openai:http://127.0.0.1:11434/v1#qwen2.5vl:7b

``URL`` is the API base (``.../v1``; ``/chat/completions`` is added unless given). The photo travels as a base64
JPEG data URL in the user turn, beside its measurements, the current history and the instruction
(``agent.policy.llm``). The key, if the server wants one, comes from ``RETOUCHIQ_API_KEY`` (else
``OPENAI_API_KEY``) and is sent as a Bearer token, never logged. Transport problems (refused connection, timeout,
429, 5xx) are retried a bounded number of times with a short back-off; a reply that is not a valid edit gets a
repair round that quotes the validation error; then a clear ``PolicyError``.

Settings (environment): ``RETOUCHIQ_REMOTE_TIMEOUT`` (seconds per request, 120), ``RETOUCHIQ_REMOTE_RETRIES``
(extra tries after a transport error, 2), ``RETOUCHIQ_REMOTE_MAX_TOKENS`` (1024), ``RETOUCHIQ_REMOTE_IMAGE_SIDE``
(long side of the JPEG sent, 768), ``RETOUCHIQ_REMOTE_PROMPT`` (full | short), ``RETOUCHIQ_VLM_REPAIRS`` (1).
"""

from __future__ import annotations

import base64
import io
import os
import time
from urllib.parse import urlsplit

import numpy as np

from agent.errors import PolicyError
from agent.policy.llm import ChatPolicy, Turn, env_number, pil_image

RETRY_STATUS = {408, 425, 429, 500, 502, 503, 504}
MAX_BACKOFF = 10.0


def jpeg_data_url(image: np.ndarray, side: int = 768, quality: int = 90) -> str:
    buf = io.BytesIO()
    pil_image(image, side).save(buf, "JPEG", quality=quality)
    return "data:image/jpeg;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def before_after(
    system: str, source: np.ndarray, edited: np.ndarray, instruction: str, side: int, local: bool = False
) -> list[dict]:
    """The chat messages that show a judge the photo before and after an edit and the instruction (the benchmark's
    judge and the VLM reward model). ``local``: for a local model's chat template, the images as placeholders
    (``{"type": "image"}``, the two images go to its processor in that order) instead of JPEG data URLs."""

    def picture(image: np.ndarray) -> dict:
        return {"type": "image"} if local else {"type": "image_url", "image_url": {"url": jpeg_data_url(image, side)}}

    user = [
        {"type": "text", "text": "Before the edit:"},
        picture(source),
        {"type": "text", "text": "After the edit:"},
        picture(edited),
        {"type": "text", "text": f"Instruction: {instruction}"},
    ]
    return [
        {"role": "system", "content": [{"type": "text", "text": system}] if local else system},
        {"role": "user", "content": user},
    ]


class ChatClient:
    """An OpenAI-compatible chat-completions endpoint: bounded retries on transport errors, one clear
    ``PolicyError`` when it cannot answer. Shared by the remote policy and the benchmark's judge."""

    def __init__(self, url: str, model: str, api_key: str | None = None, timeout: float = 120.0, retries: int = 2):
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise PolicyError(f"openai:{url}#{model}: the URL must start with http:// or https://")
        if not model:
            raise PolicyError(f"openai:{url}: name the model after '#', e.g. openai:{url}#qwen2.5vl:7b")
        base = url.rstrip("/")
        self.endpoint = base if base.endswith("/chat/completions") else base + "/chat/completions"
        self.model, self.api_key, self.timeout, self.retries = model, api_key, timeout, max(0, retries)
        import requests

        self.session = requests.Session()

    def _post(self, body: dict):
        import requests

        headers = {"Content-Type": "application/json"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        last = ""
        for attempt in range(1 + self.retries):
            wait = min(MAX_BACKOFF, 0.5 * 2**attempt)
            try:
                resp = self.session.post(self.endpoint, json=body, headers=headers, timeout=self.timeout)
            except requests.Timeout:
                last = f"no answer within {self.timeout:g} s"
            except requests.ConnectionError as exc:
                last = f"cannot connect ({type(exc).__name__})"
            else:
                if resp.status_code == 200:
                    return resp
                detail = resp.text[:300].strip().replace("\n", " ")
                last = f"HTTP {resp.status_code}" + (f": {detail}" if detail else "")
                if resp.status_code not in RETRY_STATUS:
                    hint = (
                        " (check RETOUCHIQ_API_KEY)"
                        if resp.status_code in (401, 403)
                        else " (check the model name after '#')"
                        if resp.status_code == 404
                        else ""
                    )
                    raise PolicyError(f"the model server {self.endpoint} refused the request: {last}{hint}")
                retry_after = resp.headers.get("Retry-After", "")
                if retry_after.isdigit():
                    wait = min(MAX_BACKOFF, float(retry_after))
            if attempt < self.retries:
                time.sleep(wait)
        raise PolicyError(f"the model server {self.endpoint} failed {1 + self.retries} time(s): {last}")

    def chat(self, messages: list[dict], max_tokens: int = 1024, temperature: float = 0.0) -> str:
        """The reply's text to ``messages`` (OpenAI format)."""
        body = {
            "model": self.model,
            "messages": messages,
            "max_tokens": max_tokens,
            "temperature": temperature,
            "stream": False,
        }
        resp = self._post(body)
        try:
            content = resp.json()["choices"][0]["message"].get("content")
        except (ValueError, KeyError, IndexError, TypeError, AttributeError):
            raise PolicyError(
                f"the model server {self.endpoint} answered something that is not an OpenAI "
                f"chat completion: {resp.text[:200]!r}"
            ) from None
        if isinstance(content, list):  # some servers answer content parts
            content = "".join(p.get("text", "") for p in content if isinstance(p, dict))
        return content if isinstance(content, str) else ""


class RemotePolicy(ChatPolicy):
    def __init__(
        self,
        url: str,
        model: str,
        api_key: str | None = None,
        timeout: float = 120.0,
        retries: int = 2,
        max_tokens: int = 1024,
        image_side: int = 768,
        prompt_style: str = "full",
        repairs: int = 1,
        temperature: float = 0.0,
    ):
        self.client = ChatClient(url, model, api_key, timeout, retries)
        self.max_tokens, self.image_side, self.prompt_style = max_tokens, image_side, prompt_style
        self.repairs, self.temperature = repairs, temperature
        self.name = f"openai:{url}#{model}"

    def messages(self, turns: list[Turn], image: np.ndarray) -> list[dict]:
        messages = []
        for t in turns:
            if t.image:
                content = [
                    {"type": "image_url", "image_url": {"url": jpeg_data_url(image, self.image_side)}},
                    {"type": "text", "text": t.text},
                ]
            else:
                content = t.text
            messages.append({"role": t.role, "content": content})
        return messages

    def complete(self, turns: list[Turn], image: np.ndarray) -> str:
        return self.client.chat(self.messages(turns, image), self.max_tokens, self.temperature)


def load(spec: str = "") -> RemotePolicy:
    url, _, model = spec.partition("#")
    if not url:
        raise PolicyError(
            "openai needs a server: --policy openai:URL#MODEL (e.g. openai:http://127.0.0.1:11434/v1#qwen2.5vl:7b)"
        )
    return RemotePolicy(
        url,
        model,
        api_key=os.environ.get("RETOUCHIQ_API_KEY") or os.environ.get("OPENAI_API_KEY"),
        timeout=env_number("RETOUCHIQ_REMOTE_TIMEOUT", 120.0),
        retries=env_number("RETOUCHIQ_REMOTE_RETRIES", 2, int),
        max_tokens=env_number("RETOUCHIQ_REMOTE_MAX_TOKENS", 1024, int),
        image_side=env_number("RETOUCHIQ_REMOTE_IMAGE_SIDE", 768, int),
        prompt_style=os.environ.get("RETOUCHIQ_REMOTE_PROMPT", "full"),
        repairs=env_number("RETOUCHIQ_VLM_REPAIRS", 1, int),
    )
