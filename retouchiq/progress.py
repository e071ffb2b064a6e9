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
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self._shown = -1  # off a terminal (a log file): one line per tenth of the work

    def __call__(self, done: int, total: int, label: str = "") -> None:
        fill = self.width * done // max(total, 1)
        line = (
            f"[{'#' * fill}{'.' * (self.width - fill)}] {done}/{total} {time.time() - self.start:6.1f} s "
            f"{str(label)[:40]:40s}"
        )
        if self.tty:
            print("\r" + line, end="\n" if done >= total else "", file=self.stream, flush=True)
            return
        tenth = 10 * done // max(total, 1)
        if tenth != self._shown or done >= total:
            self._shown = tenth
            print(line.rstrip(), file=self.stream, flush=True)
