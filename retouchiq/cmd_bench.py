"""``retouchiq bench``: RetouchEval-dt, the benchmark, for any policy; ``retouchiq bench-cases``: its cases."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from agent.bench import cases as cases_mod
from agent.errors import RequestError

from .progress import Bar

EPILOG = """examples:
  retouchiq bench                                           # noop, rules, compact (+ target); out/bench/
  retouchiq bench --policies compact,openai:http://127.0.0.1:11434/v1#qwen2.5vl:7b --variants detailed
  retouchiq bench --judge openai:http://127.0.0.1:8000/v1#glm-4.5v --report out/bench-judged
A run is resumed where it stopped by running it again (answers, renders and judge scores are cached in
REPORT/cache); --fresh forgets the cached answers and judge scores.
"""


def _variants(text: str) -> tuple[str, ...]:
    chosen = tuple(v.strip() for v in text.split(",") if v.strip())
    wrong = [v for v in chosen if v not in cases_mod.VARIANTS]
    if wrong or not chosen:
        raise RequestError(f"--variants: {wrong or text!r}: choose from {', '.join(cases_mod.VARIANTS)}")
    return chosen


def _cmd_bench(args) -> int:
    import shutil

    from agent.bench import report as report_mod
    from agent.bench import run as run_mod

    all_cases = cases_mod.load(args.cases)
    if args.max:
        all_cases = [c for f in cases_mod.FAMILIES for c in [c for c in all_cases if c.family == f][: args.max]]
    if args.engine == "torch":
        all_cases, left_out = run_mod.torch_drawable(all_cases)
        if left_out:
            print(
                f"left out {len(left_out)} case(s) whose target uses masks the torch renderer does not draw "
                f"({', '.join(c.id for c in left_out)}); --engine darktable renders them",
                file=sys.stderr,
            )
    specs = [s.strip() for s in args.policies.split(",") if s.strip()]
    if specs and "target" not in specs:
        specs.append("target")  # the self-check rides along in every run: it must score ΔE00 0
    opts = run_mod.Options(
        all_cases,
        specs,
        args.report,
        args.engine,
        _variants(args.variants),
        args.judge,
        args.size,
    )
    loaded = run_mod.prepare(opts)  # an unknown policy or judge is refused before anything is written
    if args.fresh:
        for kind in ("answers", "judge"):
            shutil.rmtree(args.report / "cache" / kind, ignore_errors=True)
    results = run_mod.run(opts, progress=Bar(), loaded=loaded)
    written = report_mod.write(results, args.report, all_cases, run_mod.reader(opts))
    print(report_mod.markdown(results))
    print(f"wrote {', '.join(str(p) for p in written)}", file=sys.stderr)
    if results["judge_error"]:
        raise RequestError(f"{results['judge_error']} (every other column was written)")
    return 0


def _cmd_cases_check(args) -> int:
    from agent.bench import make

    raw = []
    for path in args.files:
        try:
            raw += json.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise RequestError(f"{path}: not a JSON list of cases ({exc})") from None
    found = make.problems(make.prepare(args.cases, raw), sheet=args.sheet)
    for line in found:
        print(line)
    print(f"{len(raw)} case(s), {len(found)} problem(s)" + (f"; sheet {args.sheet}" if args.sheet else ""))
    return 1 if found else 0


def _cmd_cases_build(args) -> int:
    from agent.bench import make

    if args.enhance:
        cases = make.build_enhance(args.cases, args.enhance, progress=Bar())
        out = args.cases / "authoring" / "enhance.json"
        for case in cases:
            case.setdefault("variants", {v: "" for v in cases_mod.VARIANTS})
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(cases, indent=1, ensure_ascii=False) + "\n")
        print(f"wrote {len(cases)} enhance sources and targets; their wordings go in {out}")
        return 0
    raw = [
        c
        for path in sorted((args.cases / "authoring").glob("*.json"))
        for c in json.loads(path.read_text(encoding="utf-8"))
    ]
    built = make.prepare(args.cases, raw)
    found = make.problems(built)
    if found:
        for line in found:
            print(line)
        raise RequestError(f"{len(found)} problem(s): cases.jsonl not written")
    make.write_cases(args.cases, raw)
    print(f"wrote {args.cases / 'cases.jsonl'}: {len(built)} cases")
    return 0


def register(sub) -> None:
    fmt = argparse.RawDescriptionHelpFormatter
    p = sub.add_parser(
        "bench",
        help="RetouchEval-dt: score policies on the benchmark's 300 cases",
        formatter_class=fmt,
        epilog=EPILOG,
        description="Every case × wording × policy through the one edit path, rendered by "
        "darktable-cli, scored against the target edit (L1, L2, ΔE00, SSIM, PSNR), on "
        "the requested directions, and by a VLM judge when given (SC, PQ, O). Writes "
        "REPORT/results.json, table.md and report.html (offline: tables, plots, image "
        "grids). Built in besides the registered policies: target (the case's own "
        "edit, a self-check that must score ΔE00 0), added to every run.",
    )
    p.add_argument("--policies", default="noop,rules,compact", help="comma-separated policy specs")
    p.add_argument("--cases", type=Path, default=cases_mod.DEFAULT_FOLDER, help="the benchmark's folder")
    p.add_argument("--engine", default="darktable", choices=["darktable", "torch"])
    p.add_argument("--variants", default=",".join(cases_mod.VARIANTS), help="wordings: short,detailed,expert")
    p.add_argument(
        "--judge",
        help="openai:URL#MODEL: a VLM judge for SC, PQ, O (3 answers averaged); grm:vlm:PATH or "
        "grm:openai:URL#MODEL: the VLM reward model's rubric total as O (docs/rl.md)",
    )
    p.add_argument("--report", type=Path, default=Path("out/bench"), help="report folder (default out/bench)")
    p.add_argument("--size", type=int, default=384, help="long side of the compared renders (default 384)")
    p.add_argument("--max", type=int, default=0, help="the first N cases of each family (0 = all)")
    p.add_argument("--fresh", action="store_true", help="forget cached answers and judge scores")
    p.set_defaults(func=_cmd_bench)

    p = sub.add_parser(
        "bench-cases",
        help="check or build the benchmark's cases (for its maintainers)",
        formatter_class=fmt,
        description="check: authored cases (JSON lists) — wordings against the synthesis banks, "
        "target edits rendered by darktable-cli against the attributes they claim. "
        "build: authoring/*.json → targets/*.xmp and cases.jsonl (--enhance N: make "
        "the enhance family's flawed sources and fitted targets first).",
    )
    csub = p.add_subparsers(dest="cases_command", required=True, metavar="COMMAND")
    c = csub.add_parser("check", help="check authored cases")
    c.add_argument("files", nargs="+", metavar="FILE.json")
    c.add_argument("--cases", type=Path, default=cases_mod.DEFAULT_FOLDER)
    c.add_argument("--sheet", type=Path, help="also write a contact sheet (photo | target) to this PNG")
    c.set_defaults(func=_cmd_cases_check)
    c = csub.add_parser("build", help="write targets/*.xmp and cases.jsonl from authoring/*.json")
    c.add_argument("--cases", type=Path, default=cases_mod.DEFAULT_FOLDER)
    c.add_argument("--enhance", type=int, default=0, metavar="N", help="make N enhance sources and targets")
    c.set_defaults(func=_cmd_cases_build)
