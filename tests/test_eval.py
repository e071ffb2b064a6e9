"""``retouchiq eval``: SSIM, the summary, and an end-to-end run rendered by the torch renderer and darktable-cli."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from agent import eval as eval_mod
from agent import metrics
from agent.data import read_samples, split_of, synth

from conftest import split_photo_set

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def heldout(tmp_path_factory):
    out = tmp_path_factory.mktemp("eval")
    photos = [p for p in split_photo_set() if split_of(p) == "heldout"][:2]
    synth.synth(photos, 3, out, seed=5, size=128)
    return out


def test_ssim_properties():
    rng = np.random.default_rng(1)
    a = (rng.random((40, 50, 3)) * 255).astype(np.uint8)
    b = np.clip(a.astype(int) + rng.integers(-30, 30, a.shape), 0, 255).astype(np.uint8)
    assert metrics.ssim(a, a) == pytest.approx(1.0)
    assert metrics.ssim(a, b) == pytest.approx(metrics.ssim(b, a))
    assert 0.9 < metrics.ssim(a, b) < 0.99  # σ² of the luma ≈ 2500, of the noise ≈ 140
    flat = np.full_like(a, 128)
    assert metrics.ssim(a, flat) < 0.05  # only C2 / (σ² + C2) of the structure term is left
    # two flat images: only the luminance term is left, (2·μx·μy + C1) / (μx² + μy² + C1)
    c1 = (0.01 * 255) ** 2
    assert metrics.ssim(np.full_like(a, 100), np.full_like(a, 150)) == pytest.approx(
        (2 * 100 * 150 + c1) / (100**2 + 150**2 + c1)
    )
    with pytest.raises(ValueError, match="shapes"):
        metrics.ssim(a, a[:-1])


def test_pixel_metrics_on_the_papers_scale():
    a = np.full((4, 5, 3), 100, np.uint8)
    b = a.copy()
    b[..., 0] = 151  # one channel off by 51 levels = 0.2
    assert metrics.l1(a, b) == pytest.approx(0.2 / 3) and metrics.l2(a, b) == pytest.approx(0.04 / 3)
    assert metrics.psnr(a, a) == 100.0 and metrics.psnr(a, b) == pytest.approx(10 * np.log10(3 / 0.04))
    assert metrics.delta_e(a, a) == 0.0 and metrics.delta_e(a, b) > 5


def test_summary_counts_attributes_per_family_and_unseen():
    results = [
        {
            "policy": "p",
            "family": "style",
            "paraphrase": "seen",
            "hits": 2,
            "attributes": 2,
            "delta_e": 1.0,
            "ssim": 0.9,
            "error": "",
            "policy_seconds": 0.01,
        },
        {
            "policy": "p",
            "family": "local",
            "paraphrase": "unseen",
            "hits": 0,
            "attributes": 1,
            "delta_e": 3.0,
            "ssim": 0.7,
            "error": "boom",
            "policy_seconds": 0.03,
        },
    ]
    table = eval_mod.summarise(results, ["p"])["p"]
    assert table["overall"]["direction_accuracy"] == pytest.approx(2 / 3)
    assert table["overall"]["delta_e"] == pytest.approx(2.0) and table["overall"]["policy_errors"] == 1
    assert table["unseen paraphrases"]["samples"] == 1 and table["style"]["direction_accuracy"] == 1.0
    assert table["seen paraphrases"]["samples"] == 1 and table["seen paraphrases"]["direction_accuracy"] == 1.0
    assert "enhance" not in table and eval_mod.ALONE not in table  # sets made before the "unseen" field


def test_unseen_wordings_alone_and_each_alike():
    """The held-out wording's own attributes apart from the banks' clauses added to it, and averaged per wording."""

    def row(phrasing, hits, attributes, own_hits, own):
        return {
            "policy": "p",
            "family": "style",
            "paraphrase": "unseen",
            "hits": hits,
            "attributes": attributes,
            "delta_e": 1.0,
            "ssim": 0.9,
            "error": "",
            "policy_seconds": 0.01,
            "phrasing": phrasing,
            "phrasing_hits": own_hits,
            "phrasing_attributes": own,
        }

    results = [row("a {b}", 3, 3, 1, 1), row("a {b}", 2, 3, 0, 1), row("a {b}", 3, 3, 1, 1), row("b", 1, 2, 0, 1)]
    table = eval_mod.summarise(results, ["p"])["p"]
    assert table["unseen paraphrases"]["direction_accuracy"] == pytest.approx(9 / 11)
    assert table[eval_mod.ALONE]["direction_accuracy"] == pytest.approx(2 / 4)
    assert table[eval_mod.EACH]["direction_accuracy"] == pytest.approx((2 / 3 + 0) / 2)
    assert table[eval_mod.EACH]["wordings"] == 2
    text = eval_mod.markdown({"split": "heldout", "engine": "torch", "table": {"p": table}})
    assert "| p | unseen, each wording alike | 4 | 33.3 % (2 wordings) |" in text


def test_eval_with_the_torch_renderer(heldout):
    samples = read_samples(heldout, "heldout")
    report = eval_mod.evaluate(samples, heldout, ["target", "rules", "noop"], engine="torch")
    table = report["table"]
    assert table["target"]["overall"]["direction_accuracy"] == 1.0
    assert table["target"]["overall"]["delta_e"] < 0.05
    assert table["noop"]["overall"]["direction_accuracy"] == 0.0
    assert table["noop"]["overall"]["delta_e"] > table["target"]["overall"]["delta_e"]
    assert len(report["results"]) == 3 * len(samples)
    text = eval_mod.markdown(report)
    assert "| rules | overall |" in text and "| noop |" in text


def test_eval_on_fast_data_renders_the_targets(tmp_path):
    # `data synth --fast` writes no target images (the ablation's held-out set is made so): eval refused it; now
    # each target is the sample's operations rendered by the same engine
    photos = [p for p in split_photo_set() if split_of(p) == "heldout"][:2]
    synth.synth(photos, 4, tmp_path, seed=7, size=64, fast=True)
    samples = read_samples(tmp_path, "heldout")
    assert samples and all(s["target"] is None for s in samples)
    report = eval_mod.evaluate(samples, tmp_path, ["target", "noop"], engine="torch")
    table = report["table"]
    assert table["target"]["overall"]["delta_e"] == 0.0 and table["target"]["overall"]["direction_accuracy"] == 1.0
    assert table["noop"]["overall"]["delta_e"] > 0.5
    proc = subprocess.run(
        [sys.executable, "-m", "retouchiq", "eval", "--data", tmp_path, "--policies", "noop", "--engine", "torch"],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert proc.returncode == 0, proc.stderr
    assert "no target images" in proc.stderr and "| noop | overall |" in proc.stdout


@pytest.mark.darktable
def test_eval_command_renders_with_darktable(heldout, tmp_path):
    report_path = tmp_path / "report.json"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "retouchiq",
            "eval",
            "--data",
            heldout,
            "--split",
            "heldout",
            "--policies",
            "target,rules,noop",
            "--max",
            "3",
            "--report",
            report_path,
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert proc.returncode == 0, proc.stderr
    assert "| policy | family |" in proc.stdout and "| target | overall | 3 |" in proc.stdout
    report = json.loads(report_path.read_text())
    assert report["engine"] == "darktable"
    # darktable-cli's render of the target operations matches the torch renderer's target
    assert report["table"]["target"]["overall"]["delta_e"] < 1.0
    assert report["table"]["target"]["overall"]["direction_accuracy"] == 1.0
    assert report["table"]["noop"]["overall"]["direction_accuracy"] == 0.0


def test_eval_command_reports_missing_data(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "retouchiq", "eval", "--data", tmp_path, "--policies", "noop"],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert proc.returncode == 2 and "samples.jsonl" in proc.stderr


def test_unseen_wordings_probe_reads_the_held_out_wordings(tmp_path):
    """benchmarks/unseen_wordings.py: the bank phrasings and the 50 held-out wordings, each wording's nearest bank
    phrasing, and a policy's moves on a photo, counted per asked attribute."""
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
    import unseen_wordings as probe

    bank = probe.bank_phrasings()
    wordings = probe.unseen_wordings()
    assert len(wordings) == 50 and len(bank) > 5000
    assert not {w for _, w, _ in wordings} & set(bank)  # held out: no wording is a bank phrasing
    assert bank["make it brighter"] == {"brightness": 1} and "{" not in "".join(bank)
    assert all(w and "{" not in w and asks for _, w, asks in wordings)
    # a bank phrasing's nearest bank phrasing is itself
    assert probe.nearest(["make it brighter", "darken the sky"], bank)[0][0] == "make it brighter"

    photo = Path(__file__).resolve().parent / "data" / "photos" / "picosdeeuropa_by_Aitzol_Berasategi.jpg"
    out = probe.main(
        ["--max", "7", "--policies", "rules,noop", "--photos", str(photo), "--json", str(tmp_path / "u.json")]
    )
    rows, totals = out["rows"], out["totals"]
    assert len(rows) == 7 and totals["photos"] == 1 and totals["attributes"] == 7
    assert totals["noop"] == 0.0  # doing nothing moves nothing
    # the rule planner reads its keywords: "crank up the brightness" brightens, "knock the exposure down" darkens
    by = {r["wording"]: r for r in rows}
    assert by["crank up the brightness"]["rules_hits"] == 1 and by["knock the exposure down"]["rules_hits"] == 1
    assert json.loads((tmp_path / "u.json").read_text())["totals"] == totals
