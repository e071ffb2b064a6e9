"""Gaussian/Laplacian pyramid pieces of darktable's local laplacian filter (src/common/locallaplacian.c).

Level sizes follow darktable: a level of size s has a coarser level of size (s − 1)//2 + 1. Reduction blurs with the
separable 1-4-6-4-1 kernel and keeps every second pixel, computing only samples whose 5×5 support lies inside the
fine level; the one-pixel rim is then copied from its neighbour. Expansion is the matching upsampling (same kernel,
gain 2 per axis) computed on the interior only, the rim (one or two pixels, depending on parity) copied inwards.
All functions take [B, C, H, W] and work channel by channel; sizes are Python ints (one graph per image size).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

_TAPS = (1.0, 4.0, 6.0, 4.0, 1.0)


def coarse_size(size: int, levels: int = 1) -> int:
    for _ in range(levels):
        size = (size - 1) // 2 + 1
    return size


def reduce(x: torch.Tensor) -> torch.Tensor:
    """One level down: [B, C, H, W] → [B, C, (H−1)//2+1, (W−1)//2+1]."""
    c = x.shape[1]
    flat = x.reshape(-1, 1, x.shape[2], x.shape[3])
    k = torch.tensor(_TAPS, dtype=x.dtype, device=x.device) / 16.0
    y = F.conv2d(flat, k.view(1, 1, 5, 1), stride=(2, 1))
    y = F.conv2d(y, k.view(1, 1, 1, 5), stride=(1, 2))
    y = F.pad(y, (1, 1, 1, 1), mode="replicate")
    return y.reshape(-1, c, y.shape[2], y.shape[3])


def expand(coarse: torch.Tensor, height: int, width: int) -> torch.Tensor:
    """Upsample a coarse level to the fine size (height, width) it was reduced from."""
    c = coarse.shape[1]
    flat = coarse.reshape(-1, 1, coarse.shape[2], coarse.shape[3])
    k = torch.tensor(_TAPS, dtype=coarse.dtype, device=coarse.device) / 8.0
    y = F.conv_transpose2d(flat, k.view(1, 1, 5, 1), stride=(2, 1), padding=(2, 0))
    y = F.conv_transpose2d(y, k.view(1, 1, 1, 5), stride=(1, 2), padding=(0, 2))
    # darktable computes rows/columns 1 .. ((size−1) & ~1) − 1 and replicates the rest
    last_j = ((height - 1) & ~1) - 1
    last_i = ((width - 1) & ~1) - 1
    y = y[:, :, 1 : last_j + 1, 1 : last_i + 1]
    y = F.pad(y, (1, width - 1 - last_i, 1, height - 1 - last_j), mode="replicate")
    return y.reshape(-1, c, height, width)
