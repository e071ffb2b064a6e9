"""The compact policy: offline load, valid and sensible answers from the shipped weights, training, encoder."""

import json
import random
import socket
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from agent import slots
from agent.errors import PolicyError, RequestError
from agent.policy import compact, compact_net, load_policy, validate
from agent.policy.text import TextEncoder, model_path
from retouchiq.cli import main

ROOT = Path(__file__).resolve().parent.parent
PHOTO = ROOT / "tests" / "data" / "photos" / "picosdeeuropa_by_Aitzol_Berasategi.jpg"


@pytest.fixture(scope="module")
def image() -> np.ndarray:
    with Image.open(PHOTO) as im:
        im = im.convert("RGB")
        im.thumbnail((1024, 1024))
        return np.asarray(im)


@pytest.fixture(scope="module")
def policy():
    """Loaded with every network connection refused: the policy must never reach for a model hub."""
    real = socket.socket.connect

    def refuse(*args, **kwargs):
        raise OSError("network disabled in this test")

    socket.socket.connect = refuse
    try:
        return load_policy("compact")
    finally:
        socket.socket.connect = real


def test_weights_ship_in_the_package():
    assert compact.WEIGHTS.is_file()
    assert compact.WEIGHTS.stat().st_size <= 50e6
    toml = (ROOT / "pyproject.toml").read_text()
    assert "policy/weights/*.onnx" in toml


@pytest.mark.parametrize(
    "instruction",
    [
        "make it warmer",
        "darker please",
        "lift the shadows and add some contrast",
        "golden hour look",
        "darken the sky a little",
        "fix the colours",
        "more vibrant, but keep the skin natural",
        "black and white with punch",
        "rends la photo plus chaude",
        "???",
    ],
)
def test_valid_operations(policy, image, instruction):
    result = policy.edit(image, instruction)
    validate(result)  # raises on anything the vocabulary cannot express
    assert result.reasoning.startswith("The frame is")
    assert set(result.extra["slots"]) <= set(slots.BY_NAME)
    assert result.operations == slots.to_operations(result.extra["slots"])


def test_learned_directions(policy, image):
    """The shipped weights learned what the words mean (not a rule: the network answers)."""
    warm = policy.edit(image, "make it warmer").extra["slots"]
    assert warm.get("temperature", 5003.0) > 5003.0
    cool = policy.edit(image, "make it cooler").extra["slots"]
    assert cool.get("temperature", 5003.0) < 5003.0
    dark = policy.edit(image, "make it darker").extra["slots"]
    assert dark.get("exposure", 0.0) < 0.0
    bright = policy.edit(image, "brighten it up").extra["slots"]
    assert bright.get("exposure", 0.0) > 0.0
    sat = policy.edit(image, "more saturated colours").extra["slots"]
    assert sat.get("saturation", 0.0) > 0.0 or sat.get("vibrance", 0.0) > 0.0


def test_editors_own_words(policy, image):
    """Slider and darkroom words: the tone equalizer's and Lightroom's "blacks", dodge and burn, pop. Weights
    trained before the banks had them answered "lift the blacks" with nothing, "crush the blacks" with a
    saturation cut and "dodge the subject" by darkening it."""

    def slots_of(text):
        return policy.edit(image, text).extra["slots"]

    assert slots_of("lift the blacks").get("shadows", 0.0) > 0.0
    crush = slots_of("crush the blacks")
    assert crush.get("shadows", 0.0) < 0.0 and "saturation" not in crush
    assert slots_of("deeper blacks").get("shadows", 0.0) < 0.0
    assert slots_of("dodge the subject").get("exposure@center", 0.0) > 0.0
    assert slots_of("burn the sky a little").get("exposure@top", 0.0) < 0.0
    assert slots_of("burn the edges").get("vignette", 0.0) < 0.0
    assert slots_of("more pop").get("contrast", 0.0) > 0.0


