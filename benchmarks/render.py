"""Renderer speed beside darktable-cli, same 6-module stack, same photo, same run.

    .venv/bin/python benchmarks/render.py [--repeat 5] [--device cpu|cuda] [--size 1024] [--batch 16]

Stack: exposure, channelmixerrgb, colorbalancergb, sigmoid, toneequal, vignette on a 1024×683 photo (the
bundled 16:9 sample cropped to 3:2 in its centre, then resized; ``--aspect 16:9`` keeps the whole frame,
1024×576). Prints medians: ms/photo at batch 1 and photos/s at batch B for onnxruntime and torch, and
darktable-cli's wall time for the same sidecar and photo (1:1 export), with the speed-up ratios. On a shared
machine the load drifts between the blocks of that table, so the compiled render and darktable-cli are also timed
turn about (per turn two compiled renders, then darktable-cli), and the medians of the per-turn speed-ups are
printed under it.
Target (issue 3): ≥ 20× darktable-cli at batch 1 on CPU; GPU: ≥ 500 photos/s at 512 px (benchmarks/render_gpu.sh).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

# OpenMP threads sleep instead of spinning while they wait (set before torch loads libgomp): on a shared machine
# spinning threads fight the other processes for the cores and every barrier can cost a scheduler time slice.
# Inherited by darktable-cli as well (its OpenMP gets the same policy). Override by setting it yourself.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from darktable_bridge import darktable_cli, fidelity
from darktable_bridge.apply import sidecar_of
from darktable_bridge.render import compiled, memory
from darktable_bridge.render.pipe import (
    Pipe,
    load_image,
    plan,
    tensors,
)

STACK = [
    {"module": "exposure", "params": {"exposure": 0.4}},
    {"module": "channelmixerrgb", "params": {"temperature": 5800}},
    {"module": "colorbalancergb", "params": {"vibrance": 0.2, "contrast": 0.15, "saturation_global": 0.1}},
    {"module": "sigmoid", "params": {"middle_grey_contrast": 1.6}},
    {"module": "toneequal", "params": {"shadows": 0.5, "blacks": 0.4, "highlights": -0.3}},
    {"module": "vignette", "params": {"brightness": -0.3, "saturation": 0.0}},
]


def timed(fn, repeat: int) -> float:
    fn()  # warm-up
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def interleaved(fast, slow, repeat: int) -> dict:
    """``fast`` and ``slow`` timed turn about, so that both see the same load: per turn, ``fast`` twice (the first
    call just after ``slow``'s process, with cold caches, and a second one, as in a render loop), then ``slow``.
    Medians of each, and of the per-turn ratios slow / second fast call (and slow / first)."""
    first, second, ss = [], [], []
    for _ in range(repeat):
        for fn, out in ((fast, first), (fast, second), (slow, ss)):
            t = time.perf_counter()
            fn()
            out.append(time.perf_counter() - t)
    med = statistics.median
    return {
        "first": med(first),
        "second": med(second),
        "slow": med(ss),
        "ratio": med(s / f for f, s in zip(second, ss)),
        "ratio_first": med(s / f for f, s in zip(first, ss)),
    }


def crop_to(photo: Path, aspect: str, workdir: Path) -> Path:
    """The photo's centre at ``aspect`` ("W:H"), as a PNG in ``workdir``."""
    from PIL import Image

    aw, ah = (float(v) for v in aspect.split(":"))
    with Image.open(photo) as im:
        w, h = im.size
        cw, ch = (round(h * aw / ah), h) if w * ah > h * aw else (w, round(w * ah / aw))
        left, top = (w - cw) // 2, (h - ch) // 2
        out = workdir / f"{photo.stem}-{aspect.replace(':', 'x')}.png"
        im.convert("RGB").crop((left, top, left + cw, top + ch)).save(out)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--size", type=int, default=1024)
    ap.add_argument("--aspect", default="3:2", help="crop the sample to this width:height first (default 3:2)")
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--no-darktable", action="store_true")
    ap.add_argument("--no-compile", action="store_true", help="leave out the torch.compile rows")
    ap.add_argument(
        "--inductor-cache",
        default=None,
        help="inductor's cache folder (default: a fresh temporary one, so compile times are cold)",
    )
    ap.add_argument(
        "--default-malloc",
        action="store_true",
        help="leave glibc's malloc settings as they are (the renderer tunes them: render/memory.py)",
    )
    args = ap.parse_args()
    if args.default_malloc:  # the renderer's own switch, so its compiled runs leave them alone too
        os.environ["RETOUCHIQ_MALLOC_TUNING"] = "0"
    os.environ["TORCHINDUCTOR_CACHE_DIR"] = args.inductor_cache or tempfile.mkdtemp(prefix="inductor-")
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        photo = fidelity.prepare_photo(
            crop_to(ROOT / "agent/samples/seeding_by_Clements_Engelhardt.jpg", args.aspect, tmp), args.size, tmp
        )
        from darktable_bridge.render.modules import MODULES

        stack = [op for op in STACK if op["module"] in MODULES]
        missing = [op["module"] for op in STACK if op["module"] not in MODULES]
        sidecar = sidecar_of(photo, stack)
        sidecar.write(tmp / "stack.xmp")
        img = torch.from_numpy(load_image(photo))[None]
        h, w = img.shape[-2:]
        pl = plan(sidecar)
        pipe = Pipe(pl.steps)
        dev = torch.device(args.device)
        if dev.type == "cpu":
            memory.tune_allocator()  # as every CPU render through the renderer does (the eager rows call the pipe)
        rows = []

        def torch_run(batch, mode="off"):
            """One render of ``batch`` photos as a callable: eager (``off``) or compiled (``on``), on ``dev``."""
            x = img.repeat(batch, 1, 1, 1).to(dev)
            inputs = tensors([pl] * batch, device=dev)

            def go():
                compiled.run(pipe, pl.structure, x, inputs, mode)  # no gradients either way
                if dev.type == "cuda":
                    torch.cuda.synchronize()

            return go

        t1 = timed(torch_run(1), args.repeat)
        tb = timed(torch_run(args.batch), max(2, args.repeat // 2))
        rows.append(("torch " + args.device + " (eager)", t1, args.batch / tb))
        agreement = None
        if dev.type != "cpu":  # the same render on the CPU, as a check that the device computes the same thing
            with torch.no_grad():
                ref = pipe(img, *tensors([pl]))
                out = pipe(img.to(dev), *tensors([pl], device=dev))
            agreement = [compiled.deviation(r, o.cpu()) for r, o in zip(ref, out)]
        compile_s = {}
        c1_run = None
        if not args.no_compile:

            def compiled_run(batch):
                go = torch_run(batch, "on")
                t = time.perf_counter()
                go()  # eager reference + compilation + check
                compile_s[batch] = time.perf_counter() - t
                return go

            # on a GPU only the batch is compiled (its throughput is the target; each size compiles apart)
            if dev.type == "cpu":
                c1_run = compiled_run(1)
            c1 = timed(c1_run, args.repeat) if c1_run else None
            cb = timed(compiled_run(args.batch), max(2, args.repeat // 2))
            failed = [e.failed for e in compiled.entries().values() if e.failed]
            name = f"torch {args.device}, torch.compile (inductor)" + (" — FELL BACK TO EAGER" if failed else "")
            rows.append((name, c1, args.batch / cb))
        try:
            from darktable_bridge.render.onnx_export import providers, session

            if dev.type != "cpu" and providers()[0] == "CPUExecutionProvider":
                raise RuntimeError("no usable CUDAExecutionProvider here, so no onnxruntime row on this device")
            sess = session(pl.steps, h, w)
            for batch in (1, args.batch):
                x = img.repeat(batch, 1, 1, 1).numpy()
                inputs = [t.numpy() for t in tensors([pl] * batch)]
                if batch == 1:
                    o1 = timed(lambda x=x, inputs=inputs: sess(x, inputs), args.repeat)
                else:
                    ob = timed(lambda x=x, inputs=inputs: sess(x, inputs), max(2, args.repeat // 2))
            rows.append(
                (
                    "onnxruntime " + "/".join(p.replace("ExecutionProvider", "") for p in sess.session.get_providers()),
                    o1,
                    args.batch / ob,
                )
            )
        except Exception as exc:
            print(f"onnxruntime: {exc}", file=sys.stderr)
        dt = paired = None
        if not args.no_darktable:

            def dt_run():
                darktable_cli.render(photo, tmp / "stack.xmp", tmp / "dt.png")

            dt = timed(dt_run, args.repeat)
            if c1_run:  # the compiled render and darktable-cli taken turn about, so both see the same load
                paired = interleaved(c1_run, dt_run, args.repeat)
    print(
        f"{len(stack)}-module stack ({', '.join(op['module'] for op in stack)}) on a {w}×{h} photo; "
        f"medians of {args.repeat} runs; torch threads {torch.get_num_threads()}"
    )
    if missing:
        print(f"left out (not re-implemented yet): {', '.join(missing)}; darktable-cli renders the same reduced stack")
    print()
    print(f"| engine | ms/photo, batch 1 | photos/s, batch {args.batch} | speed-up vs darktable-cli (batch 1) |")
    print("|---|---|---|---|")
    for name, one, per_s in rows:
        ratio = f"{dt / one:.1f}×" if dt and one else "—"
        print(f"| {name} | {f'{one * 1000:.0f}' if one else '—'} | {per_s:.1f} | {ratio} |")
    if dt:
        print(f"| darktable-cli 4.2.1 (whole process, 1:1 PNG export) | {dt * 1000:.0f} | {1 / dt:.2f} | 1× |")
    if compile_s:
        print()
        checks = "; ".join(
            f"max |compiled − eager| {max(e.check['max_deviation']):.1e} (relative above 1)"
            for e in compiled.entries().values()
            if e.check
        )
        firsts = ", ".join(f"{v:.0f} s at batch {k}" for k, v in compile_s.items())
        print(
            f"torch.compile, once per structure and size (not in the medians above): first call (eager reference "
            f"+ compile + check) {firsts}; inductor cache "
            f"{'fresh (cold)' if args.inductor_cache is None else args.inductor_cache}; {checks}"
        )
    if paired:
        print()
        print(
            f"taken turn about ({args.repeat} turns, batch 1; per turn two compiled renders, then darktable-cli): "
            f"torch.compile {paired['second'] * 1000:.0f} ms (the first render after darktable-cli: "
            f"{paired['first'] * 1000:.0f} ms), darktable-cli {paired['slow'] * 1000:.0f} ms; median of the "
            f"per-turn speed-ups **{paired['ratio']:.1f}×** ({paired['ratio_first']:.1f}× against the first render)"
        )
    if agreement:
        print(
            f"{args.device} against the CPU, same render (eager, batch 1): max deviation linear "
            f"{agreement[0]:.1e}, display {agreement[1]:.1e} (relative above 1)"
        )
    print(
        f"OMP_WAIT_POLICY={os.environ.get('OMP_WAIT_POLICY')} (all engines, darktable-cli included); "
        f"{memory.describe()} (this process only)"
    )


if __name__ == "__main__":
    main()
