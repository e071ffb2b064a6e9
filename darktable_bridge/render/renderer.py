"""Render sidecars with the torch pipe (batched, any device) or its ONNX export."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import torch

from xmp.sidecar import Sidecar

from ..errors import RenderError
from .pipe import Pipe, load_image, plan, quantize, tensors


def render_torch(
    images: torch.Tensor, sidecars: list[Sidecar], compile: str | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """images: encoded sRGB [N, 3, H, W]; one sidecar per image, all of one structure.

    compile: ``off``, ``on`` or ``auto`` (see ``compiled``; default: ``RETOUCHIQ_RENDER_COMPILE``, else off):
    CPU renders through torch.compile, compiled once per structure and size.

    Returns (linear Rec2020 [N, 3, H, W], 8-bit sRGB values as floats [N, 3, H, W])."""
    from . import compiled

    plans = [plan(s) for s in sidecars]
    if len({p.structure for p in plans}) != 1:
        raise RenderError("a batch must share one structure (modules, instances, switches, mask shapes)")
    structure = plans[0].structure
    pipe = Pipe(plans[0].steps)
    linear, display = compiled.run(pipe, structure, images, tensors(plans, images.dtype, images.device), compile)
    return linear, quantize(display)


def render_file(
    photo: str | os.PathLike, xmp: str | os.PathLike | None, output: str | os.PathLike, engine: str = "torch"
) -> Path:
    """Render one photo with one sidecar to .png/.jpg/.tif (8-bit sRGB) or .pfm (linear Rec2020)."""
    from PIL import Image

    image = torch.from_numpy(load_image(photo))[None]
    sidecar = Sidecar.read(xmp) if xmp is not None else Sidecar.new(Path(photo).name)
    if engine == "onnx":
        from .onnx_export import render_onnx

        linear, display8 = render_onnx(image.numpy(), [sidecar])
    else:
        linear, display8 = (t.numpy() for t in render_torch(image, [sidecar]))
    output = Path(output)
    tmp = output.with_name(f".{output.name}.tmp{output.suffix}")
    if output.suffix.lower() == ".pfm":
        write_pfm(tmp, linear[0].transpose(1, 2, 0))
    else:
        Image.fromarray(display8[0].transpose(1, 2, 0).astype(np.uint8)).save(tmp)
    os.replace(tmp, output)
    return output


def write_pfm(path, img: np.ndarray) -> None:
    h, w, _ = img.shape
    with open(path, "wb") as fh:
        fh.write(f"PF\n{w} {h}\n-1.0\n".encode())
        fh.write(np.ascontiguousarray(img[::-1], dtype="<f4").tobytes())
