"""The benchmark's report: ``results.json``, ``table.md`` (the paper's layout, our columns beside) and
``report.html`` — the tables, per-attribute accuracy bars, ΔE00 distributions and image grids (source, target, each
policy) for a sample of cases per family. Everything is in the report folder and opens offline; every file is
written atomically, the HTML last."""

from __future__ import annotations

import html
import io
import json
from pathlib import Path

import numpy as np

from agent.bench.cases import FAMILIES, Case
from xmp.files import atomic_write

COLUMNS = (  # key, header, format, better
    ("l1_x100", "L1×100", "{:.2f}", "↓"),
    ("l2_x1000", "L2×1000", "{:.2f}", "↓"),
    ("sc", "SC", "{:.2f}", "↑"),
    ("pq", "PQ", "{:.2f}", "↑"),
    ("o", "O", "{:.2f}", "↑"),
    ("delta_e", "ΔE00", "{:.2f}", "↓"),
    ("ssim", "SSIM", "{:.3f}", "↑"),
    ("psnr", "PSNR dB", "{:.1f}", "↑"),
    ("direction", "direction", "{:.1%}", "↑"),
    ("valid", "valid", "{:.0%}", "↑"),
    ("latency_ms", "latency ms", "{:.0f}", "↓"),
)
PALETTE = ("#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#edc948", "#b07aa1", "#ff9da7")


def _cell(value, fmt: str) -> str:
    return "–" if value is None else fmt.format(value).replace("%", " %")


