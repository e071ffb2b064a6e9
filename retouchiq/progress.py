"""The one progress bar of the command line: ``[#####.....] 12/40  3.1 s label`` on stderr, redrawn in place."""

from __future__ import annotations

import sys
import time


class Bar:
    """Call ``bar(done, total, label)`` as work advances; the line ends when ``done`` reaches ``total``."""

    width = 30

    def __init__(self, stream=None):
        self.stream = stream or sys.stderr
        self.start = time.time()

    def __call__(self, done: int, total: int, label: str = "") -> None:
        fill = self.width * done // max(total, 1)
        print(
            f"\r[{'#' * fill}{'.' * (self.width - fill)}] {done}/{total} {time.time() - self.start:6.1f} s "
            f"{str(label)[:40]:40s}",
            end="\n" if done >= total else "",
            file=self.stream,
            flush=True,
        )
