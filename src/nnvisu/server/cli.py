"""Command line: ``python -m nnvisu.server`` (or ``python -m nnvisu``, or ``nnvisu``)."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import webbrowser
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import tornado.ioloop
import tornado.log

from nnvisu.classroom import CONTROLS
from nnvisu.server.app import Server, make_state
from nnvisu.server.errors import BadOrigin, ConfigError, StartupError
from nnvisu.server.handlers import check_frame_ancestors
from nnvisu.server.hosts import HostPolicy
from nnvisu.server.limits import Limits
from nnvisu.server.origin import OriginPolicy
from nnvisu.server.preset import build_preset
from nnvisu.server.supervisor import Supervisor, reserve_port, worker_command

log = logging.getLogger("nnvisu.server")

_WORKER_START_TIMEOUT_S = 120.0  # importing torch on a loaded machine can take a while


def build_parser() -> argparse.ArgumentParser:
    """The CLI's arguments."""
    parser = argparse.ArgumentParser(
        prog="python -m nnvisu.server",
        description="Serve the nnvisu playground: a page plus a stateless training WebSocket.",
    )
    parser.add_argument(
        "--host", default="127.0.0.1", help="address to bind (default 127.0.0.1; 0.0.0.0 = all)"
    )
    parser.add_argument(
        "--port", type=int, default=8765, help="port (default 8765; 0 picks a free one)"
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=1,
        metavar="N",
        help="processes sharing the port via SO_REUSEPORT (default 1; one per core)",
    )
    parser.add_argument(
        "--allow-origin",
        action="append",
        default=[],
        metavar="ORIGIN",
        help="also accept WebSockets from this exact origin, e.g. https://class.example.org "
        "(repeatable; the page's own origin is always accepted)",
    )
    parser.add_argument(
        "--max-in-flight",
        type=int,
        metavar="N",
        default=Limits.max_in_flight,
        help=f"requests admitted per process before 'busy' (default {Limits.max_in_flight})",
    )
    parser.add_argument(
        "--allow-host",
        action="append",
        default=[],
        metavar="NAME",
        help="also serve requests whose Host is NAME (or NAME:PORT), e.g. the public name a "
        "reverse proxy forwards (repeatable). Bound to loopback, only 127.0.0.1, localhost "
        "and [::1] are served otherwise (DNS rebinding protection); bound elsewhere, any "
        "name is served unless this flag lists them",
    )
    parser.add_argument(
        "--behind-proxy",
        action="store_true",
        help="trust X-Forwarded-For/-Proto and X-Real-Ip (client address for the "
        "per-address cap, https for the origin check); only behind a proxy that sets them",
    )
    parser.add_argument(
        "--frame-ancestors",
        metavar="SOURCES",
        help="who may embed the page in a frame, as CSP sources, e.g. "
        "\"'self' https://lms.example.org\" (default: anyone may)",
    )
    parser.add_argument(
        "--max-connections",
        type=int,
        metavar="N",
        default=Limits.max_connections,
        help="open WebSockets per process (default %(default)s, lowered to what the "
        "descriptor limit allows; the limit is raised to its hard maximum at start)",
    )
    parser.add_argument(
        "--max-connections-per-address",
        type=int,
        metavar="N",
        default=Limits.max_connections_per_address,
        help="open WebSockets per client address, so one address cannot lock out others "
        "(default %(default)s: a class of 60 behind one NAT with a couple of tabs each)",
    )
    parser.add_argument(
        "--preset",
        metavar="FILE",
        help="classroom mode: every new visitor (and Start over) begins from this setup file "
        "(exported from the page or written by NNVisu.save), with its hidden controls and lock",
    )
    parser.add_argument(
        "--hide",
        nargs="+",
        default=[],
        metavar="NAME",
        help="classroom mode: hide these controls from every visitor (names: "
        + ", ".join(CONTROLS)
        + ")",
    )
    parser.add_argument(
        "--lock-data",
        action="store_true",
        help="classroom mode: visitors cannot add, erase, generate or re-split points",
    )
    parser.add_argument("--open", action="store_true", help="open the page in a web browser")
    parser.add_argument(
        "--log-level", default="info", choices=["debug", "info", "warning", "error"]
    )
    # Internal: how the supervisor starts its workers.
    parser.add_argument("--reuse-port", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--ready-fd", type=int, default=None, help=argparse.SUPPRESS)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the server until SIGINT/SIGTERM. Returns the process exit code."""
    args = build_parser().parse_args(argv)
    if not logging.getLogger().handlers:  # main() may run more than once in one process
        tornado.log.enable_pretty_logging()
    logging.getLogger().setLevel(args.log_level.upper())
    try:
        limits = Limits(
            max_in_flight=args.max_in_flight,
            max_connections=args.max_connections,
            max_connections_per_address=args.max_connections_per_address,
        )
        OriginPolicy(args.allow_origin)  # fail now, not at the first handshake
        HostPolicy(args.host, args.allow_host)
        if args.frame_ancestors is not None:
            args.frame_ancestors = check_frame_ancestors(args.frame_ancestors)
        preset = build_preset(args.preset, args.hide, args.lock_data)
        if args.workers < 1:
            raise ConfigError(f"--workers must be >= 1, got {args.workers}")
        if not 0 <= args.port < 65536:
            raise ConfigError(f"--port must be in 0..65535, got {args.port}")
    except (ConfigError, BadOrigin) as exc:
        log.error("%s", exc)
        return 2
    raise_descriptor_limit()
    try:
        if args.workers > 1:
            return _supervise(args, limits)
        return asyncio.run(_serve(args, limits, preset))
    except (ConfigError, StartupError) as exc:
        log.error("%s", exc)
        return 1


def raise_descriptor_limit() -> None:
    """Raise the soft descriptor limit to the hard one (systemd's soft default is 1,024)."""
    try:
        import resource
    except ImportError:  # not on Unix
        return
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != hard:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        except (ValueError, OSError):  # e.g. an unlimited hard limit some kernels refuse
            log.debug("could not raise the descriptor limit from %d", soft)


def _announce(url: str, host: str, workers: int, open_browser: bool) -> None:
    procs = f" ({workers} worker processes)" if workers > 1 else ""
    print(f"nnvisu: serving on {url}{procs}", flush=True)
    if host in ("0.0.0.0", "::"):
        print(
            "nnvisu: listening on every interface; pages from other origins also need "
            "--allow-origin",
            flush=True,
        )
    if open_browser:
        webbrowser.open(_browsable(url, host))


def _browsable(url: str, host: str) -> str:
    # A wildcard bind address is not something to browse to; loopback reaches it.
    return url.replace("0.0.0.0", "127.0.0.1").replace("[::]", "[::1]")


async def _serve(args: argparse.Namespace, limits: Limits, preset: dict[str, Any] | None) -> int:
    state = make_state(
        limits,
        args.allow_origin,
        preset=preset,
        hosts=HostPolicy(args.host, args.allow_host),
        frame_ancestors=args.frame_ancestors,
        behind_proxy=args.behind_proxy,
    )
    server = Server(state, args.host, args.port, reuse_port=args.reuse_port)
    try:
        server.start()
    except StartupError:
        state.worker.close()  # let the torch thread end before the interpreter does
        raise
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(sig, stop.set)
        except NotImplementedError:  # Windows: no loop signal handlers
            signal.signal(sig, lambda *_: loop.call_soon_threadsafe(stop.set))
    if args.ready_fd is None:
        await loop.run_in_executor(
            None, _announce, server.url, args.host, 1, args.open
        )  # webbrowser may block briefly: keep it off the loop
        watchdog = None
    else:
        os.write(args.ready_fd, b"ready\n")
        os.close(args.ready_fd)
        watchdog = _watch_parent(stop)
    await stop.wait()
    log.info("shutting down")
    if watchdog is not None:
        watchdog.stop()
    await server.shutdown()
    return 0


def _watch_parent(stop: asyncio.Event) -> tornado.ioloop.PeriodicCallback:
    """A supervised worker exits if its supervisor vanished (e.g. was SIGKILLed)."""
    parent = os.getppid()

    def check() -> None:
        if os.getppid() != parent:
            log.warning("supervisor %d is gone; shutting down", parent)
            stop.set()

    watchdog = tornado.ioloop.PeriodicCallback(check, 1000)
    watchdog.start()
    return watchdog


def _supervise(args: argparse.Namespace, limits: Limits) -> int:
    reservation = reserve_port(args.host, args.port)
    port = int(reservation.getsockname()[1])
    base = ["--host", args.host, "--port", str(port), "--workers", "1", "--reuse-port"]
    base += ["--max-in-flight", str(args.max_in_flight), "--log-level", args.log_level]
    for origin in args.allow_origin:
        base += ["--allow-origin", origin]
    for name in args.allow_host:
        base += ["--allow-host", name]
    if args.behind_proxy:
        base += ["--behind-proxy"]
    if args.frame_ancestors is not None:
        base += ["--frame-ancestors", args.frame_ancestors]
    base += ["--max-connections", str(args.max_connections)]
    base += ["--max-connections-per-address", str(args.max_connections_per_address)]
    if args.preset is not None:
        base += ["--preset", str(Path(args.preset).resolve())]
    if args.hide:
        base += ["--hide", *args.hide]
    if args.lock_data:
        base += ["--lock-data"]
    supervisor = Supervisor(
        args.workers,
        worker_command(base),
        start_timeout_s=_WORKER_START_TIMEOUT_S,
        stop_timeout_s=limits.shutdown_grace_s + 5.0,
    )
    host = f"[{args.host}]" if ":" in args.host else args.host
    url = f"http://{host}:{port}/"
    try:
        return supervisor.run(lambda: _announce(url, args.host, args.workers, args.open))
    finally:
        reservation.close()
