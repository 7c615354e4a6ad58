"""The ``ritrovo`` command: ``serve``, ``packs`` and ``bots``."""

from __future__ import annotations

import argparse
import logging
import sys

from .config import Settings


def main(argv: list[str] | None = None) -> None:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["packs"]:
        from .packs.cli import packs_command

        raise SystemExit(packs_command(argv[1:]))
    if argv[:1] == ["bots"]:
        from .bots import bots_command

        raise SystemExit(bots_command(argv[1:]))

    parser = argparse.ArgumentParser(
        prog="ritrovo", description="Ritrovo team-building game server"
    )
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="serve the game (HTTP + WebSocket)")
    serve.add_argument("--host", help="address to listen on (RITROVO_HOST, default 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port (RITROVO_PORT, default 8080)")
    serve.add_argument(
        "--redis-url",
        help="Redis URL for durable, shared state (RITROVO_REDIS_URL); default: in-memory store",
    )
    serve.add_argument("--public-url", help="base URL used in join links (RITROVO_PUBLIC_URL)")
    serve.add_argument(
        "--allowed-hosts",
        help="comma-separated host names the server answers to, besides IP addresses, "
        "localhost and the public URL's host; * for any (RITROVO_ALLOWED_HOSTS)",
    )
    sub.add_parser(
        "packs", help="validate, list, import and export puzzle packs (ritrovo packs --help)"
    )
    sub.add_parser("bots", help="rehearsal bots that play along in a room (ritrovo bots --help)")
    args = parser.parse_args(argv)

    settings = Settings.from_env(
        host=args.host,
        port=args.port,
        redis_url=args.redis_url,
        public_url=args.public_url,
        allowed_hosts=args.allowed_hosts,
    )
    from .logs import setup_logging

    setup_logging(settings.log_level)
    from . import garbage
    from .app import SERVICE, create_app
    from .edge.tcp import run

    logging.getLogger(__name__).info("Ritrovo on http://%s:%d", settings.host, settings.port)
    _raise_file_limit()
    app = create_app(settings)
    if settings.gc_interval > 0:
        service = app[SERVICE]
        app.cleanup_ctx.append(garbage.collector(settings.gc_interval, service.last_command))
    garbage.configure()
    # aiohttp's run_app, with the runner whose connections pass the address
    # cap, the read deadlines and the Host check (edge.tcp).
    run(
        app,
        host=settings.host,
        port=settings.port,
        # SIGTERM/SIGINT: stop listening, hand the timer lease over, tell every
        # client to reconnect (1012), wait at most this long, exit.
        shutdown_timeout=settings.shutdown_timeout,
    )


def _raise_file_limit() -> None:
    """Raise the soft limit of open files to the hard one, as Go's runtime does.

    Every connection is a file. Under a soft limit of 1,024 (the default of
    many systems and containers) a few hundred idle sockets stopped the
    process from accepting anything, ``/healthz`` included; one address alone
    may hold ``max_tcp_connections_per_address`` (1,024) connections. The
    event loop uses epoll, which has no limit of its own.
    """
    try:
        import resource
    except ImportError:  # not a Unix
        return
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY:
        for wanted in (hard, 1 << 20):  # Linux refuses "infinity" for open files
            if wanted != resource.RLIM_INFINITY and wanted <= soft:
                break
            try:
                resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
                break
            except (ValueError, OSError):
                continue
    logging.getLogger(__name__).info(
        "open files: at most %d", resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    )