def test_each_clause_keeps_its_region_and_amount(policy, image):
    """Two regional clauses keep their own regions (the whole-request network darkened the right and warmed the
    left for this one), and amount words and stops scale the value."""
    both = policy.edit(image, "tone down the left of the frame quite a bit, then warm the right side slightly")
    slots_ = both.extra["slots"]
    assert slots_.get("exposure@left", 0.0) < 0.0 and slots_.get("temperature@right", 5003.0) > 5003.0
    assert "exposure@right" not in slots_ and "temperature@left" not in slots_
    touch, lot = (policy.edit(image, f"make it {a} darker").extra["slots"]["exposure"] for a in ("a touch", "a lot"))
    assert lot < touch < 0.0
    stop = policy.edit(image, "push the exposure up by one stop").extra["slots"]["exposure"]
    third = policy.edit(image, "push the exposure up by a third of a stop").extra["slots"]["exposure"]
    assert 0.0 < third < stop


def test_explicit_requests_do_not_hang_on_the_photo(policy, image):
    """A plain request keeps its direction on a very dark or very bright photo: the photo sets amounts, the words
    the direction (a dark held-out photo once had "darken it" and "too bright" brightened)."""
    dark = (image.astype(np.float32) * 0.25).astype(np.uint8)
    bright = np.clip(image.astype(np.float32) * 2.5 + 40, 0, 255).astype(np.uint8)
    for photo in (dark, bright):
        for text in ("darken it", "make it darker", "it's too bright"):
            assert policy.edit(photo, text).extra["slots"].get("exposure", 0.0) < 0.0, text
        for text in ("brighten it", "brighter", "it's too dark"):
            assert policy.edit(photo, text).extra["slots"].get("exposure", 0.0) > 0.0, text


def test_reasoning_states_measurements(policy, image):
    from agent.measure import measure

    result = policy.edit(image, "make it warmer")
    median = measure(compact.work_image(image))["L_p50"]
    assert f"median L* {median:.0f}" in result.reasoning
    assert "K" in result.reasoning and "make it warmer" in result.reasoning


def test_requests_it_was_never_trained_on_change_nothing(policy, image):
    """Gibberish or another language gets no edit and says so (the network alone answered "xyzzy plugh" with
    contrast); a request with one known word still goes to the network; no request of the banks is refused."""
    from agent.data import synth
    from agent.language import banks
    from agent.policy import known_words

    for text in ("xyzzy plugh", "tell me a joke", "mach das Bild heller", "写真を明るくして"):
        result = policy.edit(image, text)
        assert result.operations == [] and "do not recognise" in result.reasoning, text
    assert policy.edit(image, "warmer, xyzzy").operations
    rng, slots_all = random.Random(0), synth.available_slots()
    drawn = []
    for family in ("enhance", "style", "local") * 300:
        try:
            drawn.append(synth.draw(family, rng, slots_all).instruction)
        except synth.Skip:
            pass
    templates = [p for i in banks.INTENTS.values() for p in i.phrases] + [g for g, _ in banks.GENERIC]
    assert all(known_words.recognised(t) for t in drawn + templates)


def test_decoding_falls_back_on_the_likeliest_knob():
    """No knob above 0.5: the likeliest is used if it reaches compact.FALLBACK (a generic "fix it" spreads its
    probability over the knobs a degraded photo may need), else nothing; sampling keeps its own draws."""
    n = len(compact.SLOT_NAMES)
    prob, mean = np.full(n, 0.05, np.float32), np.zeros(n, np.float32)
    i, j = compact.SLOT_NAMES.index("exposure"), compact.SLOT_NAMES.index("saturation")
    prob[i], prob[j], mean[i] = 0.35, 0.3, 0.5
    assert compact.decode(prob, mean) == {}
    assert compact.decode(prob, mean, compact.FALLBACK) == {"exposure": compact.from_unit("exposure", 0.5)}
    prob[i] = prob[j] = compact.FALLBACK / 2
    assert compact.decode(prob, mean, compact.FALLBACK) == {}
    prob[j] = 0.9  # a knob above 0.5: only it, as before
    assert list(compact.decode(prob, mean, compact.FALLBACK)) == ["saturation"]


