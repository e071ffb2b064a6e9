"""Rewards, the compact reward model, RL (GRPO) with PGRT and the ablation, on tiny synthesized sets."""

from __future__ import annotations

import json
import math
import subprocess
import sys

import numpy as np
import pytest
import torch

from agent.reward import criteria, rule
from agent.reward import grm as grm_mod
from tests.conftest import ROOT, split_photo_set

CLI = [sys.executable, "-m", "retouchiq"]


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(CLI + list(args), capture_output=True, text=True, cwd=ROOT, timeout=600)


def _flat(rgb, side=32):
    return torch.tensor(rgb, dtype=torch.float32)[:, None, None].expand(3, side, side)[None].clone()


def _photo(side=32, seed=0):
    g = torch.Generator().manual_seed(seed)
    base = torch.linspace(0.15, 0.75, side)[None, None, :].expand(1, 3, side, side)
    return (base + 0.05 * torch.rand(1, 3, side, side, generator=g)).clamp(0, 1)


# ---- criteria -------------------------------------------------------------------------------------------------


def test_criteria_measure_what_moved():
    src = _photo()
    same = criteria.measured(criteria.stats(src), criteria.stats(src))
    assert torch.allclose(same, torch.zeros_like(same), atol=1e-5)
    m = dict(zip(criteria.NAMES, criteria.measured(criteria.stats(src), criteria.stats(src * 1.3)).flatten().tolist()))
    assert m["brightness"] > 3 and m["shadows"] > 1 and abs(m["warmth"]) < 1.5
    warm = src.clone()
    warm[:, 0] *= 1.15
    warm[:, 2] *= 0.85
    m = dict(zip(criteria.NAMES, criteria.measured(criteria.stats(src), criteria.stats(warm)).flatten().tolist()))
    assert m["warmth"] > 3 and m["cast"] > 0
    top = src.clone()
    top[:, :, :10] = (top[:, :, :10] * 1.5).clamp(0, 1)  # the top third brighter, the rest as it was
    m = dict(zip(criteria.NAMES, criteria.measured(criteria.stats(src), criteria.stats(top)).flatten().tolist()))
    assert m["brightness@top"] > 0.3 and m["brightness@bottom"] < 0 and abs(m["brightness@left"]) < 0.1
    burnt = criteria.measured(criteria.stats(src), criteria.stats((src * 3).clamp(0, 1)))
    assert burnt[0, criteria.NAMES.index("clipping")] > 0.2
    assert criteria.quality_scores(burnt)[0, 0] < 1.0 < criteria.quality_scores(same)[0, 0]


def test_rule_reward_is_bounded_prefers_the_target_and_ranks_invalid_lowest():
    src = _photo()
    target = (src * 1.4).clamp(0, 1)
    s0, st = criteria.stats(src), criteria.stats(target)
    both = lambda x: torch.cat([x, x])  # noqa: E731
    outs = torch.cat([target, src])
    r = rule.reward(both(s0), criteria.stats(outs), outs, both(target), [{"brightness": 1}] * 2)
    assert 0.0 <= float(r.min()) and float(r.max()) <= 1.0
    assert r[0] > r[1] + 0.3  # the target meets the direction and is 0 ΔE from itself; no edit meets nothing
    assert math.isclose(float(r[0]), 1.0, abs_tol=1e-3)
    invalid = rule.reward(
        both(s0), criteria.stats(outs), outs, both(target), [{"brightness": 1}] * 2, valid=torch.tensor([False, True])
    )
    assert invalid[0] == 0.0 < invalid[1]
    wrong = rule.directions_met(s0, criteria.measured(s0, st), [{"brightness": -1}])
    assert wrong.item() == 0.0


# ---- the compact reward model ---------------------------------------------------------------------------------


