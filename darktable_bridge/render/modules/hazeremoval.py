"""hazeremoval v1 (src/iop/hazeremoval.c), "haze removal": dark-channel dehazing (He, Sun & Tang).

Dark channel = per-pixel min of R, G, B, then a 13×13 box minimum (window radius 6 px at scale 1, truncated at
the borders). The ambient light A0 is the mean colour of the brightest pixels (by R+G+B) among the haziest ones;
darktable picks both thresholds with its own quick-select at the 95 % positions, which is not an exact selection
(the pivot goes back to the middle of the range instead of the partition point), so the thresholds are whatever
element that procedure leaves there. It is replayed here step for step (same pivots, same Lomuto partition
permutation, in pixel order), since the exact 95 % order statistics often differ a lot from what darktable
uses: with numpy on the CPU in eager runs (``quick_select``), as tensor operations in traced graphs (ONNX
export, torch.compile: ``quick_select_graph``, same values, several times slower). The transmission
1 − strength·min_c(I_c/A0_c) is box-maxed, then box-mined (radius 6), refined by the colour guided filter
(src/common/guided_filter.c, radius 9, eps 0.025, truncated-window box means; its 512 px tiles overlap enough to
be exact) and floored at exp(−distance·distance_max); out = (I − A0)/t + A0.

Windows are in pixels, so the result depends on the resolution, as darktable's v1 does. The selection reacts
to the last bits of the input (a different comparison with a pivot changes every later step), so A0 and
distance_max only match darktable when the module's input matches darktable's working-space values to ~1e-6.
"""

import numpy as np
import torch
import torch.nn.functional as F

from ..base import Context, Params, RenderModule

W_DARK = 6  # box radius of the dark channel and the transmission refinement
W_GUIDE = 9  # guided filter radius
EPS = float(np.float32(np.sqrt(np.float32(0.025))) ** 2)  # darktable passes sqrtf(0.025f) and squares it again
QUANTILE = np.float32(0.95)
FLT_MAX = float(np.finfo(np.float32).max)


def box_max(x: torch.Tensor, r: int) -> torch.Tensor:
    """Moving maximum over a (2r+1)² window, the window cut at the image borders."""
    return F.max_pool2d(x, 2 * r + 1, stride=1, padding=r)


def box_min(x: torch.Tensor, r: int) -> torch.Tensor:
    return -F.max_pool2d(-x, 2 * r + 1, stride=1, padding=r)


def box_mean(x: torch.Tensor, r: int) -> torch.Tensor:
    """Mean over the part of the (2r+1)² window inside the image (darktable divides by the hits)."""
    return F.avg_pool2d(x, 2 * r + 1, stride=1, padding=r, count_include_pad=False)


def _take(a: torch.Tensor, pos: torch.Tensor) -> torch.Tensor:
    return torch.gather(a, 1, pos)


def _put(a: torch.Tensor, idx: torch.Tensor, pos: torch.Tensor, val: torch.Tensor) -> torch.Tensor:
    return torch.where(idx == pos, val, a)


def _partition_sources(a, idx, f, e, piv, steps):
    """Where each slot of [f, e) takes its element from after darktable's one-pass (Lomuto) partition around piv.

    Elements below piv keep their order at the front. The others form a queue: each one joins at the tail, and
    each smaller element met once the queue is non-empty sends the queue's head to its tail. The queue's history
    is a sequence T in which the j-th such rotation appends a copy of T[j]; its last K entries (K = queue size)
    are the final order. Copies are resolved to elements by pointer doubling."""
    n = a.shape[1]
    one = torch.ones_like(a, dtype=torch.long)
    inr = (idx >= f) & (idx < e)
    less = inr & (a < piv)
    big = inr & ~less
    less_l, big_l = less.long(), big.long()
    less_before = torch.cumsum(less_l, 1) - less_l
    big_before = torch.cumsum(big_l, 1) - big_l
    rot = less & (big_before > 0)
    rot_l = rot.long()
    rot_before = torch.cumsum(rot_l, 1) - rot_l
    n_less = less_l.sum(1, keepdim=True)
    n_rot = rot_l.sum(1, keepdim=True)
    dump = torch.full_like(idx.expand_as(a), n)
    # T: entry t is (terminal, element index) for a queued element, (not terminal, j) for a copy of T[j]
    event = big | rot
    slot = torch.where(event, big_before + rot_before, dump)
    rows = a.shape[0]
    t_val = torch.zeros(rows, n + 1, dtype=torch.long, device=a.device)
    t_val = t_val.scatter(1, slot, torch.where(big, idx * one, rot_before))
    t_term = torch.ones(rows, n + 1, dtype=torch.bool, device=a.device).scatter(1, slot, big)
    t_val, t_term = t_val[:, :n], t_term[:, :n]
    for _ in range(steps):
        ptr = t_val.clamp(0, n - 1)
        nv, nt = torch.gather(t_val, 1, ptr), torch.gather(t_term, 1, ptr)
        t_val = torch.where(t_term, t_val, nv)
        t_term = t_term | nt
    # the smaller elements, in order, at the front
    lpos = torch.where(less, f + less_before, dump)
    lsrc = torch.zeros(rows, n + 1, dtype=torch.long, device=a.device).scatter(1, lpos, idx * one)[:, :n]
    front = inr & (idx < f + n_less)
    back = inr & ~front
    qsrc = torch.gather(t_val, 1, (n_rot + idx - f - n_less).clamp(0, n - 1))
    return torch.where(front, lsrc, torch.where(back, qsrc, idx * one))