def test_generic_requests_edit_and_requests_for_no_change_do_not(policy, image):
    """ "fix it" on a spoilt photo does something; "leave it as it is" and its like (banks.KEEP, a few never in
    the banks) do nothing, although they are recognised requests."""
    dark = (image.astype(np.float32) * 0.3).astype(np.uint8)
    for text in ("fix it", "improve it", "make it look better", "correct the image", "please fix it, thank you"):
        assert policy.edit(dark, text).operations, text
    assert policy.edit(dark, "it looks dull and dark").extra["slots"].get("exposure", 0.0) > 0.0
    for text in ("leave it as it is", "don't change anything", "keep it the way it is", "no changes, it's fine"):
        result = policy.edit(image, text)
        assert result.operations == [] and policy.predict([image], [text])[0].recognised, text


def test_sampling_gives_valid_edits(policy, image):
    pred = policy.predict([image], ["warmer and brighter"])[0]
    assert pred.prob.shape == pred.mean.shape == pred.std.shape == (len(slots.SLOTS),)
    assert (pred.std > 0).all()
    rng = np.random.default_rng(0)
    draws = [pred.sample(rng) for _ in range(20)]
    for values in draws:
        validate(policy.result(pred, values, "warmer and brighter"))
    assert len({json.dumps(d, sort_keys=True) for d in draws}) > 1  # a distribution, not one answer


def test_bad_input(policy, image):
    with pytest.raises(RequestError, match="empty instruction"):
        policy.edit(image, "   ")
    with pytest.raises(PolicyError, match="too small"):
        policy.edit(np.zeros((1, 1, 3), np.uint8), "warmer")
    with pytest.raises(PolicyError, match="8-bit RGB"):
        policy.edit(image.astype(np.float32), "warmer")
    grey = policy.edit(image[..., 0], "warmer")  # greyscale [H, W] works
    validate(grey)
    huge = np.zeros((3000, 5000, 3), np.uint8)
    assert compact.work_image(huge).shape == (77, 128, 3)  # downscaled, not refused


def test_bad_weights(tmp_path):
    bad = tmp_path / "bad.onnx"
    bad.write_bytes(b"not a checkpoint")
    with pytest.raises(PolicyError, match="not a compact policy file"):
        compact.load(str(bad))
    with pytest.raises(PolicyError, match="not a compact policy file"):
        compact_net.load_net(bad)
    with pytest.raises(PolicyError, match="not found"):
        compact.load(str(tmp_path / "missing.onnx"))


def test_ensemble_round_trip(tmp_path):
    """An ensemble is saved as one checkpoint and answers the mean of its members' outputs."""
    import torch

    nets = [compact_net.CompactNet(compact_net.Config(n_stats=len(compact.STATS), hidden=16)) for _ in range(3)]
    path = compact_net.save(tmp_path / "e.onnx", compact_net.Ensemble(nets), list(compact.STATS), {"samples": 1})
    loaded, keys, meta = compact_net.load_net(path)
    assert isinstance(loaded, compact_net.Ensemble) and len(loaded.members) == 3 and meta == {"samples": 1}
    text, stats = torch.randn(2, 384), torch.randn(2, len(compact.STATS))
    with torch.no_grad():
        got = loaded.eval()(text, stats)
        want = [torch.stack(o).mean(0) for o in zip(*[n.eval()(text, stats) for n in loaded.members])]
    assert all(torch.allclose(g, w) for g, w in zip(got, want))
    single, _, _ = compact_net.load_net(compact_net.save(tmp_path / "s.onnx", nets[0], list(compact.STATS), {}))
    assert isinstance(single, compact_net.CompactNet)


