"""The server's work: the bounded queue policy calls wait in, and film-roll jobs; each photo goes through the
agent's one edit path (``agent.api.edit``, or for one look over a roll ``predict`` → ``consistent_plan`` →
``merge``)."""

from __future__ import annotations

import asyncio
import logging
import math
import secrets
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from agent import api

from .settings import Settings

log = logging.getLogger("retouchiq.server")
BATCH = 16  # photos per prediction pass of a consistent roll


class BadInput(api.UserError):
    """The request's content cannot be used (the message names the part and why): HTTP 400."""

    http_status = 400


class Busy(RuntimeError):
    """The queue is full: HTTP 503 with Retry-After."""

    def __init__(self, retry_after: int):
        super().__init__(f"the server is busy (queue full); retry in {retry_after} s")
        self.retry_after = retry_after


def edit_request(
    policy: api.Policy, data: bytes, instruction: str, sidecar: str | bytes | None, filename: str, settings: Settings
) -> dict:
    """One photo: its preview bytes, the instruction and its current sidecar → the agent's answer (reasoning,
    operations, the whole merged sidecar; nothing is written here)."""
    base = api.parse_sidecar(sidecar)
    preview = api.decode_preview(data, api.PREVIEW_SIDE, settings.max_preview_pixels)
    return api.edit(preview, instruction, base, filename, policy).to_json()


def undo_request(sidecar: str | bytes | None, backups: list[str | bytes]) -> dict:
    """The agent's last edit taken back: the photo's current sidecar and its backups (newest first) → the
    sidecar with its active history ending where it ended before that edit. A backup that cannot be read is
    passed over."""
    current = api.parse_sidecar(sidecar)
    if current is None:
        raise BadInput("sidecar: empty; send the photo's current sidecar")
    earlier = []
    for text in backups:
        try:
            parsed = api.parse_sidecar(text)
        except api.SidecarError:
            continue
        if parsed is not None:
            earlier.append(parsed)
    undone = api.undo(current, earlier)
    return {
        "summary": undone.summary,
        "undone": api.undone_items(undone.items),
        "backup_index": undone.before,
        "xmp": undone.text,
    }


def predict(policy: api.Policy, photos: list[RollPhoto], instruction: str, settings: Settings) -> dict[int, tuple]:
    """A consistent roll's first pass over a batch: {index: (prediction, sidecar)}; unusable photos fail here."""
    ready = {}
    for photo in photos:
        try:
            ready[photo.index] = (
                api.parse_sidecar(photo.sidecar),
                api.decode_preview(photo.data, api.PREVIEW_SIDE, settings.max_preview_pixels),
            )
        except api.UserError as exc:
            photo.state, photo.error = "failed", str(exc)
        photo.data = None
    preds = api.predict(policy, [image for _, image in ready.values()], instruction) if ready else []
    return {k: (pred, base) for (k, (base, _)), pred in zip(ready.items(), preds)}


class WorkQueue:
    """Admission with a bound, and a thread pool for the policy calls that were admitted.

    ``admit``/``release`` run on the event loop only, so the counters need no lock. A slot is held by one
    /v1/edit call from admission to answer, or by one roll from creation to its end.
    """

    def __init__(self, workers: int, bound: int):
        self.pool = ThreadPoolExecutor(workers, thread_name_prefix="retouchiq-policy")
        self.workers = workers
        self.bound = bound
        self.depth = 0
        self.peak = 0
        self.seconds = 0.5  # running mean of one policy call, for Retry-After

    def admit(self) -> None:
        if self.depth >= self.bound:
            raise Busy(self.retry_after())
        self.depth += 1
        self.peak = max(self.peak, self.depth)

    def release(self) -> None:
        self.depth -= 1

    def retry_after(self) -> int:
        return max(1, math.ceil(self.seconds * self.depth / self.workers))

    def _timed(self, fn, args):
        start = time.perf_counter()
        try:
            return fn(*args)
        finally:
            self.seconds = 0.8 * self.seconds + 0.2 * (time.perf_counter() - start)

    async def run(self, fn, *args):
        return await asyncio.get_running_loop().run_in_executor(self.pool, self._timed, fn, args)

    def close(self) -> None:
        self.pool.shutdown(wait=False, cancel_futures=True)


@dataclass
class RollPhoto:
    index: int
    filename: str
    data: bytes | None  # dropped once the photo is done, so a finished roll holds only text
    sidecar: str | bytes | None
    state: str = "queued"  # queued | done | failed | cancelled
    result: dict | None = None
    error: str | None = None

    def to_json(self) -> dict:
        out = {"index": self.index, "filename": self.filename, "state": self.state}
        if self.result:
            out.update(self.result)
        if self.error:
            out["error"] = self.error
        return out


