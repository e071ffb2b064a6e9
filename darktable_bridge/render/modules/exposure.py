"""exposure (src/iop/exposure.c): out = (in − black) / (2^−exposure − black), all channels, unbounded."""

import torch

from ...errors import RenderError
from ..base import Context, Params, RenderModule


class Exposure(RenderModule):
    op = "exposure"
    space = "rgb"
    static_fields = ("mode", "compensate_exposure_bias")

    def check(self, values):
        if values["mode"] != 0:
            raise RenderError("exposure: automatic (deflicker) mode needs raw data; not rendered here")
        if values["compensate_exposure_bias"]:
            raise RenderError("exposure: 'compensate exposure bias' needs the photo's EXIF; not rendered here")

    def process(self, x: torch.Tensor, p: Params, ctx: Context) -> torch.Tensor:
        black = p["black"].view(-1, 1, 1, 1)
        white = torch.exp2(-p["exposure"]).view(-1, 1, 1, 1)
        return (x - black) / (white - black)


MODULE = Exposure()
