"""The VLM policy, offline: a tiny random-initialised Qwen2.5-VL whose tokenizer and processor are built here.

SFT (full and LoRA) through TRL, generate → parse → sidecar → darktable-cli, the checkpoint loading back into
`retouchiq edit`, and 1,000 generations of a random model that each end as an edit or the clear refusal.
"""

import json
import random
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from agent.data.synth import synth
from agent.errors import PolicyError
from agent.policy import llm, load_policy, vlm_build
from agent.train import sft_vlm
from darktable_bridge import apply as apply_mod
from darktable_bridge import darktable_cli, operations
from darktable_bridge.photos import preview as load_preview
from retouchiq.cli import main
from xmp.sidecar import Sidecar

from conftest import split_photo_set

ROOT = Path(__file__).resolve().parent.parent
PHOTO = ROOT / "tests" / "data" / "photos" / "picosdeeuropa_by_Aitzol_Berasategi.jpg"
WARM = [{"module": "channelmixerrgb", "params": {"temperature": 6500}}]
REFUSAL = "could not produce a valid edit"


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    """Tiny models: one thread is fastest, and on a busy CPU OpenMP's second thread stalls every step ~20×."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def work(tmp_path_factory):
    """Triples from the bundled photos, a tokenizer trained on their conversations, a random model saved."""
    root = tmp_path_factory.mktemp("vlm")
    photos = split_photo_set()[:2]  # the training-split copies
    synth(photos, 40, root / "triples", seed=3, size=96, fast=True)
    rows = sft_vlm.chat_rows([root / "triples"], "train", max_samples=32)
    texts = sft_vlm.conversation_texts(rows) + [
        llm.answer_text("Warmer white balance.", WARM),
        llm.system_prompt("full"),
    ]
    vlm_build.save_random(root / "random", texts * 2, vocab_size=2048)
    # the same photos and instructions, every answer the same valid edit: a model that learns it answers valid JSON
    fixed = root / "fixed"
    fixed.mkdir()
    with open(root / "triples" / "samples.jsonl") as src, open(fixed / "samples.jsonl", "w") as dst:
        for line in src:
            s = json.loads(line)
            s |= {
                "input": str((root / "triples" / s["input"]).resolve()),
                "reasoning": "Warmer white balance.",
                "operations": WARM,
            }
            dst.write(json.dumps(s) + "\n")
    return {"root": root, "triples": root / "triples", "fixed": fixed, "random": root / "random", "rows": rows}


def test_prompt_carries_the_vocabulary_and_the_photo_facts():
    text = llm.system_prompt("full")
    for module in operations.VOCABULARY:
        assert f"- {module}" in text
    assert "temperature [2000, 15000]" in text and '"type": "gradient"' in text
    assert len(llm.system_prompt("short")) < 1000 < len(text) < 16000
    img = np.asarray(Image.open(PHOTO).convert("RGB"))
    user = llm.user_prompt("make it warmer", llm.photo_facts(img))
    assert "median L*" in user and user.endswith("Instruction: make it warmer")


@pytest.mark.parametrize(
    "answer, reasoning",
    [
        (
            'It is cold.\n```json\n{"operations": [{"module": "exposure", "params": {"exposure": 0.5}}]}\n```',
            "It is cold.",
        ),
        (
            'Reasoning: dark. {"operations": [{"module": "exposure", "params": {"exposure": 0.5}}]} hope that helps',
            "dark.",
        ),
        ('[{"module": "exposure", "params": {"exposure": 0.5}}]', llm.NO_REASONING),
        ('{"reasoning": "dark", "operations": [{"module": "exposure", "params": {"exposure": 0.5}}]}', "dark"),
        (
            'draft {"operations": []} final {"operations": [{"module": "exposure", "params": {"exposure": 0.5}}]}',
            'draft {"operations": []} final',
        ),
    ],
)
def test_answers_are_found_in_what_models_write(answer, reasoning):
    res = llm.parse_answer(answer)
    assert res.operations == [{"module": "exposure", "params": {"exposure": 0.5}}]
    assert res.reasoning == reasoning


@pytest.mark.parametrize(
    "answer, says",
    [
        ("", "empty"),
        ("no json here", "no JSON"),
        ('{"operations": 5}', "must be a list"),
        ('{"operations": [{"module": "exposure", "params": {"exposure": 9}}]}', "exposure.exposure"),
        ('{"operations": [{"module": "levels"}]}', "unknown module"),
        ('{"operations": [], "style": 1}', "unknown top-level"),
    ],
)
def test_bad_answers_are_a_clear_refusal(answer, says):
    with pytest.raises(PolicyError, match=REFUSAL) as exc:
        llm.parse_answer(answer)
    assert says in str(exc.value)


def _mutate(text: str, rng: random.Random) -> str:
    kind = rng.randrange(6)
    i = rng.randrange(len(text))
    if kind == 0:
        return text[:i]
    if kind == 1:
        return text[:i] + text[i + 1 :]
    if kind == 2:
        return text[:i] + rng.choice('{}[]",:0123456789e-.x ') + text[i:]
    if kind == 3:
        return text.replace("0.5", rng.choice(["9e9", "-7", "NaN", "true", '"1"', "0.25"]))
    if kind == 4:
        return text.replace("exposure", rng.choice(["exposur", "colorbalancergb", "sharpen", "EXPOSURE"]), 2)
    return text[i:] + text[:i]


def test_a_thousand_damaged_answers_each_give_an_edit_or_the_refusal(tmp_path):
    good = llm.answer_text(
        "Brighter, and a warmer sky.",
        [
            {"module": "exposure", "params": {"exposure": 0.5}},
            {
                "module": "channelmixerrgb",
                "instance": "sky",
                "params": {"temperature": 6000},
                "mask": {"type": "gradient", "anchor": [0.5, 0.3], "rotation": 0, "compression": 0.5},
            },
        ],
    )
    rng = random.Random(0)
    photo = tmp_path / "p.jpg"
    shutil.copyfile(PHOTO, photo)
    valid = 0
    for _ in range(1000):
        text = _mutate(good, rng)
        try:
            res = llm.parse_answer(text)
        except PolicyError as exc:
            assert str(exc).startswith(REFUSAL)
            continue
        valid += 1
        sidecar = apply_mod.sidecar_of(photo, res.operations)
        assert Sidecar.parse(sidecar.to_string()).history  # a valid sidecar, read back
    assert 50 < valid < 1000


def test_a_random_model_never_crashes_and_never_writes(work, tmp_path):
    policy = load_policy(f"vlm:{work['random']}")
    policy.prompt_style, policy.max_new_tokens = "short", 24
    image = load_preview(PHOTO)
    outcomes = {"edit": 0, "refusal": 0}
    for _ in range(4):  # 1,000 sampled answers, 250 per generate call
        for text in policy.sample(image, "warmer, lift the shadows", n=250, max_new_tokens=24):
            try:
                res = policy.finish(text)
                operations.parse_operations({"operations": res.operations})
                outcomes["edit"] += 1
            except PolicyError as exc:
                assert str(exc).startswith(REFUSAL)
                outcomes["refusal"] += 1
    assert sum(outcomes.values()) == 1000
    # the whole edit: two answers (one repair round), then the refusal; the CLI exits 1 and writes nothing
    with pytest.raises(PolicyError, match=f"{REFUSAL}: 2 answer"):
        policy.edit(image, "warmer")
    photo = tmp_path / "p.jpg"
    shutil.copyfile(PHOTO, photo)
    (work["random"] / "retouchiq.json").write_text(json.dumps({"prompt_style": "short", "max_new_tokens": 16}))
    try:
        assert main(["edit", str(photo), "-i", "warmer", "--policy", f"vlm:{work['random']}"]) == 5
    finally:
        (work["random"] / "retouchiq.json").unlink()
    assert not apply_mod.sidecar_path(photo).exists()


@pytest.mark.darktable
def test_sft_then_lora_checkpoint_edits_a_photo_darktable_renders(work, tmp_path):
    # 1. full fine-tuning of the random model until it answers the (valid) edit it was shown: rounds of 60 steps,
    #    at most three (one or two suffice; the step at which a 0.3 M-parameter model gets it exactly varies)
    source, answered = str(work["random"]), None
    for rnd in range(3):
        full = tmp_path / f"full{rnd}"
        cfg = sft_vlm.VLMTrainConfig(
            max_steps=60, batch_size=4, lr=6e-3, lora=False, warmup_ratio=0, max_samples=8, seed=rnd
        )
        record = sft_vlm.train(source, [work["fixed"]], full, cfg, echo=lambda s: None)
        assert record["last_loss"] < record["first_loss"]
        assert len((full / "metrics.jsonl").read_text().splitlines()) >= 60
        policy = load_policy(f"vlm:{full}")
        assert policy.prompt_style == "short"
        policy.max_new_tokens = 80
        try:
            answered = policy.edit(load_preview(PHOTO), "warmer")
            break
        except PolicyError:
            source = str(full)
    assert answered is not None and answered.operations == WARM

    # 2. LoRA on ~32 varied triples from there: the loss on them goes down, the adapter loads back
    rows = work["rows"]
    from transformers import AutoModelForImageTextToText

    before = sft_vlm.mean_loss(AutoModelForImageTextToText.from_pretrained(full), policy.processor, rows)
    lora = tmp_path / "lora"
    cfg = sft_vlm.VLMTrainConfig(
        max_steps=8, batch_size=4, lr=2e-3, lora_r=8, lora_alpha=16, warmup_ratio=0, max_samples=32
    )
    sft_vlm.train(str(full), [work["triples"]], lora, cfg, echo=lambda s: None)
    assert (lora / "adapter_config.json").is_file() and (lora / "retouchiq.json").is_file()
    tuned = load_policy(f"vlm:{lora}")
    after = sft_vlm.mean_loss(tuned.model, tuned.processor, rows)
    assert after < before - 0.05, (before, after)

    # 3. `retouchiq edit --policy vlm:CHECKPOINT` writes the sidecar; darktable-cli renders it warmer
    photo = tmp_path / "photo.jpg"
    shutil.copyfile(PHOTO, photo)
    (lora / "retouchiq.json").write_text(
        json.dumps(json.loads((lora / "retouchiq.json").read_text()) | {"max_new_tokens": 80})
    )
    # (the instruction step 1 checked: a 0.3 M-parameter model is only sure to answer what it was shown)
    assert main(["edit", str(photo), "-i", "warmer", "--policy", f"vlm:{lora}", "--json"]) == 0
    sidecar = apply_mod.sidecar_path(photo)
    assert "channelmixerrgb" in [h.operation for h in Sidecar.read(sidecar).history]
    out = darktable_cli.render(photo, sidecar, tmp_path / "after.jpg", width=256, height=256).output
    ref = darktable_cli.render(photo, None, tmp_path / "before.jpg", width=256, height=256).output
    after_rgb = np.asarray(Image.open(out).convert("RGB"), dtype=np.float32)
    before_rgb = np.asarray(Image.open(ref).convert("RGB"), dtype=np.float32)
    warmth = lambda a: float((a[..., 0] - a[..., 2]).mean())
    assert warmth(after_rgb) > warmth(before_rgb) + 3


def test_chat_export_and_bad_model_paths(work, tmp_path):
    out = tmp_path / "chat.jsonl"
    assert (
        main(["train", "chat-export", "--data", str(work["triples"]), "-o", str(out), "--model", str(work["random"])])
        == 0
    )
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert rows and rows[0]["images"][0].endswith(".png")
    assert "<|im_start|>assistant" in rows[0]["text"] and "```json" in rows[0]["completion"][0]["content"][0]["text"]
    with pytest.raises(PolicyError, match="no such model folder"):
        load_policy(f"vlm:{tmp_path / 'missing'}")
    with pytest.raises(PolicyError, match="not a Hugging Face model folder"):
        load_policy(f"vlm:{tmp_path}")
    assert main(["train", "sft", "--policy", "vlm", "--data", str(work["triples"]), "-o", str(tmp_path / "x")]) == 2


def test_grpo_renders_every_answer_and_pgrt_rounds_alternate(work, tmp_path):
    """TRL's GRPOTrainer on an SFT'd tiny VLM: the photos reach the reward functions, every answer is rendered and
    scored by a compact reward model, and two PGRT rounds alternate policy steps and reward-model updates."""
    from transformers import AutoModelForImageTextToText

    from agent.policy.vlm import load_processor
    from agent.reward import grm as grm_mod
    from agent.train import grm as grm_train
    from agent.train import prompts, rl_vlm

    sft = tmp_path / "sft"
    cfg = sft_vlm.VLMTrainConfig(max_steps=60, batch_size=4, lr=6e-3, lora=False, warmup_ratio=0, max_samples=8)
    sft_vlm.train(str(work["random"]), [work["fixed"]], sft, cfg, echo=lambda s: None)
    p = prompts.load([str(work["fixed"])], "train", log=lambda m: None)
    grm, record, _ = grm_train.train_stage1(p, grm_train.GRMTrainConfig(epochs=2), log=lambda m: None)
    grm_path = grm_mod.save(tmp_path / "grm.pt", grm, record)
    model = AutoModelForImageTextToText.from_pretrained(sft)
    processor = load_processor(sft, model.config.model_type)
    rl_cfg = rl_vlm.VLMRLConfig(
        reward=f"grm:{grm_path}",
        rounds=2,
        steps=2,
        batch_size=2,
        num_generations=2,
        max_completion_length=64,
        max_samples=4,
        lora_r=4,
        lr=1e-3,
    )
    result = rl_vlm.train(model, processor, [str(work["fixed"])], tmp_path / "rl", rl_cfg, echo=lambda s: None)
    first, second = result["rounds"]
    assert first["steps"] == 2 and second["steps"] == 2
    assert second["images_seen"] > first["images_seen"] > 0  # the photos reached the reward functions
    assert first["valid_edits"] > 0 and "grm_pairs" in first  # the SFT'd policy's own edits fed the reward model
    assert (tmp_path / "rl" / "grm-pgrt.pt").is_file() and (tmp_path / "rl" / "adapter_config.json").is_file()