def markdown(results: dict) -> str:
    s = results["settings"]
    judge = f"judge {s['judge']}" if s["judge"] else "no judge (SC, PQ, O blank)"
    lines = [
        f"RetouchEval-dt: {s['cases']} cases × {len(s['variants'])} wordings ({', '.join(s['variants'])}), renders "
        f"by {'darktable-cli' if s['engine'] == 'darktable' else 'the torch renderer'} at {s['size']} px, {judge}.",
        "L1, L2, ΔE00, SSIM and PSNR against the target edit's render; direction: requested attributes moved the "
        "requested way; valid: answers that were a valid edit; latency: median seconds of the policy's answer.",
        "",
    ]
    if results.get("judge_error"):
        lines += [f"**Judge failed:** {results['judge_error']}", ""]
    groups = list(FAMILIES) + ["overall"]
    for group in groups:
        lines += [
            f"### {group}",
            "",
            "| policy | " + " | ".join(f"{h} {b}" for _, h, _, b in COLUMNS) + " |",
            "|---|" + "---:|" * len(COLUMNS),
        ]
        for spec, table in results["summary"].items():
            if group in table:
                row = table[group]
                lines.append(f"| {spec} | " + " | ".join(_cell(row[k], f) for k, _, f, _ in COLUMNS) + " |")
        lines.append("")
    lines += [
        "### by wording (all families)",
        "",
        "| policy | wording | ΔE00 ↓ | direction ↑ | valid | O ↑ |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for spec, table in results["summary"].items():
        for group, row in table.items():
            if group.startswith("wording: "):
                lines.append(
                    f"| {spec} | {group.removeprefix('wording: ')} | {_cell(row['delta_e'], '{:.2f}')} | "
                    f"{_cell(row['direction'], '{:.1%}')} | {_cell(row['valid'], '{:.0%}')} | "
                    f"{_cell(row['o'], '{:.2f}')} |"
                )
    return "\n".join(lines) + "\n"


# ---- pictures --------------------------------------------------------------------------------------------------


def _bars(results: dict) -> str:
    """Per-attribute accuracy, one bar per policy, as inline SVG."""
    specs = list(results["attributes"])
    attrs = sorted({a for t in results["attributes"].values() for a in t})
    if not attrs:
        return ""
    row_h, bar_h, left, width = 14 * len(specs) + 10, 12, 170, 420
    svg = [f'<svg width="{left + width + 140}" height="{row_h * len(attrs) + 30}" role="img">']
    for i, attr in enumerate(attrs):
        y0 = 20 + i * row_h
        svg.append(f'<text x="{left - 6}" y="{y0 + row_h / 2}" text-anchor="end" font-size="11">{attr}</text>')
        for j, spec in enumerate(specs):
            hit, total = results["attributes"][spec].get(attr, [0, 0])
            share = hit / total if total else 0.0
            y = y0 + j * 14
            svg.append(
                f'<rect x="{left}" y="{y}" width="{share * width:.1f}" height="{bar_h}" '
                f'fill="{PALETTE[j % len(PALETTE)]}"><title>{html.escape(spec)}: {hit}/{total}</title></rect>'
            )
            svg.append(f'<text x="{left + share * width + 4}" y="{y + 10}" font-size="9">{hit}/{total}</text>')
    for j, spec in enumerate(specs):
        svg.append(
            f'<rect x="{left + width + 20}" y="{10 + j * 14}" width="10" height="10" '
            f'fill="{PALETTE[j % len(PALETTE)]}"/><text x="{left + width + 34}" y="{19 + j * 14}" '
            f'font-size="10">{html.escape(spec)}</text>'
        )
    return "".join(svg) + "</svg>"


def _boxes(results: dict) -> str:
    """ΔE00 to the target per policy and family: box (quartiles), whiskers (5–95 %), median line, as SVG."""
    specs = results["settings"]["policies"]
    values = {(r["policy"], r["family"]): [] for r in results["rows"]}
    for r in results["rows"]:
        values[(r["policy"], r["family"])].append(r["delta_e"])
    top = max([np.percentile(v, 95) for v in values.values() if v] + [1.0])
    w, h, left = 46, 220, 40
    cols = [(s, f) for f in FAMILIES for s in specs if (s, f) in values]
    svg = [
        f'<svg width="{left + w * len(cols) + 20}" height="{h + 70}" role="img">',
        f'<line x1="{left}" y1="10" x2="{left}" y2="{h + 10}" stroke="#999"/>',
    ]
    for tick in np.linspace(0, top, 5):
        y = 10 + h - tick / top * h
        svg.append(f'<text x="{left - 4}" y="{y + 3}" text-anchor="end" font-size="9">{tick:.1f}</text>')
    for k, (spec, family) in enumerate(cols):
        v = np.array(values[(spec, family)])
        p5, q1, med, q3, p95 = np.percentile(v, [5, 25, 50, 75, 95])
        x = left + 8 + k * w
        yy = lambda d: 10 + h - min(d, top) / top * h
        color = PALETTE[specs.index(spec) % len(PALETTE)]
        svg += [
            f'<line x1="{x + 14}" y1="{yy(p5)}" x2="{x + 14}" y2="{yy(p95)}" stroke="{color}"/>',
            f'<rect x="{x}" y="{yy(q3)}" width="28" height="{max(yy(q1) - yy(q3), 1):.1f}" fill="{color}" '
            f'opacity="0.6"><title>{html.escape(spec)} {family}: median {med:.2f}</title></rect>',
            f'<line x1="{x}" y1="{yy(med)}" x2="{x + 28}" y2="{yy(med)}" stroke="black"/>',
            f'<text x="{x + 14}" y="{h + 24}" font-size="9" text-anchor="middle">{html.escape(spec[:8])}</text>',
            f'<text x="{x + 14}" y="{h + 36}" font-size="9" text-anchor="middle">{family}</text>',
        ]
    return "".join(svg) + '<text x="4" y="10" font-size="10">ΔE00</text></svg>'


def _jpeg(image: np.ndarray, path: Path, side: int = 256) -> None:
    from PIL import Image

    im = Image.fromarray(image)
    im.thumbnail((side, side))
    buf = io.BytesIO()
    im.save(buf, "JPEG", quality=85)
    atomic_write(path, buf.getvalue())


def write(results: dict, report: Path, cases: list[Case], image, per_family: int = 4) -> list[Path]:
    """results.json, table.md, images/ and report.html in ``report``. ``image(photo, sidecar_text)`` gives a render
    (the run's cache). Returns the files written."""
    report.mkdir(parents=True, exist_ok=True)
    public = {**results, "rows": [{k: v for k, v in r.items() if k != "xmp"} for r in results["rows"]]}
    written = [atomic_write(report / "results.json", json.dumps(public, indent=1, ensure_ascii=False).encode())]
    table = markdown(results)
    written.append(atomic_write(report / "table.md", table.encode("utf-8")))
    answers = {(r["policy"], r["case"], r["variant"]): r for r in results["rows"]}
    variant = "detailed" if "detailed" in results["settings"]["variants"] else results["settings"]["variants"][0]
    grids = []
    (report / "images").mkdir(exist_ok=True)
    for family in FAMILIES:
        chosen = [c for c in cases if c.family == family][
            :: max(1, len([c for c in cases if c.family == family]) // per_family)
        ][:per_family]
        for case in chosen:
            cells = [("source", image(case.photo, None)), ("target", image(case.photo, case.sidecar.read_text()))]
            for spec in results["settings"]["policies"]:
                row = answers.get((spec, case.id, variant))
                if row is not None:
                    cells.append((f"{spec} (ΔE {row['delta_e']:.1f})", image(case.photo, row["xmp"])))
            tds = []
            for k, (label, im) in enumerate(cells):
                name = f"images/{case.id}-{k}.jpg"
                _jpeg(im, report / name)
                tds.append(f'<td><img src="{name}" alt="{html.escape(label)}"><br>{html.escape(label)}</td>')
            grids.append(
                f"<h3>{case.id} ({family})</h3><p><i>{html.escape(case.instruction(variant))}</i></p>"
                f"<table class=grid><tr>{''.join(tds)}</tr></table>"
            )
    body = "".join(
        f"<p>{html.escape(line)}</p>" if not line.startswith(("|", "#")) and line else ""
        for line in table.splitlines()[:3]
    )
    body += _md_tables(table)
    page = f"""<!doctype html><html><head><meta charset="utf-8"><title>RetouchEval-dt report</title>
<style>body{{font-family:sans-serif;max-width:1400px;margin:1em auto}}table{{border-collapse:collapse;margin:.5em 0}}
td,th{{border:1px solid #ccc;padding:2px 6px;font-size:13px;text-align:right}}table.grid td{{text-align:center;
border:none;font-size:12px;vertical-align:top}}img{{max-width:256px}}</style></head><body>
<h1>RetouchEval-dt</h1>{body}
<h2>Requested attributes moved the requested way</h2>{_bars(results)}
<h2>ΔE00 to the target, per policy and family</h2>{_boxes(results)}
<h2>Cases ({variant} wording)</h2>{"".join(grids)}
</body></html>"""
    written.append(atomic_write(report / "report.html", page.encode("utf-8")))
    return written


def _md_tables(text: str) -> str:
    """The Markdown tables and headings of ``text`` as HTML."""
    out, rows = [], []

    def flush():
        if rows:
            head, *body = rows
            out.append(
                "<table><tr>"
                + "".join(f"<th>{html.escape(c)}</th>" for c in head)
                + "</tr>"
                + "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in r) + "</tr>" for r in body)
                + "</table>"
            )
            rows.clear()

    for line in text.splitlines():
        if line.startswith("|"):
            cells = [c.strip() for c in line.strip("|").split("|")]
            if not set("".join(cells)) <= set("-: "):
                rows.append(cells)
        else:
            flush()
            if line.startswith("### "):
                out.append(f"<h3>{html.escape(line[4:])}</h3>")
            elif line.startswith("**"):
                out.append(f"<p><b>{html.escape(line.strip('*'))}</b></p>")
    flush()
    return "".join(out)
