"""ONNX export of a pipe structure, params as graph inputs, run with onnxruntime.

One ONNX graph per structure (modules, instances, switches, mask shapes) and image size (the modules' geometry —
radii, mask grids, vignette scale — is computed from the size at export); every value — slider positions, mask
geometry, opacity — is an input and the batch size is dynamic, so one session serves every edit of that
structure at that size. CUDA is used when
onnxruntime has a usable CUDAExecutionProvider, the CPU otherwise (quietly).
"""

from __future__ import annotations

import io
import os
import warnings
from pathlib import Path

import numpy as np
import torch

from ..errors import RenderError
from .pipe import Pipe, plan, tensors

_SESSIONS: dict[tuple, OnnxPipe] = {}


def _exp2(g, x):
    return g.op("Pow", g.op("Constant", value_t=torch.tensor(2.0, dtype=torch.float32)), x)


def _register_symbolics(opset: int) -> None:
    """ONNX has no exp2; 2**x is Pow(2, x)."""
    torch.onnx.register_custom_op_symbolic("aten::exp2", _exp2, opset)


def export(steps, height: int, width: int, path: str | os.PathLike | None = None, opset: int = 17) -> bytes:
    """Export the pipe of ``steps`` for images of ``height``×``width`` to ONNX (bytes; also to ``path``)."""
    pipe = Pipe(steps).eval()
    image = torch.rand(2, 3, height, width)
    inputs = _example_inputs(steps)
    names = ["image"] + [f"p{i}" for i in range(len(inputs))]
    dynamic = {"image": {0: "n"}, "linear": {0: "n"}, "display": {0: "n"}}
    dynamic.update({f"p{i}": {0: "n"} for i in range(len(inputs))})
    buf = io.BytesIO()
    _register_symbolics(opset)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            pipe,
            (image, *inputs),
            buf,
            input_names=names,
            output_names=["linear", "display"],
            dynamic_axes=dynamic,
            opset_version=opset,
            dynamo=False,
        )
    data = buf.getvalue()
    if path is not None:
        Path(path).write_bytes(data)
    return data


def _example_inputs(steps) -> list[torch.Tensor]:
    """Params of the right widths for tracing (values: the struct defaults, two images)."""
    from xmp import blend as B
    from xmp.modules import PARAMS

    from .base import flatten

    out = []
    for step in steps:
        out.append(torch.tensor([flatten(PARAMS[step.op], PARAMS[step.op].defaults())] * 2, dtype=torch.float32))
        if step.blend is not None:
            row = flatten(B.PARAMS, B.PARAMS.defaults()) + step.blend.shape_values
            out.append(torch.tensor([row] * 2, dtype=torch.float32))
    return out


def providers() -> list[str]:
    import onnxruntime as ort

    available = ort.get_available_providers()
    if "CUDAExecutionProvider" in available:
        try:  # the provider is listed whenever the GPU build is installed; it only works with a device + CUDA libs
            import ctypes

            ctypes.CDLL("libcuda.so.1")
            return ["CUDAExecutionProvider", "CPUExecutionProvider"]
        except OSError:
            pass
    return ["CPUExecutionProvider"]


class OnnxPipe:
    def __init__(self, steps, height: int, width: int, threads: int = 0):
        import onnxruntime as ort

        opts = ort.SessionOptions()
        opts.log_severity_level = 3  # errors only: no provider warnings on CPU-only machines
        if threads:
            opts.intra_op_num_threads = threads
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        # idle pool threads sleep instead of spinning: spinning fights other processes for the cores of a shared
        # machine, and a whole-image graph has few, large ops, so waking up costs nothing noticeable
        opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self.session = ort.InferenceSession(export(steps, height, width), opts, providers=providers())
        self.names = [i.name for i in self.session.get_inputs()]

    def __call__(self, image: np.ndarray, params: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        feed = dict(zip(self.names, [image.astype(np.float32)] + [p.astype(np.float32) for p in params]))
        linear, display = self.session.run(["linear", "display"], feed)
        return linear, display


def session(steps, height: int, width: int) -> OnnxPipe:
    key = (tuple(s.key for s in steps), height, width)
    if key not in _SESSIONS:
        _SESSIONS[key] = OnnxPipe(steps, height, width)
    return _SESSIONS[key]


def render_onnx(images: np.ndarray, sidecars) -> tuple[np.ndarray, np.ndarray]:
    plans = [plan(s) for s in sidecars]
    if len({p.structure for p in plans}) != 1:
        raise RenderError("a batch must share one structure (modules, instances, switches, mask shapes)")
    linear, display = session(plans[0].steps, *images.shape[-2:])(images, [t.numpy() for t in tensors(plans)])
    return linear, np.round(np.clip(display, 0, 1) * 255.0)
