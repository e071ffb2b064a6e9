"""The HTTP API the darktable plugin talks to: ``create_app(settings)`` builds it around one loaded policy.

Policy calls are CPU work: they run in ``WorkQueue``'s thread pool behind an admission bound (503 with
Retry-After past it), so the event loop keeps answering health checks and roll polls while a photo is edited.
Every error is ``{"detail": "<one clear sentence>"}`` — the plugin shows it to the photographer as it is.
No ``from __future__ import annotations`` here: FastAPI reads the dependencies' annotations at run time, and
those of functions nested in ``create_app`` cannot be resolved from strings.
"""

import asyncio
import hmac
import json
import logging
import sys
import time
from contextlib import asynccontextmanager
from importlib import metadata
from typing import Annotated, Any, Literal

from fastapi import Depends, FastAPI, File, Form, Request, UploadFile
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.routing import APIRoute
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from fastapi.staticfiles import StaticFiles
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, Json
from starlette.datastructures import UploadFile as StarletteUpload  # what the form holds
from starlette.exceptions import HTTPException
from swagger_ui_bundle import swagger_ui_path

from agent import api
from agent.api import MAX_SIDECAR_BYTES as SIDECAR_BYTES

from .jobs import BadInput, Busy, Roll, RollPhoto, Rolls, WorkQueue, edit_request, run_roll, undo_request
from .settings import MB, Settings, is_loopback

log = logging.getLogger("retouchiq.server")
MAX_INSTRUCTION = 2000
MAX_UNDO_BACKUPS = 10  # what the plugin sends for one undo (xmp.files keeps 10 backups by default)


