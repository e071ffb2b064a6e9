"""hazeremoval's quick-select replay: numpy (eager) = tensor graph (traced) = a plain loop transcription, and fast."""

import time

import numpy as np
import pytest
import torch

from darktable_bridge import fidelity
from darktable_bridge.render.modules import hazeremoval as H
from darktable_bridge.render.pipe import load_image

from conftest import SAMPLE


def reference(values, nth):
    """darktable 4.2.1's quick_select (hazeremoval.c) as a plain loop: the value it leaves at nth."""
    a = list(np.asarray(values))
    first, last = 0, len(a)
    while True:
        pv, p3 = first + (last - first) // 2, last - 1
        for i, j in ((first, pv), (first, p3), (pv, p3)):
            if not a[i] < a[j]:
                a[i], a[j] = a[j], a[i]
        a[pv], a[p3] = a[p3], a[pv]
        val, k = a[p3], first
        while k < p3 and a[k] < val:  # Lomuto: skip the leading smaller ones, then swap each smaller one forward
            k += 1
        for i in range(k + 1, p3):
            if a[i] < val:
                a[i], a[k] = a[k], a[i]
                k += 1
        a[pv], a[p3] = a[p3], a[pv]
        if nth == pv:
            return a[nth]
        if nth < pv:
            last = pv
        else:
            first = pv + 1


def graph(values, nth, count=None):
    count = values.size if count is None else count
    z = torch.zeros(1, 1, dtype=torch.long)
    return H.quick_select_graph(torch.from_numpy(values)[None], z, z + count, z + nth)[0, 0].numpy()


def bits(v):
    return np.float32(v).tobytes()


def arrays(rng, n):
    yield rng.random(n, dtype=np.float32)
    yield rng.integers(0, 4, n).astype(np.float32)  # many ties
    yield rng.integers(0, max(2, n // 8), n).astype(np.float32)
    yield np.sort(rng.random(n, dtype=np.float32))  # sorted either way
    yield np.sort(rng.random(n, dtype=np.float32))[::-1].copy()
    v = rng.integers(0, 5, n).astype(np.float32)  # NaN and signed zeros
    v[rng.random(n) < 0.1] = np.nan
    v[rng.random(n) < 0.2] = -0.0
    yield v


def ranks(rng, n):
    return sorted({0, n - 1, n // 2, int(np.float32(n) * np.float32(0.95)) if n > 1 else 0, int(rng.integers(0, n))})


def test_small_arrays_match_the_loop_and_the_graph():
    rng = np.random.default_rng(0)
    for n in list(range(1, 70)) + [97, 128, 255, 600]:
        for v in arrays(rng, n):
            for nth in ranks(rng, n):
                want = bits(reference(v, nth))
                assert bits(v[H.quick_select(v, nth)]) == want, (n, nth, v)
                assert bits(graph(v, nth)) == want, (n, nth, v)


def test_large_arrays_match_the_graph():
    rng = np.random.default_rng(1)
    for n in (4_099, 65_536, 250_001):
        for v in arrays(rng, n):
            for nth in ranks(rng, n):
                assert bits(v[H.quick_select(v, nth)]) == bits(graph(v, nth)), (n, nth)


@pytest.mark.parametrize("width", [97, 256])
def test_ambient_light_eager_equals_traced(width, tmp_path, monkeypatch):
    x = torch.from_numpy(load_image(fidelity.prepare_photo(SAMPLE, width, tmp_path)))[None] ** 2.2
    rng = torch.Generator().manual_seed(0)
    x = torch.cat([x, torch.rand(x.shape, generator=rng), (torch.rand(x.shape, generator=rng) * 4).round() / 4])
    with torch.no_grad():
        eager = H.ambient_light(x)
        monkeypatch.setattr(H, "_traced", lambda: True)
        traced = H.ambient_light(x)
    for e, t in zip(eager, traced):
        assert e.numpy().tobytes() == t.numpy().tobytes()


def test_selection_at_full_size_is_fast():
    rng = np.random.default_rng(2)
    v = (rng.random(1024 * 683, dtype=np.float32) * 256).round()
    t = time.perf_counter()
    H.quick_select(v, int(np.float32(v.size) * np.float32(0.95)))
    assert time.perf_counter() - t < 2.0  # ~0.1 s; the traced replay takes ~0.5 s, the old eager one the same