def test_grm_rubric_weights_sum_to_100_and_the_scalar_is_the_weighted_sum(tmp_path):
    torch.manual_seed(0)
    grm = grm_mod.CompactGRM().eval()
    n, c = 3, 4
    clauses = torch.randn(n, c, 384)
    mask = torch.tensor([[1, 1, 0, 0], [1, 0, 0, 0], [1, 1, 1, 0]], dtype=torch.float32)
    amounts = torch.zeros(n, c, grm.cfg.amount_dim)
    src = criteria.stats(torch.cat([_photo(seed=i) for i in range(n)]))
    out = criteria.stats(torch.cat([(_photo(seed=i) * 1.2).clamp(0, 1) for i in range(n)]))
    with torch.no_grad():
        j = grm(clauses, mask, amounts, src, out)
    assert torch.allclose(j.weights.sum(1), torch.ones(n))
    assert torch.allclose(j.reward, (j.weights * j.scores).sum(1))
    assert float(j.scores.min()) >= 0 and float(j.scores.max()) <= 10
    text = grm_mod.rubric(j, 1, "brighter")
    pct = [int(line.split("%")[0].split()[-1]) for line in text.splitlines()[1:-1]]
    assert sum(pct) == 100, text
    assert f"{j.reward[1].item():.2f}/10" in text.splitlines()[-1]
    path = grm_mod.save(tmp_path / "g.pt", grm, {"note": 1})
    again = grm_mod.load(path)
    assert torch.allclose(again(clauses, mask, amounts, src, out).reward, j.reward)
    (tmp_path / "bad.pt").write_bytes(b"not a model")
    from agent.errors import PolicyError

    with pytest.raises(PolicyError, match="not a compact reward model"):
        grm_mod.load(tmp_path / "bad.pt")


def test_perturbations_make_the_edit_worse_in_the_named_way():
    from agent.policy import compact
    from agent.train import grm as grm_train
    from agent.train import prompts

    neutral = prompts.renderer().neutral[0]
    v = neutral.clone()
    ix = {n: i for i, n in enumerate(compact.SLOT_NAMES)}
    v[ix["exposure"]] = 1.0
    v[ix["exposure@top"]] = -0.8
    v = v[None].expand(50, -1).clone()
    g = torch.Generator().manual_seed(0)
    little = grm_train.perturb(v, "little", g)
    assert (little[:, ix["exposure"]] < 0.61).all() and (little[:, ix["exposure"]] >= 0).all()
    much = grm_train.perturb(v, "much", g)
    assert (much[:, ix["exposure"]] >= 1.5).all()
    way = grm_train.perturb(v, "wrong_way", g)
    assert ((way[:, ix["exposure"]] == -1.0) | (way[:, ix["exposure@top"]] == 0.8)).all()
    place = grm_train.perturb(v, "wrong_place", g)
    assert (place[:, ix["exposure@top"]] == 0).all()
    moved = torch.stack([place[:, ix[f"exposure@{r}"]] for r in ("bottom", "left", "right", "center")], 1)
    assert ((moved == -0.8).sum(1) == 1).all()
    extra = grm_train.perturb(v, "unasked", g)
    changed = ((extra - v).abs() > 1e-6).sum(1)
    assert (changed == 1).all()
    lo = torch.tensor([grm_train.slots_mod.BY_NAME[n].lo for n in compact.SLOT_NAMES])
    hi = torch.tensor([grm_train.slots_mod.BY_NAME[n].hi for n in compact.SLOT_NAMES])
    for x in (little, much, way, place, extra):
        assert (x >= lo - 1e-6).all() and (x <= hi + 1e-6).all()


# ---- GRPO pieces ------------------------------------------------------------------------------------------------