def test_onnx_answers_what_torch_answers(tmp_path, policy, image):
    """The policy runs the exported ONNX graph without torch; it answers what the torch network answers (the
    shipped weights, an ensemble, and the "mix" mode), so training in torch and editing without it agree."""
    import torch

    torch.manual_seed(0)
    texts = ["warmer, lift the shadows", "darken the sky a little", "golden hour look"]
    stats = np.stack([policy.stat_vector(compact.features(image))] * 3)
    emb, mask = policy.text.encode_clauses(texts)
    from agent.policy import amounts
    from agent.policy.text import MAX_CLAUSES

    feed = {
        "text": policy.text.encode(texts),
        "stats": stats,
        "clauses": emb,
        "mask": mask,
        "amounts": amounts.clause_features([policy.text.keys(t) for t in texts], MAX_CLAUSES),
    }
    nets = {
        "shipped": compact_net.load_net(compact.WEIGHTS)[0],
        "ensemble": compact_net.Ensemble(
            [
                compact_net.CompactNet(
                    compact_net.Config(n_stats=len(compact.STATS), hidden=16, compose="clauses", amount_dim=amounts.DIM)
                )
                for _ in range(2)
            ]
        ),
        "mix": compact_net.CompactNet(compact_net.Config(n_stats=len(compact.STATS), hidden=16, set_dim=8)),
    }
    for name, net in nets.items():
        net = net.eval()
        path = compact_net.save(tmp_path / f"{name}.onnx", net, list(compact.STATS), {})
        onnx_policy = compact.load(str(path))
        net = compact_net.load_net(path)[0]  # the weights as the file holds them (float16)
        with torch.no_grad():
            want = net(*(torch.from_numpy(feed[k]) for k in ("text", "stats", "clauses", "mask", "amounts")))
        got = onnx_policy.session.run(None, {k: v for k, v in feed.items() if k in onnx_policy.inputs})
        for g, w in zip(got, want):
            assert np.abs(g - w.numpy()).max() < 1e-4, name
    # the shipped policy's decisions are those of its torch network
    pred = policy.predict([image] * 3, texts)
    with torch.no_grad():
        logit = nets["shipped"](*(torch.from_numpy(feed[k]) for k in ("text", "stats", "clauses", "mask", "amounts")))[
            0
        ]
    assert np.array_equal(
        np.stack([p.prob for p in pred]) > compact.ACTIVE, torch.sigmoid(logit).numpy() > compact.ACTIVE
    )


def test_clause_composition():
    """compose="clauses": each clause is answered on its own; a knob is used if any clause uses it (noisy-OR),
    the order of the clauses and the padding do not matter, and a lone clause gives its own answer."""
    import torch

    torch.manual_seed(0)
    net = compact_net.CompactNet(
        compact_net.Config(n_stats=len(compact.STATS), hidden=16, compose="clauses", amount_dim=2)
    ).eval()
    assert net.reads_clauses
    a, b, stats = torch.randn(1, 1, 384), torch.randn(1, 1, 384), torch.randn(1, len(compact.STATS))
    qa, qb, qz = torch.randn(1, 1, 2), torch.randn(1, 1, 2), torch.randn(1, 1, 2)  # the clauses' amounts
    text = torch.zeros(1, 384)  # not read in this mode
    with torch.no_grad():
        one_a = net(text, stats, a, torch.ones(1, 1), qa)
        one_b = net(text, stats, b, torch.ones(1, 1), qb)
        ab = net(text, stats, torch.cat([a, b], 1), torch.ones(1, 2), torch.cat([qa, qb], 1))
        ba = net(text, stats, torch.cat([b, a], 1), torch.ones(1, 2), torch.cat([qb, qa], 1))
        padded = net(
            text,
            stats,
            torch.cat([a, torch.randn(1, 1, 384), b], 1),
            torch.tensor([[1.0, 0.0, 1.0]]),
            torch.cat([qa, qz, qb], 1),
        )
    assert all(torch.allclose(x, y, atol=1e-5) for x, y in zip(ab, ba))
    assert all(torch.allclose(x, y, atol=1e-5) for x, y in zip(ab, padded))
    pa, pb, pab = (torch.sigmoid(o[0]) for o in (one_a, one_b, ab))
    assert torch.allclose(pab, 1 - (1 - pa) * (1 - pb), atol=1e-5)
    # each knob's value lies between the two clauses' values (a weighted mean of them)
    lo, hi = torch.minimum(one_a[1], one_b[1]), torch.maximum(one_a[1], one_b[1])
    assert bool(((ab[1] >= lo - 1e-5) & (ab[1] <= hi + 1e-5)).all())
    # per_clause: each clause's own logits as well, those a lone clause gets
    with torch.no_grad():
        *combined, own = net(
            text, stats, torch.cat([a, b], 1), torch.ones(1, 2), torch.cat([qa, qb], 1), per_clause=True
        )
    assert all(torch.allclose(x, y) for x, y in zip(combined, ab)) and own.shape == (1, 2, len(compact.SLOT_NAMES))
    assert torch.allclose(own[:, 0], one_a[0], atol=1e-5) and torch.allclose(own[:, 1], one_b[0], atol=1e-5)
    with pytest.raises(ValueError, match="compose"):
        compact_net.CompactNet(compact_net.Config(n_stats=3, compose="sum"))