@dataclass
class Roll:
    instruction: str
    consistent: bool
    photos: list[RollPhoto]
    id: str = field(default_factory=lambda: secrets.token_hex(8))
    state: str = "queued"  # queued | running | done | cancelled
    created: float = field(default_factory=time.time)
    finished: float | None = None
    cancel: bool = False
    task: asyncio.Task | None = None

    def to_json(self) -> dict:
        counts = {s: sum(p.state == s for p in self.photos) for s in ("done", "failed", "cancelled")}
        return {
            "id": self.id,
            "state": self.state,
            "instruction": self.instruction,
            "consistent": self.consistent,
            "total": len(self.photos),
            **counts,
            "created": self.created,
            "finished": self.finished,
            "photos": [p.to_json() for p in self.photos],
        }


async def _step(roll: Roll, photo: RollPhoto, work) -> None:
    """Await one photo's work and record how it went; one photo's failure never ends the roll."""
    try:
        photo.result, photo.state = await work, "done"
    except api.UserError as exc:
        photo.state, photo.error = "failed", str(exc)
    except Exception as exc:  # a bug: the log keeps the traceback, the client gets its one line
        log.exception("roll photo failed", extra={"roll": roll.id, "photo": photo.index})
        photo.state, photo.error = "failed", f"internal error: {type(exc).__name__}: {exc}"
    photo.data = None


async def _each(roll: Roll, queue: WorkQueue, policy: api.Policy, settings: Settings) -> None:
    for photo in roll.photos:
        if roll.cancel:
            return
        await _step(
            roll,
            photo,
            queue.run(edit_request, policy, photo.data, roll.instruction, photo.sidecar, photo.filename, settings),
        )


async def _consistent(roll: Roll, queue: WorkQueue, policy: api.Policy, settings: Settings) -> None:
    """agent.edit's one look for a roll: predictions for every frame first (in batches, so memory and
    cancelling stay bounded), then the shared style with per-frame exposure and white balance."""
    found: dict[int, tuple] = {}
    for start in range(0, len(roll.photos), BATCH):
        if roll.cancel:
            return
        batch = roll.photos[start : start + BATCH]
        try:
            found |= await queue.run(predict, policy, batch, roll.instruction, settings)
        except api.UserError as exc:
            for photo in batch:
                photo.state, photo.error = "failed", str(exc)
    order = sorted(found)
    names = [roll.photos[k].filename for k in order]
    plan = api.consistent_plan([found[k][0] for k in order], names) if order else []
    for k, framed in zip(order, plan):
        if roll.cancel:
            return
        photo, (pred, base) = roll.photos[k], found[k]
        await _step(roll, photo, queue.run(_shared_look, policy, pred, framed, roll.instruction, base, photo.filename))


def _shared_look(policy, pred, framed, instruction: str, base, filename: str) -> dict:
    return api.merge(api.consistent_result(policy, pred, framed, instruction), base, filename, instruction).to_json()


async def run_roll(roll: Roll, queue: WorkQueue, policy: api.Policy, settings: Settings) -> None:
    """Photos one after another through the shared pool (so single edits are not starved); the roll's queue
    slot is released at the end, whatever happens."""
    roll.state = "running"
    try:
        await (_consistent if roll.consistent else _each)(roll, queue, policy, settings)
    except Exception as exc:  # a bug outside one photo's step: the photos not yet done say so
        log.exception("roll failed", extra={"roll": roll.id})
        for photo in roll.photos:
            if photo.state == "queued":
                photo.state, photo.error = "failed", f"internal error: {type(exc).__name__}: {exc}"
    finally:
        for photo in roll.photos:
            if photo.state == "queued":
                photo.state, photo.data = "cancelled", None
        roll.state = "cancelled" if roll.cancel else "done"
        roll.finished = time.time()
        queue.release()
        log.info(
            "roll finished",
            extra={"roll": roll.id, "state": roll.state, "done": sum(p.state == "done" for p in roll.photos)},
        )


class Rolls:
    """Roll jobs by id; finished ones are kept for ``keep`` more rolls so clients can read their results."""

    def __init__(self, keep: int):
        self.keep = keep
        self.jobs: dict[str, Roll] = {}

    def add(self, roll: Roll) -> None:
        self.jobs[roll.id] = roll
        finished = [r for r in self.jobs.values() if r.finished is not None]
        for old in finished[: max(0, len(finished) - self.keep)]:
            del self.jobs[old.id]

    def get(self, roll_id: str) -> Roll | None:
        return self.jobs.get(roll_id)

    def pop(self, roll_id: str) -> Roll | None:
        return self.jobs.pop(roll_id, None)