def test_log_prob_and_kl_are_the_distributions_own():
    from agent.train import rl_compact as rl

    g = torch.Generator().manual_seed(1)
    k = len(rl.compact.SLOT_NAMES)
    prob, mean, std = (
        torch.rand(4, k, generator=g),
        torch.randn(4, k, generator=g) * 0.3,
        torch.rand(4, k, generator=g) + 0.1,
    )
    on, u = rl.sample(prob, mean, std, g)
    lp = rl.log_prob(prob, mean, std, on, u)
    knobs = rl._KNOBS
    want = torch.distributions.Bernoulli(probs=prob[:, knobs]).log_prob(on[:, knobs]).sum(1)
    want += (torch.distributions.Normal(mean, std).log_prob(u) * on).sum(1)
    assert torch.allclose(lp, want, atol=1e-4)
    assert torch.allclose(rl.kl(prob, mean, std, prob, mean, std), torch.zeros(4), atol=1e-5)
    assert (rl.kl(prob, mean + 0.2, std, prob, mean, std) > 0).all()
    for hue, chroma in rl._HUE_OF:  # a hue is drawn on exactly when its chroma is
        assert torch.equal(on[:, hue], on[:, chroma])


def test_grpo_estimator_moves_the_policy_towards_what_is_rewarded():
    """The loss of rl_compact on a free-standing distribution, rewarded for using exposure at +0.5 units."""
    from agent.train import rl_compact as rl

    k = len(rl.compact.SLOT_NAMES)
    e = rl.compact.SLOT_NAMES.index("exposure")
    logit = torch.zeros(k, requires_grad=True)
    mean = torch.zeros(k, requires_grad=True)
    log_std = torch.full((k,), math.log(0.3), requires_grad=True)
    opt = torch.optim.Adam([logit, mean, log_std], lr=0.05)
    g = torch.Generator().manual_seed(0)
    start = torch.sigmoid(logit[e]).item()
    for _ in range(60):
        prob, m, s = (
            torch.sigmoid(logit)[None].expand(64, -1),
            mean[None].expand(64, -1),
            log_std.exp()[None].expand(64, -1),
        )
        with torch.no_grad():
            on, u = rl.sample(prob, m, s, g)
        r = on[:, e] * torch.exp(-((u[:, e] - 0.5) ** 2) / 0.05)
        adv = (r - r.mean()) / (r.std() + 1e-4)
        loss = -(adv * rl.log_prob(prob, m, s, on, u)).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert torch.sigmoid(logit[e]).item() > start + 0.3
    assert abs(mean[e].item() - 0.5) < 0.15


# ---- on synthesized data: stage 1, PGRT, RL, the CLI -------------------------------------------------------------


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    from agent.data import synth

    photos = split_photo_set(3, 2)
    root = tmp_path_factory.mktemp("rl")
    synth.synth(photos[:3], 90, root / "train", seed=5, size=64, fast=True)
    synth.synth(photos[3:], 30, root / "held", seed=6, size=64, fast=True)
    return root


@pytest.fixture(scope="module")
def train_prompts(data):
    from agent.train import prompts

    return prompts.load([str(data / "train")], "train", log=lambda m: None)


def test_stage1_learns_to_rank_and_pgrt_learns_the_policys_own_edits(train_prompts):
    from agent.policy import compact
    from agent.train import grm as grm_train

    p = train_prompts
    cfg = grm_train.GRMTrainConfig(epochs=15, batch_size=64)
    grm, record, pairs = grm_train.train_stage1(p, cfg, log=lambda m: None)
    assert len(pairs) > 100 and set(record["kinds"]) == set(grm_train.KINDS)
    assert all(record["kinds"][k] > 0 for k in grm_train.KINDS)
    before = grm_train.accuracy(grm_mod.CompactGRM(), p, pairs)["all"]  # an untrained model: even weights
    after = grm_train.accuracy(grm, p, pairs)["all"]
    assert after > max(before, 0.6), (before, after)
    # split by what the pairs are: wordings (training data: all seen) and edits that miss a requested direction
    acc = grm_train.accuracy(grm, p, pairs)
    assert acc["n_seen"] == acc["n"] and acc["n_unseen"] == 0
    wrong = pairs.take([i for i, k in enumerate(pairs.kind) if k == "wrong_way"])
    much = pairs.take([i for i, k in enumerate(pairs.kind) if k == "much"])
    assert grm_train.accuracy(grm, p, wrong)["n_missed"] > 0.5 * len(wrong)  # a knob turned the other way
    assert grm_train.accuracy(grm, p, much)["n_missed"] < 0.1 * len(much)  # too far, but the right way
    mine = grm_train.policy_edits(str(compact.WEIGHTS), p, 2, 0)
    assert len(mine) > 20 and set(mine.kind) == {"policy"}
    first = grm_train.accuracy(grm, p, mine)["all"]
    opt = grm_train.optimiser(grm, 2e-3)
    g = torch.Generator().manual_seed(0)
    for _ in range(20):
        grm_train.pgrt_update(grm, opt, cfg, p, mine, pairs, g, steps=2)
    assert grm_train.accuracy(grm, p, mine)["all"] > first + 0.05 or first > 0.9


