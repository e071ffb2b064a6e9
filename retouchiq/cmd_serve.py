"""``retouchiq serve``: the local server for the darktable plugin."""

from __future__ import annotations

import argparse
import os
import sys

from server.settings import Settings, SettingsError

EPILOG = """examples:
  retouchiq serve                                   # http://127.0.0.1:8765, compact policy; docs at /docs
  retouchiq serve --policy rules --max-queue 4
  RETOUCHIQ_TOKEN=$(python -c 'import secrets; print(secrets.token_urlsafe())') \\
      retouchiq serve --host 0.0.0.0                # other machines: a Bearer token is required
"""


def _port_taken(host: str, port: int) -> str | None:
    """Why ``host:port`` cannot be listened on (e.g. 'the address is in use'), or None: checked before the policy
    loads and the server says it is ready, so a busy port is one line and no start-up."""
    import errno
    import socket

    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        return f"unknown host ({exc.strerror})"
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds
        try:
            probe.bind(address)
        except OSError as exc:
            return "the address is in use" if exc.errno == errno.EADDRINUSE else (exc.strerror or str(exc)).lower()
    return None


def _cmd_serve(args) -> int:
    import uvicorn

    from server.app import configure_logging, create_app

    try:
        settings = Settings(
            host=args.host,
            port=args.port,
            policy=args.policy,
            token=args.token or os.environ.get("RETOUCHIQ_TOKEN") or None,
            max_queue=args.max_queue,
            workers=args.workers,
        )
    except SettingsError as exc:
        print(f"retouchiq: error: {exc}", file=sys.stderr)
        return 2
    busy = _port_taken(settings.host, settings.port)
    if busy:
        print(
            f"retouchiq: error: cannot listen on {settings.host}:{settings.port}: {busy} "
            "(is another 'retouchiq serve' running? choose another --port)",
            file=sys.stderr,
        )
        return 2
    configure_logging(args.log_level)
    app = create_app(settings)
    uvicorn.run(
        app,
        host=settings.host,
        port=settings.port,
        log_config=None,
        access_log=False,
        log_level=args.log_level,
        timeout_graceful_shutdown=5,
    )
    return 0


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "serve",
        help="run the local HTTP server the darktable plugin talks to",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=EPILOG,
        description="Load the policy once and answer /v1/edit, /v1/rolls, /v1/health and "
        "/v1/ops (OpenAPI at /openapi.json, docs at /docs). Logs are JSON "
        "lines on stderr.",
    )
    p.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1; any other needs a token)"
    )
    p.add_argument("--port", type=int, default=8765)
    p.add_argument(
        "--policy",
        default="compact",
        help="policy spec: compact (default), rules, vlm:PATH (local Hugging Face VLM), "
        "openai:URL#MODEL (OpenAI-compatible server)",
    )
    p.add_argument(
        "--token",
        help="require 'Authorization: Bearer TOKEN' (default: $RETOUCHIQ_TOKEN; "
        "the environment keeps it out of the process list)",
    )
    p.add_argument(
        "--max-queue",
        type=int,
        default=8,
        help="edits and roll jobs admitted at once, waiting or running; past it: 503 + Retry-After",
    )
    p.add_argument("--workers", type=int, default=1, help="threads running policy calls")
    p.add_argument("--log-level", default="info", choices=["debug", "info", "warning", "error"])
    p.set_defaults(func=_cmd_serve)
