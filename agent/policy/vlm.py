"""The paper's policy shape: a vision-language model that looks at the photo, reasons, then writes operations.

``--policy vlm:PATH`` loads any Hugging Face VLM from a local folder (or a repo id already in the user's HF cache:
nothing is downloaded) once: Qwen2.5-VL first, and whatever ``AutoModelForImageTextToText`` with its processor
loads (Qwen3-VL, Idefics3, LLaVA...). A LoRA checkpoint written by ``retouchiq train sft --policy vlm`` loads the
same way: its base model is read from the checkpoint, the adapter merged in.

The prompt (``agent.policy.llm``): system = the vocabulary, compact; user = the photo, its measurements, the
current history, the instruction. The answer is parsed and validated; a bad answer gets one repair round that
quotes the error; then "could not produce a valid edit" and nothing is written.

Settings: a ``retouchiq.json`` in the model folder (written by the SFT command) or environment variables:
``RETOUCHIQ_VLM_DEVICE`` (cpu, cuda, cuda:1; default cuda when usable), ``RETOUCHIQ_VLM_MAX_NEW_TOKENS`` (768),
``RETOUCHIQ_VLM_IMAGE_SIDE`` (long side of the photo given to the model, 768), ``RETOUCHIQ_VLM_PROMPT``
(full | short), ``RETOUCHIQ_VLM_REPAIRS`` (1).
"""

from __future__ import annotations

import importlib.util
import json
import os
import threading
from pathlib import Path

import numpy as np

from agent.errors import PolicyError
from agent.policy import EditResult
from agent.policy.llm import ChatPolicy, Turn, env_number, parse_answer, pil_image

SETTINGS_FILE = "retouchiq.json"
VISION_TOKEN_KEYS = (
    "image_token_id",
    "video_token_id",
    "vision_start_token_id",
    "vision_end_token_id",
    "image_token_index",
)


def resolve(path: str) -> Path:
    """A local folder, or a repo id already in the Hugging Face cache (never downloaded)."""
    p = Path(path).expanduser()
    if p.is_dir():
        return p.resolve()
    if p.exists():
        raise PolicyError(f"{path}: a VLM is a folder (config.json, weights, processor files), not a file")
    if path.count("/") == 1 and not path.startswith((".", "/", "~")):
        try:
            from huggingface_hub import snapshot_download

            return Path(snapshot_download(path, local_files_only=True))
        except Exception:
            pass
    raise PolicyError(
        f"{path}: no such model folder, and not in the Hugging Face cache (RetouchIQ never downloads "
        "models: fetch it yourself, e.g. `huggingface-cli download Qwen/Qwen2.5-VL-7B-Instruct`)"
    )


def load_processor(path: Path, model_type: str):
    """The model's own processor; for Qwen2/2.5-VL without torchvision, the PIL one (agent.policy.vlm_build)."""
    from transformers import AutoProcessor, AutoTokenizer

    try:
        proc = AutoProcessor.from_pretrained(path, local_files_only=True)
        if hasattr(proc, "image_processor"):
            return proc
        problem = "only a tokenizer was found"
    except Exception as exc:  # e.g. the video processor needs torchvision
        problem = f"{type(exc).__name__}: {exc}"
    if model_type in ("qwen2_5_vl", "qwen2_vl"):
        from transformers.models.qwen2_vl.image_processing_pil_qwen2_vl import Qwen2VLImageProcessorPil

        from agent.policy.vlm_build import processor_for

        tok = AutoTokenizer.from_pretrained(path, local_files_only=True)
        return processor_for(tok, Qwen2VLImageProcessorPil.from_pretrained(path, local_files_only=True))
    raise PolicyError(f"{path}: could not load the model's processor ({problem})")


def _settings(path: Path) -> dict:
    f = path / SETTINGS_FILE
    settings = json.loads(f.read_text()) if f.is_file() else {}
    for key, var in {"device": "RETOUCHIQ_VLM_DEVICE", "prompt_style": "RETOUCHIQ_VLM_PROMPT"}.items():
        if os.environ.get(var):
            settings[key] = os.environ[var]
    for key, var in {
        "max_new_tokens": "RETOUCHIQ_VLM_MAX_NEW_TOKENS",
        "image_side": "RETOUCHIQ_VLM_IMAGE_SIDE",
        "repairs": "RETOUCHIQ_VLM_REPAIRS",
    }.items():
        value = env_number(var, None, int)
        if value is not None:
            settings[key] = value
    return settings


def _device(wanted: str | None) -> str:
    import torch

    if wanted:
        if wanted.startswith("cuda") and not torch.cuda.is_available():
            raise PolicyError(f"RETOUCHIQ_VLM_DEVICE={wanted}, but no CUDA device is usable here")
        return wanted
    return "cuda" if torch.cuda.is_available() else "cpu"


def load_model(path: Path, device: str):
    """(model, processor, base folder): a plain model folder, or a LoRA checkpoint merged into its base."""
    import torch
    from transformers import AutoConfig, AutoModelForImageTextToText

    adapter = (path / "adapter_config.json").is_file()
    base = path
    if adapter:
        meta = json.loads((path / "adapter_config.json").read_text())
        base = Path(meta.get("base_model_name_or_path") or "")
        if not (base / "config.json").is_file():
            raise PolicyError(f"{path}: LoRA checkpoint whose base model {str(base)!r} is not a folder here")
    try:
        config = AutoConfig.from_pretrained(base, local_files_only=True)
    except Exception as exc:
        raise PolicyError(f"{base}: not a Hugging Face model folder ({exc})") from None
    dtype = torch.bfloat16 if device.startswith("cuda") else torch.float32
    try:
        model = AutoModelForImageTextToText.from_pretrained(base, local_files_only=True, dtype=dtype)
    except Exception as exc:
        raise PolicyError(f"{base}: could not load the model ({type(exc).__name__}: {exc})") from None
    if adapter:
        from peft import PeftModel

        model = PeftModel.from_pretrained(model, path).merge_and_unload()
    proc_dir = path if any((path / f).is_file() for f in ("tokenizer.json", "tokenizer_config.json")) else base
    processor = load_processor(proc_dir, config.model_type)
    return model.to(device).eval(), processor, base