def test_rl_step_renders_every_knob_and_saves_a_policy_retouchiq_runs(train_prompts, tmp_path):
    from agent.policy import compact
    from agent.train import render_loss
    from agent.train import rl_compact as rl
    from agent.train.prompts import render

    # haze removal, local contrast and sharpening are rendered (and so rewarded) where they are used
    thumbs = train_prompts.thumbs[:2]
    v = rl.prompts_mod.renderer().neutral.expand(2, -1).clone()
    plain = render(thumbs, v)[0]
    for name in ("dehaze", "clarity", "sharpen"):
        w = v.clone()
        w[:, compact.SLOT_NAMES.index(name)] = 0.6
        assert (render(thumbs, w)[0] - plain).abs().mean() > 1e-3, name
    assert render_loss.SKIP  # the SFT render term still leaves them out (docs/policy.md)

    cfg = rl.RLConfig(data=[], out=str(tmp_path / "rl.onnx"), steps=3, prompts=4, samples=4)
    record = rl.train(cfg, log=lambda m: None, p=train_prompts)
    assert len(record["history"]) == 3 and record["kl_last"] >= 0
    policy = compact.load(tmp_path / "rl.onnx")
    assert policy.meta["rl"]["config"]["reward"] == "rule"
    image = (np.asarray(_photo(64)[0].permute(1, 2, 0)) * 255).astype(np.uint8)
    assert policy.predict([image], ["make it warmer"])[0].values()


def test_cli_trains_a_reward_model_and_rl_with_pgrt(data, tmp_path):
    grm_path, train = tmp_path / "grm.pt", str(data / "train")
    r = _cli("train", "grm", "--data", train, "--heldout", str(data / "held"), "--epochs", "5", "-o", str(grm_path))
    assert r.returncode == 0, r.stderr
    assert "held-out perturbed pairs right" in r.stdout
    assert grm_mod.load(grm_path).record["pairs"] > 0
    rl = ["train", "rl", "--data", train, "--reward", f"grm:{grm_path}", "--pgrt", "--steps", "5"]
    r = _cli(*rl, "-o", str(tmp_path / "p.onnx"))
    assert r.returncode == 2 and "--grm-output" in r.stderr
    r = _cli(*rl, "--grm-output", str(tmp_path / "g2.pt"), "-o", str(tmp_path / "p.onnx"))
    assert r.returncode == 0, r.stderr
    assert "+ PGRT" in r.stdout and (tmp_path / "p.onnx").exists() and (tmp_path / "g2.pt").exists()
    assert grm_mod.load(tmp_path / "g2.pt").record["pgrt"]["config"]["pgrt"] is True
    r = _cli("train", "rl", "--data", train, "--reward", "magic", "-o", str(tmp_path / "x.onnx"))
    assert r.returncode == 2 and "grm:PATH" in r.stderr and not (tmp_path / "x.onnx").exists()