def quick_select_graph(a: torch.Tensor, first: torch.Tensor, last: torch.Tensor, nth: torch.Tensor) -> torch.Tensor:
    """``quick_select`` as tensor operations, for traced graphs (ONNX export, torch.compile): the value left at
    nth of the range [first, last), all rows at once. a: [N, n]; first, last, nth: [N, 1] long, last > first.
    Elements left outside the range are never touched again, so each step works on a window of the range's
    largest possible size (halved every step). Same values as ``quick_select``, several times slower."""
    n = int(a.shape[1])
    width, win = n, a  # first, last, nth are positions in the window win from here on
    for _ in range(n.bit_length() + 1):
        idx = torch.arange(width, device=a.device).view(1, width)
        size = last - first
        p1, pv, p3 = first, first + size // 2, last - 1
        c1, c2, c3 = _take(win, p1), _take(win, pv), _take(win, p3)
        v1, v2, v3 = c1, c2, c3
        s = ~(v1 < v2)
        v1, v2 = torch.where(s, v2, v1), torch.where(s, v1, v2)
        s = ~(v1 < v3)
        v1, v3 = torch.where(s, v3, v1), torch.where(s, v1, v3)
        s = ~(v2 < v3)
        v2, v3 = torch.where(s, v3, v2), torch.where(s, v2, v3)
        # two cells (the middle is the last one): swapped when the second is smaller (twice otherwise: a tie or a
        # NaN stays put); one cell: untouched
        two = size == 2
        sw = c2 < c1
        v1 = torch.where(two, torch.where(sw, c2, c1), v1)
        v2 = torch.where(two, torch.where(sw, c1, c2), v2)
        v3 = torch.where(two, v2, v3)
        small = size < 2
        v1, v2, v3 = torch.where(small, c1, v1), torch.where(small, c1, v2), torch.where(small, c1, v3)
        # the median goes to the end while partitioning: the max sits at the middle meanwhile
        b = _put(win, idx, p1, v1)
        b = _put(b, idx, pv, v3)
        b = _put(b, idx, p3, v2)
        b = torch.gather(b, 1, _partition_sources(b, idx, first, p3, v2, width.bit_length()))
        # the median back to the middle, whatever the partition left there to the end
        w = _take(b, pv)
        b = _put(b, idx, p3, w)
        b = _put(b, idx, pv, v2)
        hit = nth == pv
        first_new = torch.where(hit, nth, torch.where(nth > pv, pv + 1, first))
        last_new = torch.where(hit, nth + 1, torch.where(nth < pv, pv, last))
        # the next window starts at the new range
        width_new = max(width // 2, 1)
        shift = first_new
        win = torch.gather(b, 1, (shift + torch.arange(width_new, device=a.device).view(1, -1)).clamp(max=width - 1))
        first, last, nth = first_new - shift, last_new - shift, nth - shift
        width = width_new
    return _take(win, nth)


def _lomuto_order(less: np.ndarray) -> np.ndarray | None:
    """The order (positions in the segment) that darktable's one-pass partition leaves, given which elements of
    the segment are below the pivot; None where it moves nothing.

    The leading smaller elements stay. From the first other one on, the smaller elements are packed behind them in
    order, and the others form a queue (see ``_partition_sources``): entry t of the queue's history T is the
    element at t (counted from that first other one) when that is not smaller, else a copy of T[j] for the j-th
    smaller element; the final queue is T's last entries. Copies are resolved by pointer doubling."""
    big = ~less
    if not big.any():
        return None
    k0 = int(np.argmax(big))
    tail = less[k0:]
    m = tail.size
    n_rot = int(np.count_nonzero(tail))
    if n_rot == 0:
        return None
    ptr = np.arange(m)
    ptr[tail] = np.arange(n_rot)
    term = ~tail
    while not term[ptr].all():
        ptr = ptr[ptr]
    return np.concatenate([np.arange(k0), k0 + np.flatnonzero(tail), k0 + ptr[n_rot:]])


def quick_select(values: np.ndarray, nth: int) -> int:
    """Where (index into values) the element comes from that darktable's quick_select (hazeremoval.c) leaves at
    nth of the whole of values (1-D).

    It is not an exact selection: the median-of-three pivot is put back at the middle of the range rather than
    at the partition point, and the range is then halved around that middle, so the result is an element near
    the requested rank whose choice depends on the pixel order. Replayed step by step with the same comparisons
    (NaN included), each partition pass vectorized (``_lomuto_order``)."""
    a = np.array(values, copy=True)
    ix = np.arange(a.size)
    first, last = 0, a.size

    def swap(i, j):
        a[i], a[j] = a[j], a[i]
        ix[i], ix[j] = ix[j], ix[i]

    while True:
        pv, p3 = first + (last - first) // 2, last - 1
        if not a[first] < a[pv]:
            swap(first, pv)
        if not a[first] < a[p3]:
            swap(first, p3)
        if not a[pv] < a[p3]:
            swap(pv, p3)
        swap(pv, p3)  # the median to the end while partitioning [first, last - 1)
        order = _lomuto_order(a[first:p3] < a[p3])
        if order is not None:
            a[first:p3] = a[first:p3][order]
            ix[first:p3] = ix[first:p3][order]
        swap(p3, pv)  # and back to the middle
        if nth == pv:
            return int(ix[nth])
        if nth < pv:
            last = pv
        else:
            first = pv + 1


def _numpy(t: torch.Tensor) -> np.ndarray:
    """The values on the CPU; half types widened (exactly, so every comparison stays the same)."""
    t = t.detach().cpu()
    return (t if t.dtype in (torch.float32, torch.float64) else t.float()).numpy()


def _traced() -> bool:
    return torch.onnx.is_in_onnx_export() or torch.jit.is_tracing() or torch.compiler.is_compiling()


def ambient_light(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """A0 [N, 3] and the maximal depth [N] (−1.125·ln of the critical dark-channel level)."""
    n = x.shape[0]
    size = int(x.shape[2]) * int(x.shape[3])  # the graph is built per image size
    r, g, b = x[:, 0], x[:, 1], x[:, 2]
    dark = box_min(torch.minimum(torch.minimum(r, g), b).unsqueeze(1), W_DARK).reshape(n, size)
    zero = torch.zeros(n, 1, dtype=torch.long, device=x.device)
    p = int(np.float32(size) * QUANTILE)  # darktable: (size_t)(size * 0.95f), the product in float
    bright = ((r + g) + b).reshape(n, size)
    if _traced():
        crit_haze = quick_select_graph(dark, zero, zero + size, zero + p)
        hazy = dark >= crit_haze
        count = hazy.long().sum(1, keepdim=True)
        # the hazy pixels' brightness packed to the front, in pixel order
        pos = torch.where(hazy, torch.cumsum(hazy.long(), 1) - 1, torch.full_like(dark, size, dtype=torch.long))
        packed = torch.zeros(n, size + 1, dtype=x.dtype, device=x.device).scatter(1, pos, bright)[:, :size]
        p2 = torch.floor(count.to(x.dtype) * float(QUANTILE)).long()
        crit_bright = quick_select_graph(packed, zero, count, p2)
    else:
        # the selections on the CPU, per image; the thresholds are taken from the tensors at the chosen pixels
        dark_np = _numpy(dark)
        haze_at = [quick_select(row, p) for row in dark_np]
        crit_haze = torch.gather(dark, 1, torch.tensor(haze_at, device=x.device).view(n, 1))
        hazy = dark >= crit_haze
        count = hazy.long().sum(1, keepdim=True)
        p2 = torch.floor(count.to(x.dtype) * float(QUANTILE)).long().view(-1).tolist()
        hazy_np = hazy.cpu().numpy()
        bright_np = _numpy(bright)
        bright_at = []
        for i in range(n):
            where = np.flatnonzero(hazy_np[i])  # the hazy pixels' brightness packed to the front, in pixel order
            bright_at.append(int(where[quick_select(bright_np[i, where], p2[i])]))
        crit_bright = torch.gather(bright, 1, torch.tensor(bright_at, device=x.device).view(n, 1))
    chosen = (hazy & (bright >= crit_bright)).to(x.dtype)
    total = chosen.sum(1)
    sums = (x.reshape(n, 3, size) * chosen.unsqueeze(1)).sum(2)
    a0 = torch.where(total.unsqueeze(1) > 0, sums / total.clamp(min=1).unsqueeze(1), torch.zeros_like(sums))
    ch = crit_haze[:, 0]
    depth = torch.where(
        ch > 0,
        -1.125 * torch.log(torch.where(ch > 0, ch, torch.ones_like(ch))),
        torch.full_like(ch, float(np.log(np.float32(FLT_MAX)) / 2)),
    )
    return a0, depth


def guided_filter(guide: torch.Tensor, inp: torch.Tensor, r: int, eps: float) -> torch.Tensor:
    """Colour guided filter: guide [N, 3, H, W], input [N, 1, H, W]; 3×3 systems solved by Cramer's rule."""
    gr, gg, gb = guide[:, 0:1], guide[:, 1:2], guide[:, 2:3]
    stack = torch.cat(
        [inp, gr, gg, gb, gr * inp, gg * inp, gb * inp, gr * gr, gr * gg, gr * gb, gg * gg, gg * gb, gb * gb], 1
    )
    m = box_mean(stack, r)
    mi, mr, mg, mb = m[:, 0:1], m[:, 1:2], m[:, 2:3], m[:, 3:4]
    s00 = m[:, 7:8] - mr * mr + eps
    s01 = m[:, 8:9] - mr * mg
    s02 = m[:, 9:10] - mr * mb
    s11 = m[:, 10:11] - mg * mg + eps
    s12 = m[:, 11:12] - mg * mb
    s22 = m[:, 12:13] - mb * mb + eps
    cr = m[:, 4:5] - mr * mi
    cg = m[:, 5:6] - mg * mi
    cb = m[:, 6:7] - mb * mi
    det0 = s00 * (s11 * s22 - s12 * s12) - s01 * (s01 * s22 - s02 * s12) + s02 * (s01 * s12 - s02 * s11)
    det1 = cr * (s11 * s22 - s12 * s12) - s01 * (cg * s22 - cb * s12) + s02 * (cg * s12 - cb * s11)
    det2 = s00 * (cg * s22 - cb * s12) - cr * (s01 * s22 - s02 * s12) + s02 * (s01 * cb - s02 * cg)
    det3 = s00 * (s11 * cb - s12 * cg) - s01 * (s01 * cb - s02 * cg) + cr * (s01 * s12 - s02 * s11)
    ok = det0.abs() > 4.0 * float(np.finfo(np.float32).eps)
    safe = torch.where(ok, det0, torch.ones_like(det0))
    zero = torch.zeros_like(det0)
    ar = torch.where(ok, det1 / safe, zero)
    ag = torch.where(ok, det2 / safe, zero)
    ab = torch.where(ok, det3 / safe, zero)
    bb = mi - ar * mr - ag * mg - ab * mb
    coef = box_mean(torch.cat([ar, ag, ab, bb], 1), r)
    return (coef[:, 0:1] * gr + coef[:, 1:2] * gg + coef[:, 2:3] * gb) + coef[:, 3:4]


class HazeRemoval(RenderModule):
    op = "hazeremoval"
    space = "rgb"
    static_fields = ()

    def process(self, x: torch.Tensor, p: Params, ctx: Context) -> torch.Tensor:
        col = lambda t: t.view(-1, 1, 1, 1)
        strength, distance = col(p["strength"]), col(p["distance"])
        a0, depth = ambient_light(x)
        a0 = a0.view(-1, 3, 1, 1)
        ratio = x / a0
        m = torch.minimum(torch.minimum(ratio[:, 0:1], ratio[:, 1:2]), ratio[:, 2:3])
        trans = box_min(box_max(1.0 - m * strength, W_DARK), W_DARK)
        trans = guided_filter(x, trans, W_GUIDE, EPS)
        t_min = torch.exp(-distance * col(depth)).clamp(min=1.0 / 1024).clamp(max=1.0)
        t = torch.maximum(trans, t_min)
        return (x - a0) / t + a0


MODULE = HazeRemoval()
