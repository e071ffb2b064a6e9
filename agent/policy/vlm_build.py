"""Random-initialised Qwen2.5-VL-shaped models built offline: tests, benchmarks, and trying the pipeline without a
download. The shapes are Qwen2.5-VL's; the weights are random, so the answers are noise until trained.

- ``tiny``: a few hundred thousand parameters (with its vocabulary), a byte-level BPE trained on the given texts
  (the tests: SFT in seconds on a CPU);
- ``3b``: Qwen2.5-VL-3B's shapes (hidden 2048, 36 layers, vision depth 32; 3.75 B parameters with the 151,936-token
  vocabulary, tied embeddings), for GPU throughput measurements (benchmarks/vlm_gpu.sh).

Also ``processor_for``: the Qwen2.5-VL processor without torchvision (PyPI's torchvision does not load beside the
CPU torch build): the PIL image processor and a processor subclass that skips the video processor.
"""

from __future__ import annotations

from pathlib import Path

QWEN_SPECIALS = [
    "<|endoftext|>",
    "<|im_start|>",
    "<|im_end|>",
    "<|object_ref_start|>",
    "<|object_ref_end|>",
    "<|box_start|>",
    "<|box_end|>",
    "<|quad_start|>",
    "<|quad_end|>",
    "<|vision_start|>",
    "<|vision_end|>",
    "<|vision_pad|>",
    "<|image_pad|>",
    "<|video_pad|>",
]

SHAPES = {
    "tiny": dict(
        text=dict(
            hidden_size=64,
            intermediate_size=128,
            num_hidden_layers=2,
            num_attention_heads=4,
            num_key_value_heads=2,
            mrope_section=[2, 3, 3],
        ),
        vision=dict(
            depth=2, hidden_size=32, intermediate_size=64, num_heads=2, out_hidden_size=64, fullatt_block_indexes=[1]
        ),
    ),
    "3b": dict(
        text=dict(
            hidden_size=2048,
            intermediate_size=11008,
            num_hidden_layers=36,
            num_attention_heads=16,
            num_key_value_heads=2,
            mrope_section=[16, 24, 24],
            vocab_size=151936,
        ),
        vision=dict(
            depth=32,
            hidden_size=1280,
            intermediate_size=3420,
            num_heads=16,
            out_hidden_size=2048,
            fullatt_block_indexes=[7, 15, 23, 31],
        ),
    ),
}


def chat_template() -> str:
    """Qwen2.5-VL's official chat template (TRL patches exactly this one for assistant-only loss)."""
    try:
        from trl.chat_template_utils import qwen2_5_vl_chat_template

        return qwen2_5_vl_chat_template
    except ImportError:  # TRL is optional for inference; this is the same template's core
        return (
            "{% set image_count = namespace(value=0) %}{% for message in messages %}{% if loop.first and "
            "message['role'] != 'system' %}<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n"
            "{% endif %}<|im_start|>{{ message['role'] }}\n{% if message['content'] is string %}"
            "{{ message['content'] }}<|im_end|>\n{% else %}{% for content in message['content'] %}"
            "{% if content['type'] == 'image' or 'image' in content %}{% set image_count.value = "
            "image_count.value + 1 %}<|vision_start|><|image_pad|><|vision_end|>{% elif content['type'] == "
            "'text' %}{{ content['text'] }}{% endif %}{% endfor %}<|im_end|>\n{% endif %}{% endfor %}"
            "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
        )