def test_ablation_writes_every_arm_with_intervals(data, tmp_path):
    from agent.train import ablation
    from agent.train import grm as grm_train

    cfg = ablation.AblationConfig(
        data=[str(data / "train")],
        heldout=[str(data / "held")],
        out=str(tmp_path / "abl"),
        seeds=(0, 1),
        steps=2,
        bench_max=1,
        bench_size=64,
        grm=grm_train.GRMTrainConfig(epochs=2),
    )
    result = ablation.run(cfg, log=lambda m: None)
    for part in ("synthetic", "bench"):
        for fam in ("all", "enhance", "style", "local"):
            assert set(result[part][fam]) == set(ablation.ARMS)
            cell = result[part][fam]["rl-grm-pgrt"]["delta_e"]
            assert cell["vs_sft"]["low"] <= cell["vs_sft"]["diff"] <= cell["vs_sft"]["high"]
    assert set(result["accuracy"][0]) == {"stage1", "pgrt", "control"}
    md = (tmp_path / "abl" / "ablation.md").read_text()
    assert "rl-grm-pgrt" in md and "Reward accuracy" in md
    acc = result["accuracy"][0]["stage1"]
    assert acc["n_seen"] + acc["n_unseen"] == acc["n"] and "| SFT edit misses a direction |" in md
    assert json.loads((tmp_path / "abl" / "ablation.json").read_text())["config"]["seeds"] == [0, 1]


# ---- the VLM reward model's answers -----------------------------------------------------------------------------


def test_vlm_rubric_is_parsed_and_checked():
    from agent.reward import vlm_grm

    good = (
        'Here: {"criteria": [{"name": "white balance", "weight": 40, "score": 7}, '
        '{"name": "autumn tones", "weight": 60, "score": 5}], "reward": 5.8}'
    )
    r = vlm_grm.parse(good)
    assert r.reward == 5.8 and [n for n, _, _ in r.criteria] == ["white balance", "autumn tones"]
    assert "40.0 %" in r.text() and vlm_grm.reward_of(good) == pytest.approx(0.58)
    bad = {
        "weights sum to 90": good.replace('"weight": 60', '"weight": 50').replace("5.8", "5.3"),
        "not the weighted sum": good.replace("5.8", "7.0"),
        "not in 0–10": good.replace('"score": 7', '"score": 12'),
        "no JSON object": "it looks warmer, 7/10",
        'no "criteria" list': '{"reward": 5}',
        "weight True is not a number": good.replace('"weight": 40', '"weight": true'),
    }
    for why, text in bad.items():
        with pytest.raises(vlm_grm.FormatFailure) as exc:
            vlm_grm.parse(text)
        assert why.split()[-1] in str(exc.value), (why, str(exc.value))
        assert vlm_grm.reward_of(text) == 0.0  # a format failure is below every valid answer


def test_vlm_reward_model_over_an_openai_server(chat_server, monkeypatch):
    from agent.reward import vlm_grm
    from tests.conftest import completion

    ok = '{"criteria": [{"name": "brighter", "weight": 100, "score": 8}], "reward": 8}'
    chat_server.replies = [(200, completion("no idea")), (200, completion(ok))]
    grm = vlm_grm.load(f"openai:{chat_server.url}#grm")
    img = np.full((32, 48, 3), 90, np.uint8)
    rubric, failures = grm.judge(img, img + 30, "brighter")
    assert rubric.reward == 8 and failures == ["no JSON object in the answer"]
    sent = chat_server.requests[-1]["json"]
    assert sent["messages"][0]["content"] == vlm_grm.SYSTEM and sent["temperature"] == 0.0
    assert sum(part["type"] == "image_url" for part in sent["messages"][1]["content"]) == 2
    with pytest.raises(Exception, match="openai:URL#MODEL"):
        vlm_grm.load("vlm-something")
    # the per-request limit the remote policy and the judge read
    monkeypatch.setenv("RETOUCHIQ_REMOTE_TIMEOUT", "7")
    assert vlm_grm.load(f"openai:{chat_server.url}#grm").client.timeout == 7.0