def test_parts_of_a_request_left_undone_are_named(policy, image):
    """A part of a request with no word of the banks asks for nothing (as such a whole request does; the network
    alone answered "warmer, tell me a joke" with exposure +0.41) and the reasoning says so; a clause that no knob
    of the edit answers is named; caveats and answered clauses are not."""
    from agent.policy import known_words

    warmer = policy.edit(image, "warmer")
    mixed = policy.edit(image, "warmer, xyzzy plugh")
    assert mixed.extra["slots"] == warmer.extra["slots"] and mixed.operations == warmer.operations
    assert mixed.extra["unanswered"] == ["xyzzy plugh"] and 'I do not recognise "xyzzy plugh"' in mixed.reasoning
    assert policy.edit(image, "warmer, tell me a joke").extra["slots"] == warmer.extra["slots"]
    assert known_words.recognised("the lights") and not known_words.recognised("xyzzy plugh")  # plurals count
    assert policy.edit(image, "warmer, make the colours sparkle").extra["unanswered"] == []  # sparkle: saturation
    for text in (
        "warmer, lift the shadows",
        "darker, a lot, but keep it natural",
        "warmer",
        "fix it",
        "it's too warm, fix it",
        "the colours are too cold, can you fix them?",
        "xyzzy, plugh",
    ):
        result = policy.edit(image, text)
        assert result.extra["unanswered"] == [] and "nothing to change for" not in result.reasoning, text

    n = len(compact.SLOT_NAMES)
    exposure, saturation = compact.SLOT_NAMES.index("exposure"), compact.SLOT_NAMES.index("saturation")
    clause_prob = np.full((3, n), 0.05, np.float32)
    clause_prob[0, exposure] = 0.9
    clause_prob[1, saturation], clause_prob[2, saturation] = 0.3, 0.1  # saturation taken by the fallback
    pred = compact.Prediction(
        {},
        np.zeros(n),
        np.zeros(n),
        np.ones(n),
        True,
        ("brighter", "more colourful", "make it pop"),
        (True, True, True),
        clause_prob,
    )
    assert pred.unanswered({"exposure": 0.5, "saturation": 0.2}) == [("make it pop", True)]
    assert pred.unanswered({"exposure": 0.5}) == [("more colourful", True), ("make it pop", True)]
    caveat = compact.Prediction(
        {},
        np.zeros(n),
        np.zeros(n),
        np.ones(n),
        True,
        ("brighter", "but keep it natural"),
        (True, True),
        clause_prob[:2],
    )
    assert caveat.unanswered({"exposure": 0.5}) == []
    assert pred.unanswered({}) == []  # nothing changed at all: the reasoning says so for the whole request