# -- logs --------------------------------------------------------------------------------------------------
# standard record fields, and uvicorn's terminal-coloured copy of its message
_PLAIN = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {
    "message",
    "asctime",
    "taskName",
    "color_message",
}


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message and the record's ``extra`` fields."""

    def format(self, record: logging.LogRecord) -> str:
        out = {
            "ts": round(record.created, 3),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        out.update({k: v for k, v in vars(record).items() if k not in _PLAIN})
        if record.exc_info:
            out["exc"] = self.formatException(record.exc_info)
        return json.dumps(out, default=str, ensure_ascii=False)


def configure_logging(level: str = "info") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    for name in ("retouchiq", "uvicorn", "uvicorn.error"):
        logger = logging.getLogger(name)
        logger.handlers[:] = [handler]
        logger.setLevel(level.upper())
        logger.propagate = False
    logging.getLogger("uvicorn.access").disabled = True  # AccessLog below writes one line per request


class AccessLog:
    """Pure ASGI (no body buffering): one log line per request with status and time."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        start, status = time.perf_counter(), [500]

        async def send_status(message):
            if message["type"] == "http.response.start":
                status[0] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_status)
        finally:
            log.info(
                "request",
                extra={
                    "method": scope["method"],
                    "path": scope["path"],
                    "status": status[0],
                    "ms": round(1000 * (time.perf_counter() - start), 1),
                    "client": (scope.get("client") or ["?"])[0],
                },
            )


class BodyLimit:
    """413 before a byte of an oversized body is read (Content-Length), or as soon as a streamed body passes the
    limit; uvicorn then discards the rest of the upload instead of buffering it."""

    def __init__(self, app, limits: dict[str, int], default: int):
        self.app, self.limits, self.default = app, limits, default

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        path = scope["path"]
        limit = next((v for k, v in self.limits.items() if path.startswith(k)), self.default)
        detail = f"request body too large: {path} accepts at most {limit / MB:g} MB"
        length = dict(scope["headers"]).get(b"content-length", b"")
        if length.isdigit() and int(length) > limit:
            return await JSONResponse({"detail": detail}, status_code=413)(scope, receive, send)
        seen = 0

        async def counted():
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > limit:
                raise HTTPException(413, detail)  # raised inside form parsing: FastAPI passes it to http_error
            return message

        await self.app(scope, counted, send)


def _host_name(value: str) -> str:
    """The name part of a Host header or an origin: "127.0.0.1:8765" → "127.0.0.1", "[::1]:8765" → "::1"."""
    value = value.strip().lower().split("://", 1)[-1].split("/", 1)[0]
    if value.startswith("["):
        return value[1 : value.find("]")] if "]" in value else value
    return value.rsplit(":", 1)[0] if value.count(":") == 1 else value


PUBLIC = {"/openapi.json", "/docs"}  # the API's description is no secret
DOCS_ASSETS = "/docs/assets"  # Swagger UI's scripts and styles, from the swagger-ui-bundle package (offline)


def _public(path: str) -> bool:
    return path in PUBLIC or path.startswith(DOCS_ASSETS + "/")


class Guard:
    """Who may talk to the server, decided before a byte of the body is read.

    A loopback server takes only requests addressed to a loopback name (``Host``), and none that a web page sent
    (an ``Origin`` that is not a loopback one): otherwise a page on any site could point a DNS name at 127.0.0.1
    and drive the token-less server from the photographer's browser (DNS rebinding). With a token, the token is
    checked here, so an unauthenticated upload is refused without being received."""

    def __init__(self, app, settings: Settings):
        self.app, self.token, self.loopback = app, settings.token, is_loopback(settings.host)

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        refuse = None
        if self.loopback and not is_loopback(_host_name(headers.get("host", "127.0.0.1"))):
            refuse = (
                403,
                f"Host {headers.get('host')!r} is not this loopback server's address; refused (a web "
                "page cannot reach the server through a DNS name)",
            )
        elif "origin" in headers and not is_loopback(_host_name(headers["origin"])):
            refuse = (403, f"requests from web pages are refused (Origin {headers['origin']!r})")
        elif self.token is not None and not _public(scope["path"]):
            scheme, _, given = headers.get("authorization", "").partition(" ")
            if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(), self.token.encode()):
                refuse = (401, "missing or wrong token: send 'Authorization: Bearer <token>'")
        if refuse is None:
            return await self.app(scope, receive, send)
        extra = {"WWW-Authenticate": "Bearer"} if refuse[0] == 401 else {}
        response = JSONResponse({"detail": refuse[1]}, status_code=refuse[0], headers=extra)
        await response(scope, receive, send)


# -- models ------------------------------------------------------------------------------------------------
def check_filename(name: str) -> str:
    """The photo's file name only: it names the sidecar's source, never a path the server touches."""
    if not name or name in (".", "..") or "/" in name or "\\" in name or ".." in name or any(ord(c) < 32 for c in name):
        raise ValueError(f"{name!r} must be a plain file name like 'IMG_1234.CR2' (no folders, no '..')")
    return name


FileName = Annotated[str, Field(max_length=255), AfterValidator(check_filename)]


class EditOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")
    policy: str | None = Field(None, description="must name the policy the server runs, if given")
    filename: FileName | None = Field(
        None,
        description="the photo's file name (e.g. IMG_1.CR2): decides the module "
        "order of a new sidecar; default preview.jpg",
    )


class RollOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")
    policy: str | None = Field(None, description="must name the policy the server runs, if given")
    filenames: list[FileName] | None = Field(
        None, description="one file name per preview, in order; default preview.jpg each"
    )


class Error(BaseModel):
    detail: str


class EditResponse(BaseModel):
    reasoning: str = Field(description="what the agent saw and did, with the measurements behind it")
    summary: str = Field(description="the same in a photographer's words, without the measurements")
    operations: list[dict[str, Any]] = Field(description="the action format of docs/architecture.md (see /v1/ops)")
    xmp: str | None = Field(
        description="the photo's whole sidecar with the edit merged in; write it after a "
        "backup. null: the edit changes nothing, leave the sidecar as it is"
    )


class UndoResponse(BaseModel):
    summary: str = Field(description="what was taken back, in darktable's module names")
    undone: list[dict[str, str]] = Field(description="the history items made inactive: {module, instance}")
    backup_index: int | None = Field(
        description="which of the backups sent shows the state brought back (0: the first); null: the photo "
        "had no sidecar before the agent's first edit"
    )
    xmp: str = Field(description="the photo's whole sidecar, its active history ending before the agent's last edit")


class Health(BaseModel):
    status: Literal["ok"]
    policy: str
    version: str
    queue_depth: int
    queue_bound: int
    queue_peak: int
    workers: int
    rolls_active: int


class RollPhotoStatus(BaseModel):
    index: int
    filename: str
    state: Literal["queued", "done", "failed", "cancelled"]
    reasoning: str | None = None
    summary: str | None = None
    operations: list[dict[str, Any]] | None = None
    xmp: str | None = None
    error: str | None = None


class RollStatus(BaseModel):
    id: str
    state: Literal["queued", "running", "done", "cancelled"]
    instruction: str
    consistent: bool
    total: int
    done: int
    failed: int
    cancelled: int
    created: float
    finished: float | None
    photos: list[RollPhotoStatus]


ERRORS = {
    400: {"model": Error, "description": "unusable input (image, sidecar)"},
    401: {"model": Error, "description": "missing or wrong token"},
    413: {"model": Error, "description": "request body over the limit"},
    422: {"model": Error, "description": "invalid field, or the policy could not produce a valid edit"},
    503: {"model": Error, "description": "queue full: retry after the Retry-After header's seconds"},
}


# -- app ---------------------------------------------------------------------------------------------------
async def _sidecar(part: UploadFile | str | None) -> bytes | str | None:
    # one byte past the limit is enough for Sidecar.parse to refuse an oversized file with its own message
    return await part.read(SIDECAR_BYTES + 1) if isinstance(part, StarletteUpload) else part


def create_app(settings: Settings, policy: api.Policy | None = None) -> FastAPI:
    """The API around ``policy`` (default: ``load_policy(settings.policy)``, loaded here, once)."""
    policy = policy if policy is not None else api.load_policy(settings.policy)
    names = {settings.policy, getattr(policy, "name", settings.policy)}
    queue = WorkQueue(settings.workers, settings.max_queue)
    rolls = Rolls(settings.kept_rolls)
    version = metadata.version("retouchiq")

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        log.info(
            "ready",
            extra={
                "policy": settings.policy,
                "host": settings.host,
                "port": settings.port,
                "workers": settings.workers,
                "max_queue": settings.max_queue,
            },
        )
        yield
        for roll in rolls.jobs.values():
            roll.cancel = True
        queue.close()

    app = FastAPI(
        title="RetouchIQ",
        version=version,
        lifespan=lifespan,
        description='Instructions → darktable history items, for the darktable plugin. Errors are `{"detail": "..."}`.',
        docs_url=None,  # served below from local files: FastAPI's own page loads Swagger UI from a CDN
        redoc_url=None,
    )
    app.mount(DOCS_ASSETS, StaticFiles(directory=swagger_ui_path), name="docs-assets")

    @app.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url="/openapi.json",
            title="RetouchIQ API",
            swagger_js_url=f"{DOCS_ASSETS}/swagger-ui-bundle.js",
            swagger_css_url=f"{DOCS_ASSETS}/swagger-ui.css",
            swagger_favicon_url=f"{DOCS_ASSETS}/favicon-32x32.png",
        )

    app.state.queue = queue
    app.add_middleware(BodyLimit, limits={"/v1/rolls": settings.max_roll_bytes}, default=settings.max_edit_bytes)
    app.add_middleware(Guard, settings=settings)
    app.add_middleware(AccessLog)
    bearer = HTTPBearer(auto_error=False, description="required when the server runs with a token")

    def authorized(creds: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]) -> None:
        """Names the Bearer scheme in the API's description; the token itself is checked by ``Guard``, for every
        path but the public ones, before the body is read."""

    async def slot():
        """One place in the bounded queue for the length of the request."""
        queue.admit()
        try:
            yield
        finally:
            queue.release()

    def check_policy(name: str | None) -> None:
        if name is not None and name not in names:
            raise api.PolicyError(
                f"this server runs the '{settings.policy}' policy, not '{name}' (restart it with "
                f"`retouchiq serve --policy {name}`)"
            )

    @app.exception_handler(api.UserError)
    async def user_error(request: Request, exc: api.UserError):
        return JSONResponse({"detail": str(exc)}, status_code=exc.http_status)

    @app.exception_handler(Busy)
    async def busy(request: Request, exc: Busy):
        return JSONResponse({"detail": str(exc)}, status_code=503, headers={"Retry-After": str(exc.retry_after)})

    @app.exception_handler(Exception)
    async def bug(request: Request, exc: Exception):
        log.error("internal error", exc_info=exc, extra={"path": request.url.path})
        return JSONResponse({"detail": f"internal error: {type(exc).__name__}: {exc}"}, status_code=500)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError):
        def where(loc) -> str:
            return ".".join(str(p) for p in loc if p != "body") or "body"

        text = "; ".join(f"{where(e['loc'])}: {e['msg'].removeprefix('Value error, ')}" for e in exc.errors())
        return JSONResponse({"detail": text}, status_code=422)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException):
        headers = exc.headers
        if exc.status_code == 405:  # Starlette lists the first route's methods only; a path has several routes
            path = request.url.path
            allowed = {m for r in app.routes if isinstance(r, APIRoute) and r.path_regex.match(path) for m in r.methods}
            headers = {"Allow": ", ".join(sorted(allowed))}
        return JSONResponse({"detail": str(exc.detail)}, status_code=exc.status_code, headers=headers)

    auth = [Depends(authorized)]
    form_limits = {"max_part_size": SIDECAR_BYTES}

    @app.get("/v1/health", response_model=Health, dependencies=auth, responses={401: ERRORS[401]})
    async def health() -> Health:
        return Health(
            status="ok",
            policy=settings.policy,
            version=version,
            queue_depth=queue.depth,
            queue_bound=queue.bound,
            queue_peak=queue.peak,
            workers=queue.workers,
            rolls_active=sum(r.finished is None for r in rolls.jobs.values()),
        )

    @app.get(
        "/v1/ops",
        dependencies=auth,
        responses={401: ERRORS[401]},
        summary="the vocabulary (modules, fields, ranges) as JSON Schema",
    )
    async def ops() -> dict[str, Any]:
        return api.operations_schema()

    @app.post(
        "/v1/edit",
        response_model=EditResponse,
        dependencies=auth,
        responses=ERRORS,
        form_limits=form_limits,
        summary="edit one photo: its preview + an instruction → operations and the merged sidecar",
    )
    async def edit(
        preview: Annotated[UploadFile, File(description="JPEG or PNG preview, long side ~1024")],
        instruction: Annotated[str, Form(max_length=MAX_INSTRUCTION)],
        sidecar: Annotated[
            UploadFile | str | None,
            Form(
                description="the photo's current XMP sidecar: text (curl -F 'sidecar=<X.xmp') or a file "
                "(-F sidecar=@X.xmp)"
            ),
        ] = None,
        options: Annotated[Json[EditOptions] | None, Form(description="JSON: {policy?, filename?}")] = None,
        _slot: None = Depends(slot),
    ) -> EditResponse:
        text = api.instruction(instruction)
        options = options or EditOptions()
        check_policy(options.policy)
        data = await preview.read()
        out = await queue.run(
            edit_request, policy, data, text, await _sidecar(sidecar), options.filename or "preview.jpg", settings
        )
        return EditResponse(**out)

    @app.post(
        "/v1/undo",
        response_model=UndoResponse,
        dependencies=auth,
        responses=ERRORS | {409: {"model": Error, "description": "no edit of the agent's to take back"}},
        form_limits=form_limits | {"max_files": MAX_UNDO_BACKUPS + 1},
        summary="take the agent's last edit back: the current sidecar and its backups → the sidecar as before",
    )
    async def undo(
        sidecar: Annotated[UploadFile | str, Form(description="the photo's current sidecar (text or file)")],
        backups: Annotated[
            list[UploadFile | str] | None,
            Form(description=f"its backups (NAME.xmp.retouchiq-*.bak), newest first, at most {MAX_UNDO_BACKUPS}"),
        ] = None,
    ) -> UndoResponse:
        if backups is not None and len(backups) > MAX_UNDO_BACKUPS:
            raise BadInput(f"backups: {len(backups)} sent, at most {MAX_UNDO_BACKUPS} are compared; send the newest")
        texts = [await _sidecar(b) for b in backups or []]
        return UndoResponse(**undo_request(await _sidecar(sidecar), texts))

    @app.post(
        "/v1/rolls",
        response_model=RollStatus,
        status_code=202,
        dependencies=auth,
        responses=ERRORS,
        form_limits=form_limits | {"max_files": settings.max_roll_photos},
        summary="start a film-roll job: many previews, one instruction; poll GET /v1/rolls/{id}",
    )
    async def create_roll(
        previews: Annotated[list[UploadFile], File(description="JPEG or PNG previews")],
        instruction: Annotated[str, Form(max_length=MAX_INSTRUCTION)],
        consistent: Annotated[bool, Form(description="one look for the whole roll")] = False,
        sidecars: Annotated[
            list[UploadFile | str] | None,
            Form(description="current sidecars (text or file), one per preview in order ('' for none)"),
        ] = None,
        options: Annotated[Json[RollOptions] | None, Form(description="JSON: {policy?, filenames?}")] = None,
    ) -> RollStatus:
        text = api.instruction(instruction)
        options = options or RollOptions()
        check_policy(options.policy)
        if consistent:
            api.require_shared(policy)
        n = len(previews)
        if n > settings.max_roll_photos:
            raise BadInput(f"previews: {n} photos, more than the {settings.max_roll_photos} a roll may hold")
        for what, given in (("sidecars", sidecars), ("options.filenames", options.filenames)):
            if given is not None and len(given) != n:
                raise BadInput(f"{what}: {len(given)} given for {n} previews; send one per preview, in order")
        names = options.filenames or ["preview.jpg"] * n
        photos = [
            RollPhoto(i, names[i], await p.read(), await _sidecar((sidecars or [None] * n)[i]))
            for i, p in enumerate(previews)
        ]
        queue.admit()  # after reading: a roll holds its slot from here until run_roll ends
        roll = Roll(text, consistent, photos)
        rolls.add(roll)
        roll.task = asyncio.create_task(run_roll(roll, queue, policy, settings))
        log.info("roll created", extra={"roll": roll.id, "photos": n, "consistent": consistent})
        return RollStatus(**roll.to_json())

    def find(roll_id: str) -> Roll:
        roll = rolls.get(roll_id)
        if roll is None:
            raise HTTPException(
                404,
                f"no roll '{roll_id}' (finished rolls are forgotten after "
                f"{settings.kept_rolls} newer ones, or when deleted)",
            )
        return roll

    @app.get(
        "/v1/rolls/{roll_id}",
        response_model=RollStatus,
        dependencies=auth,
        responses={401: ERRORS[401], 404: {"model": Error}},
    )
    async def roll_status(roll_id: str) -> RollStatus:
        return RollStatus(**find(roll_id).to_json())

    @app.delete(
        "/v1/rolls/{roll_id}",
        response_model=RollStatus,
        dependencies=auth,
        responses={401: ERRORS[401], 404: {"model": Error}},
        summary="cancel a roll (the photo being edited finishes) and forget it; returns its last status",
    )
    async def cancel_roll(roll_id: str) -> RollStatus:
        roll = find(roll_id)
        roll.cancel = True
        if roll.task is not None:
            await asyncio.wait({roll.task})
        rolls.pop(roll_id)
        return RollStatus(**roll.to_json())

    return app