def test_the_asked_term_puts_the_weights_on_what_is_asked(train_prompts):
    from agent.train import grm as grm_train

    p = train_prompts
    rows = torch.tensor([i for i in range(len(p)) if p.asked[i]][:64])
    a = grm_train.asked_matrix(p, rows)
    assert (a.abs().sum(1) > 0).all() and set(a.unique().tolist()) <= {-1.0, 0.0, 1.0}
    grm = grm_train.new_grm(p, 0)
    inputs = (*grm_train.prompts_mod.clause_inputs(p, rows), p.src_stats[p.t.photo[rows]])
    before = grm_train.asked_term(p, rows, grm.rubric_of(*inputs)).item()
    opt = torch.optim.Adam(grm.parameters(), lr=3e-3)
    for _ in range(80):
        loss = grm_train.asked_term(p, rows, grm.rubric_of(*inputs))
        opt.zero_grad()
        loss.backward()
        opt.step()
    with torch.no_grad():
        weights, wanted, _ = grm.rubric_of(*inputs)
    assert grm_train.asked_term(p, rows, (weights, wanted, None)).item() < before / 2
    on_asked = (weights * (a != 0)).sum(1)
    start = (a != 0).sum(1).float().mean() / len(grm_train.criteria.NAMES)
    assert on_asked.mean() > 0.5 > 5 * start  # from about 1/21 of the weight per asked attribute


def test_a_local_vlm_writes_the_rubric(tmp_path):
    """``vlm:PATH``: a tiny random Qwen2.5-VL-shaped model is shown the photo before and after and the instruction;
    its answers are checked (random: format failures, with reasons); taught one rubric on those very inputs, its
    answer parses into that rubric."""
    import torch

    from agent.policy import vlm_build
    from agent.reward import vlm_grm

    ok = (
        '{"criteria": [{"name": "brighter", "weight": 60, "score": 8}, '
        '{"name": "no clipping", "weight": 40, "score": 5}], "reward": 6.8}'
    )
    texts = [vlm_grm.SYSTEM, ok, "Before the edit: After the edit: Instruction: brighter"]
    folder = vlm_build.save_random(tmp_path / "tiny", texts * 2, vocab_size=1024)
    grm = vlm_grm.load(f"vlm:{folder}")
    before = np.full((48, 64, 3), 90, np.uint8)
    after = before + 40
    rubric, failures = grm.judge(before, after, "brighter")
    assert rubric is None and len(failures) == 2 and all(failures)
    inputs = grm.inputs(before, after, "brighter")
    assert int((inputs["image_grid_thw"] > 0).all(1).sum()) == 2  # both photos reach the model
    tok = grm.vlm.processor.tokenizer
    answer = tok(ok, return_tensors="pt", add_special_tokens=False).input_ids
    answer = torch.cat([answer, torch.tensor([[tok.eos_token_id]])], 1)
    ids = torch.cat([inputs["input_ids"], answer], 1)
    labels = torch.full_like(ids, -100)
    labels[:, -answer.shape[1] :] = answer
    extra = {k: v for k, v in inputs.items() if k not in ("input_ids", "attention_mask")}
    for k, v in extra.items():  # per-token inputs (the image token marks) go on over the answer as text
        if v.shape == inputs["input_ids"].shape:
            extra[k] = torch.cat([v, torch.zeros_like(answer)], 1)
    model = grm.vlm.model
    model.train()
    opt = torch.optim.AdamW(model.parameters(), lr=3e-3)
    torch.manual_seed(0)
    for _ in range(120):
        loss = model(input_ids=ids, attention_mask=torch.ones_like(ids), labels=labels, **extra).loss
        opt.zero_grad()
        loss.backward()
        opt.step()
    model.eval()
    rubric, failures = grm.judge(before, after, "brighter")
    assert rubric is not None, failures
    assert rubric.reward == 6.8 and [(n, w) for n, w, _ in rubric.criteria] == [("brighter", 60), ("no clipping", 40)]