def test_encoder_matches_transformers():
    """The hand-written MiniLM gives transformers' numbers (mean pooling, normalised)."""
    import torch
    from transformers import AutoModel, AutoTokenizer

    texts = ["make it warmer", "Darken the sky a little, without blowing the highlights!", "plus chaude", "x"]
    enc = TextEncoder()
    mine = enc._encode(texts)
    path = str(model_path())
    tok = AutoTokenizer.from_pretrained(path, local_files_only=True)
    model = AutoModel.from_pretrained(path, local_files_only=True).eval()
    batch = tok(texts, padding=True, truncation=True, max_length=64, return_tensors="pt")
    with torch.no_grad():
        hidden = model(**batch).last_hidden_state
    mask = batch["attention_mask"][..., None].float()
    ref = torch.nn.functional.normalize((hidden * mask).sum(1) / mask.sum(1), dim=-1).numpy()
    assert np.abs(mine - ref).max() < 1e-4
    assert mine[0] @ mine[1] < 0.9  # different sentences, different vectors
    # a request of several clauses is the normalised mean of its clauses
    from agent.policy.text import clauses

    assert clauses("warmer & darker as well as sharper, then crisp") == ["warmer", "darker", "sharper", "crisp"]
    both = enc.encode(["make it warmer, and then lift the shadows"])[0]
    parts = enc._encode(["make it warmer", "lift the shadows"]).mean(0)
    assert np.abs(both - parts / np.linalg.norm(parts)).max() < 1e-5


def test_amounts_are_read_per_clause():
    """Amount words and stops become numbers, and a clause that only qualifies stays with the one before it."""
    from agent.policy import amounts
    from agent.policy.text import clauses

    f = amounts.features
    assert f("make it darker").tolist() == [0.0] * amounts.DIM
    assert f("a touch darker")[1] < f("a bit darker")[1] < f("noticeably darker")[1] == 0.0 < f("a lot darker")[1]
    assert f("quite a bit brighter")[1] == pytest.approx(np.log2(1.4))  # not "a bit"
    assert f("push the exposure up by a third of a stop")[[0, 2, 3]].tolist() == pytest.approx([0.0, 1.0, 0.33])
    assert f("brighten it +1 stop")[3] == 1.0 and f("darken it by 1.5 stops")[3] == 1.5
    assert f("brighter by 0.7 EV")[3] == pytest.approx(0.7)
    assert f("warmer but not too much")[[0, 4]].tolist() == pytest.approx([0.0, np.log2(0.7)])  # not "much"
    assert clauses("darker, a lot") == ["darker, a lot"]
    assert clauses("warmer, but not too much, and lift the shadows") == ["warmer, but not too much", "lift the shadows"]
    assert clauses("brighten it by a stop and a half, then warmer") == ["brighten it by a stop and a half", "warmer"]
    assert clauses("brighten it, without blowing the highlights") == ["brighten it", "without blowing the highlights"]


def test_descriptions_share_their_subject_and_courtesies_are_not_read():
    """ "it looks dull and dark": the bare "dark" keeps "it looks" (alone it read as a wish for a dark look and
    darkened a dark photo); a comparative or a request of its own does not, nor "black and white". Courtesies
    around a clause are not what the encoder reads ("please fix it" once got a fifth of the probability of "fix
    it"), and "thank you" alone is not a request."""
    from agent.policy import known_words
    from agent.policy.text import clause_keys, clauses

    assert clauses("it looks dull and dark") == ["it looks dull", "it looks dark"]
    assert clauses("the sky is a little too bright and blue") == [
        "the sky is a little too bright",
        "the sky is a little too blue",
    ]
    assert clauses("it's way too dark, very flat") == ["it's way too dark", "it's very flat"]
    assert clauses("it's too dark and warmer") == ["it's too dark", "warmer"]
    assert clauses("it's too dark and fix it") == ["it's too dark", "fix it"]
    assert clauses("make it darker and warmer") == ["make it darker", "warmer"]
    assert clauses("make it look punchy black and white")[-1] == "white"
    # a bare adjective after a comparative shares it ("lively" alone read as nothing, and with a caveat as less
    # saturation), not "nothing else"
    assert clauses("much more saturated and lively") == ["much more saturated", "much more lively"]
    assert clauses("give it more contrast and colour")[-1] == "more colour"
    assert clauses("make them more saturated and nothing else")[-1] == "nothing else"
    assert clause_keys("Could you please fix it, thank you!") == ["fix it"]
    assert clause_keys("please warmer? thanks") == ["warmer"]
    assert clause_keys("it looks too dark for me") == ["it looks too dark"]
    assert clause_keys("make it 1.5 stops brighter.") == ["make it 1.5 stops brighter"]
    assert clause_keys("please") == ["please"] and clause_keys("thank you") == ["thank you"]
    assert not known_words.recognised("thank you") and not known_words.recognised("thanks!")
    assert known_words.recognised("fix it, thank you")


