"""Server speed: /v1/edit latency for a 1024 px preview, and a roll of 100 previews, against `retouchiq serve`.

    .venv/bin/python benchmarks/server.py [--policy rules compact] [--edits 40] [--roll 100]

The server runs as its own process (as the darktable plugin finds it) on a free loopback port; the client sends
the sample photo and the test photos as 1024 px JPEG previews, one request at a time. Targets (issue 5): p50 of
/v1/edit ≤ 300 ms with the compact policy on CPU; a roll of 100 previews ≤ 60 s (POST to the last photo done).
"""

from __future__ import annotations

import argparse
import io
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

import httpx
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
PHOTOS = [
    ROOT / "agent" / "samples" / "seeding_by_Clements_Engelhardt.jpg",
    *sorted((ROOT / "tests" / "data" / "photos").glob("*.jpg")),
]
INSTRUCTIONS = [
    "warmer, lift the shadows a little",
    "make it brighter and more vivid",
    "darken the sky",
    "cool it down and add contrast",
    "give it a faded matte film look",
]


def preview(photo: Path, side: int = 1024) -> bytes:
    with Image.open(photo) as im:
        im = im.convert("RGB")
        im.thumbnail((side, side), Image.LANCZOS)
        buf = io.BytesIO()
        im.save(buf, "JPEG", quality=90)
        return buf.getvalue()


def serve(policy: str) -> tuple[subprocess.Popen, str]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen(
        [sys.executable, "-m", "retouchiq", "serve", "--policy", policy, "--port", str(port), "--log-level", "warning"],
        cwd=ROOT,
        stderr=subprocess.PIPE,
    )
    url, start = f"http://127.0.0.1:{port}", time.perf_counter()
    while True:
        try:
            if httpx.get(url + "/v1/health").status_code == 200:
                return proc, url
        except httpx.TransportError:
            pass
        if proc.poll() is not None:
            raise RuntimeError(
                f"`retouchiq serve --policy {policy}` exited: "
                f"{proc.stderr.read().decode(errors='replace').strip()[-400:]}"
            )
        if time.perf_counter() - start > 120:
            raise RuntimeError("the server did not answer within 120 s")
        time.sleep(0.1)


def check(r: httpx.Response) -> None:
    if r.status_code >= 300:
        raise RuntimeError(f"{r.request.url.path} answered {r.status_code}: {r.json().get('detail')}")


def bench(policy: str, edits: int, roll: int, previews: list[bytes]) -> list[tuple[str, str, str]]:
    t = time.perf_counter()
    proc, url = serve(policy)
    rows = [("start-up (policy load, until /v1/health answers)", f"{time.perf_counter() - t:.2f} s", "")]
    try:
        with httpx.Client(base_url=url, timeout=120) as c:

            def edit(k: int) -> float:
                t = time.perf_counter()
                r = c.post(
                    "/v1/edit",
                    files={"preview": ("p.jpg", previews[k % len(previews)], "image/jpeg")},
                    data={"instruction": INSTRUCTIONS[k % len(INSTRUCTIONS)]},
                )
                check(r)
                return (time.perf_counter() - t) * 1000

            for k in range(3):  # warm-up: first calls fill caches (instruction embeddings, allocator)
                edit(k)
            ms = sorted(edit(k) for k in range(edits))
            p95 = ms[min(len(ms) - 1, round(0.95 * (len(ms) - 1)))]
            rows += [
                (f"/v1/edit p50, 1024 px preview ({edits} calls)", f"{statistics.median(ms):.0f} ms", "≤ 300 ms"),
                ("/v1/edit p95", f"{p95:.0f} ms", ""),
            ]
            modes = [False, True] if policy == "compact" else [False]  # consistent rolls need predict()
            for consistent in modes:
                files = [("previews", (f"{k}.jpg", previews[k % len(previews)], "image/jpeg")) for k in range(roll)]
                t = time.perf_counter()
                r = c.post(
                    "/v1/rolls",
                    files=files,
                    data={"instruction": INSTRUCTIONS[0], "consistent": str(consistent).lower()},
                )
                check(r)
                while (status := c.get(f"/v1/rolls/{r.json()['id']}").json())["state"] not in ("done", "cancelled"):
                    time.sleep(0.1)
                seconds = time.perf_counter() - t
                if status["done"] != roll:
                    raise RuntimeError(
                        f"roll: {status['done']} of {roll} photos done: "
                        f"{[p.get('error') for p in status['photos'] if p['state'] != 'done'][:3]}"
                    )
                rows.append(
                    (f"roll of {roll} previews{' (consistent)' if consistent else ''}", f"{seconds:.1f} s", "≤ 60 s")
                )
    finally:
        proc.terminate()
        proc.wait(30)
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--policy", nargs="+", default=["rules", "compact"])
    ap.add_argument("--edits", type=int, default=40)
    ap.add_argument("--roll", type=int, default=100)
    args = ap.parse_args()
    previews = [preview(p) for p in PHOTOS]
    print(
        f"previews: {len(previews)} photos at 1024 px, {sum(map(len, previews)) // len(previews) // 1024} KB "
        f"JPEG on average; server and client on this machine's CPU\n"
    )
    print("| policy | measurement | value | target |\n|---|---|---|---|")
    for policy in args.policy:
        try:
            rows = bench(policy, args.edits, args.roll, previews)
        except RuntimeError as exc:
            print(f"| {policy} | not measured: {exc} | | |")
            continue
        for name, value, target in rows:
            print(f"| {policy} | {name} | {value} | {target} |")


if __name__ == "__main__":
    main()