def build_tokenizer(texts: list[str], vocab_size: int = 1024):
    """A byte-level BPE with Qwen's special tokens, trained in memory on ``texts``."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        special_tokens=QWEN_SPECIALS,
        show_progress=False,
    )
    tok.train_from_iterator(texts, trainer)
    return PreTrainedTokenizerFast(
        tokenizer_object=tok,
        eos_token="<|im_end|>",
        pad_token="<|endoftext|>",
        additional_special_tokens=QWEN_SPECIALS[1:],
        chat_template=chat_template(),
    )


def processor_for(tokenizer, image_processor=None, min_pixels: int = 56 * 56, max_pixels: int = 56 * 56 * 4):
    """A Qwen2.5-VL processor that needs no torchvision."""
    from transformers.models.qwen2_vl.image_processing_pil_qwen2_vl import Qwen2VLImageProcessorPil

    if image_processor is None:
        image_processor = Qwen2VLImageProcessorPil(min_pixels=min_pixels, max_pixels=max_pixels)
    return _processor_class()(
        image_processor=image_processor, tokenizer=tokenizer, chat_template=tokenizer.chat_template
    )


_CLASS = None


def _processor_class():
    global _CLASS
    if _CLASS is None:
        from transformers import ProcessorMixin
        from transformers.models.qwen2_5_vl.processing_qwen2_5_vl import Qwen2_5_VLProcessor

        class QwenVLProcessorNoVideo(Qwen2_5_VLProcessor):
            """Qwen2.5-VL's processor without its video half (which imports torchvision)."""

            def __init__(self, image_processor=None, tokenizer=None, chat_template=None, **kwargs):
                self.image_token = "<|image_pad|>"
                self.video_token = "<|video_pad|>"
                self.image_token_id = tokenizer.convert_tokens_to_ids(self.image_token)
                self.video_token_id = tokenizer.convert_tokens_to_ids(self.video_token)
                ProcessorMixin.__init__(self, image_processor, tokenizer, chat_template=chat_template)

        _CLASS = QwenVLProcessorNoVideo
    return _CLASS


def build_model(tokenizer, shape: str = "tiny", seed: int = 0, device: str | None = None, dtype=None):
    """A random Qwen2.5-VL of the named shape whose special token ids are the tokenizer's, initialised directly on
    ``device`` in ``dtype`` (a 3B model initialises in seconds on a GPU, in minutes on a CPU)."""
    import torch
    from transformers import Qwen2_5_VLConfig, Qwen2_5_VLForConditionalGeneration

    spec = SHAPES[shape]
    text = dict(spec["text"])
    mrope = text.pop("mrope_section")
    ids = {
        name: tokenizer.convert_tokens_to_ids(tok)
        for name, tok in [
            ("image_token_id", "<|image_pad|>"),
            ("video_token_id", "<|video_pad|>"),
            ("vision_start_token_id", "<|vision_start|>"),
            ("vision_end_token_id", "<|vision_end|>"),
        ]
    }
    eos, pad = tokenizer.convert_tokens_to_ids("<|im_end|>"), tokenizer.convert_tokens_to_ids("<|endoftext|>")
    text.setdefault("vocab_size", len(tokenizer))
    cfg = Qwen2_5_VLConfig(
        text_config=dict(
            text,
            rope_parameters={"rope_type": "default", "rope_theta": 1e6, "mrope_section": mrope},
            bos_token_id=pad,
            eos_token_id=eos,
            pad_token_id=pad,
            tie_word_embeddings=shape != "tiny",
        ),  # Qwen2.5-VL-3B ties them
        vision_config=dict(
            spec["vision"],
            patch_size=14,
            spatial_merge_size=2,
            temporal_patch_size=2,
            window_size=112 if shape != "tiny" else 56,
        ),
        **ids,
    )
    torch.manual_seed(seed)
    previous = torch.get_default_dtype()
    try:
        if dtype is not None:
            torch.set_default_dtype(dtype)
        with torch.device(device or "cpu"):
            model = Qwen2_5_VLForConditionalGeneration(cfg)
    finally:
        torch.set_default_dtype(previous)
    model.generation_config.eos_token_id = eos
    model.generation_config.pad_token_id = pad
    return model


def save_random(
    out: str | Path,
    texts: list[str],
    shape: str = "tiny",
    vocab_size: int = 1024,
    seed: int = 0,
    max_pixels: int = 56 * 56 * 4,
) -> Path:
    """Tokenizer, processor and random model saved as a folder ``--policy vlm:OUT`` loads."""
    out = Path(out)
    tok = build_tokenizer(texts, vocab_size)
    proc = processor_for(tok, max_pixels=max_pixels)
    model = build_model(tok, shape, seed)
    model.save_pretrained(out)
    proc.save_pretrained(out)
    return out