def make_dataset(out: Path, n: int) -> Path:
    """A tiny dataset in the data contract's format (inputs are crops/brightness variants of the test photo)."""
    rng = np.random.default_rng(0)
    (out / "images").mkdir(parents=True)
    with Image.open(PHOTO) as im:
        base = np.asarray(im.convert("RGB").resize((256, 192)))
    asks = [
        ("make it warmer", {"temperature": 6500.0}, {"warmth": 1}),
        ("make it cooler", {"temperature": 4000.0}, {"warmth": -1}),
        ("darker please", {"exposure": -0.7}, {"brightness": -1}),
        ("lift the shadows", {"shadows": 0.8}, {"shadows": 1}),
    ]
    lines = []
    for i in range(n):
        text, values, attrs = asks[i % len(asks)]
        arr = (base * rng.uniform(0.6, 1.2)).clip(0, 255).astype(np.uint8)
        sid = f"{i:06d}"
        Image.fromarray(arr).save(out / "images" / f"{sid}.png")
        lines.append(
            json.dumps(
                {
                    "id": sid,
                    "family": "enhance",
                    "split": "train" if i < n - 4 else "heldout",
                    "photo": str(PHOTO),
                    "input": f"images/{sid}.png",
                    "target": f"targets/{sid}.png",
                    "instruction": text,
                    "paraphrase": "seen",
                    "reasoning": "",
                    "slots": values,
                    "operations": slots.to_operations(values),
                    "attributes": attrs,
                }
            )
        )
    (out / "samples.jsonl").write_text("\n".join(lines) + "\n")
    return out


def test_training_lowers_the_loss(tmp_path, capsys):
    from agent.data import read_samples
    from agent.errors import RequestError
    from agent.train.sft_compact import TrainConfig, train

    data = make_dataset(tmp_path / "data", 36)
    assert len(read_samples([data], "train")) == 32  # held-out samples never reach training
    record = train(
        TrainConfig(data=[str(data)], out=str(tmp_path / "a.onnx"), epochs=12, batch_size=8, render_weight=0.02),
        log=lambda msg: None,
    )
    assert record["final"]["train"]["loss"] < record["initial"]["loss"] - 0.05
    assert record["final"]["train"]["mse"] < record["initial"]["mse"]
    # the render term (thumbnails through the renderer against the target render) is trained too
    assert record["final"]["train"]["render"] < record["initial"]["render"]
    # the same through the CLI, and the result loads as a policy
    out = tmp_path / "b.onnx"
    assert main(["train", "sft", "--policy", "compact", "--data", str(data), "--epochs", "3", "-o", str(out)]) == 0
    assert "trained on" in capsys.readouterr().out
    trained = compact.load(str(out))
    assert trained.meta["samples"] == 32
    with pytest.raises(RequestError):
        read_samples([tmp_path / "nothing"])
    assert main(["train", "sft", "--data", str(tmp_path / "nothing"), "-o", str(out)]) == 2