class VLMPolicy(ChatPolicy):
    """A local VLM behind the Policy interface; also ``sample`` for RL and robustness checks."""

    def __init__(
        self,
        model,
        processor,
        name: str = "vlm",
        prompt_style: str = "full",
        max_new_tokens: int = 768,
        image_side: int = 768,
        repairs: int = 1,
        device: str = "cpu",
    ):
        self.model, self.processor, self.name = model, processor, name
        self.prompt_style, self.max_new_tokens, self.image_side = prompt_style, max_new_tokens, image_side
        self.repairs, self.device = repairs, device
        tok = getattr(processor, "tokenizer", processor)
        cfg = model.config
        ids = {getattr(cfg, k, None) for k in VISION_TOKEN_KEYS} | {
            getattr(getattr(cfg, "text_config", None), k, None) for k in VISION_TOKEN_KEYS
        }
        self.suppress = sorted(i for i in ids if isinstance(i, int) and 0 <= i < len(tok))
        self.pad_id = tok.pad_token_id if tok.pad_token_id is not None else tok.eos_token_id
        self.lock = threading.Lock()  # generate() is not re-entrant on one model

    # -- prompt → tensors ----------------------------------------------------------------------------------
    def messages(self, turns: list[Turn]) -> list[dict]:
        out = []
        for t in turns:
            content = ([{"type": "image"}] if t.image else []) + [{"type": "text", "text": t.text}]
            out.append({"role": t.role, "content": content})
        return out

    def inputs(self, turns: list[Turn], image: np.ndarray):
        return self.chat_inputs(self.messages(turns), [image])

    def chat_inputs(self, msgs: list[dict], images: list[np.ndarray]):
        """Tensors for chat messages whose contents hold one ``{"type": "image"}`` per image, in order."""
        try:
            text = self.processor.apply_chat_template(msgs, add_generation_prompt=True, tokenize=False)
        except Exception:  # a template without a system role: fold it into the first user turn
            system = " ".join(c["text"] for m in msgs if m["role"] == "system" for c in m["content"])
            msgs = [m for m in msgs if m["role"] != "system"]
            msgs[0]["content"][-1]["text"] = system + "\n\n" + msgs[0]["content"][-1]["text"]
            text = self.processor.apply_chat_template(msgs, add_generation_prompt=True, tokenize=False)
        pictures = [pil_image(image, self.image_side) for image in images]
        return self.processor(text=[text], images=pictures, return_tensors="pt").to(self.device)

    def generate(
        self,
        turns: list[Turn],
        image: np.ndarray,
        n: int = 1,
        sample: bool = False,
        temperature: float = 1.0,
        max_new_tokens: int | None = None,
    ) -> list[str]:
        return self.generate_from(self.inputs(turns, image), n, sample, temperature, max_new_tokens)

    def generate_from(
        self, inputs, n: int = 1, sample: bool = False, temperature: float = 1.0, max_new_tokens: int | None = None
    ) -> list[str]:
        """Answers to prepared inputs (``inputs`` or ``chat_inputs``): greedy, or ``n`` samples."""
        import torch

        kw = dict(
            max_new_tokens=max_new_tokens or self.max_new_tokens,
            num_return_sequences=n,
            pad_token_id=self.pad_id,
            suppress_tokens=self.suppress or None,
        )
        kw |= dict(do_sample=True, temperature=temperature, top_k=0) if sample else dict(do_sample=False)
        with self.lock, torch.no_grad():
            out = self.model.generate(**inputs, **kw)
        new = out[:, inputs["input_ids"].shape[1] :]
        return self.processor.batch_decode(new, skip_special_tokens=True)

    # -- Policy ----------------------------------------------------------------------------------------------
    def complete(self, turns: list[Turn], image: np.ndarray) -> str:
        return self.generate(turns, image)[0]

    def sample(
        self,
        image: np.ndarray,
        instruction: str,
        history=None,
        n: int = 8,
        temperature: float = 1.0,
        max_new_tokens: int | None = None,
    ) -> list[str]:
        """n sampled raw answers to one request (RL rollouts); ``finish`` turns each into an edit or an error."""
        return self.generate(
            self.turns(image, instruction, history),
            image,
            n=n,
            sample=True,
            temperature=temperature,
            max_new_tokens=max_new_tokens,
        )

    @staticmethod
    def finish(text: str) -> EditResult:
        return parse_answer(text)


def load(path: str = "") -> VLMPolicy:
    if not path:
        raise PolicyError("vlm needs a model folder: --policy vlm:PATH (e.g. vlm:~/models/Qwen2.5-VL-7B-Instruct)")
    if importlib.util.find_spec("transformers") is None:
        raise PolicyError("the vlm policy needs transformers: pip install 'retouchiq[vlm]'")
    folder = resolve(path)
    settings = _settings(folder)
    device = _device(settings.get("device"))
    model, processor, _ = load_model(folder, device)
    return VLMPolicy(
        model,
        processor,
        name=f"vlm:{path}",
        prompt_style=settings.get("prompt_style", "full"),
        max_new_tokens=int(settings.get("max_new_tokens", 768)),
        image_side=int(settings.get("image_side", 768)),
        repairs=int(settings.get("repairs", 1)),
        device=device,
    )
