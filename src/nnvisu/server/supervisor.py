"""``--workers N``: N single-threaded server processes sharing one port via SO_REUSEPORT.

Each worker is a fresh interpreter (no fork after torch is imported) that binds the port
itself with SO_REUSEPORT, so the kernel spreads new connections across them. This parent
only starts them, restarts one that dies, and forwards SIGINT/SIGTERM. The protocol is
stateless, so which process answers a request never matters.
"""

from __future__ import annotations

import logging
import os
import select
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from types import FrameType

from nnvisu.server.errors import ConfigError, StartupError

log = logging.getLogger("nnvisu.server")

_POLL_S = 0.2
#: A worker that dies is restarted after a backoff that doubles while workers keep dying
#: (up to the maximum) and is forgotten once a worker has run this long.
_FIRST_BACKOFF_S = 0.5
_MAX_BACKOFF_S = 30.0
_STABLE_S = 60.0
_STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


def reserve_port(host: str, port: int) -> socket.socket:
    """Bind (without listening) a SO_REUSEPORT socket so the port is known and kept ours.

    A bound socket that never listens receives no connections; it only pins the port
    (port 0 becomes a real number) while workers come and go.
    """
    if not hasattr(socket, "SO_REUSEPORT"):
        raise ConfigError("--workers > 1 needs SO_REUSEPORT (Linux); use --workers 1 here")
    family, kind, proto, _, address = socket.getaddrinfo(
        host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
    )[0]
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    try:
        sock.bind(address)
    except OSError as exc:
        sock.close()
        raise StartupError(f"cannot bind {host}:{port}: {exc}") from exc
    return sock


class Supervisor:
    """Starts, watches and stops the worker processes.

    Args:
        workers: how many processes.
        child_command: ``(port, ready_fd) -> argv`` for one worker.
        start_timeout_s: how long a worker may take to import torch and bind.
        stop_timeout_s: how long workers may take to shut down before SIGKILL.
        backoff_s: (first, most) seconds before restarting a worker that died; doubled for
            each death in a row. The supervisor never gives up while it is meant to serve.
    """

    def __init__(
        self,
        workers: int,
        child_command: Callable[[int], list[str]],
        start_timeout_s: float,
        stop_timeout_s: float,
        backoff_s: tuple[float, float] = (_FIRST_BACKOFF_S, _MAX_BACKOFF_S),
    ) -> None:
        self._workers = workers
        self._command = child_command
        self._start_timeout_s = start_timeout_s
        self._stop_timeout_s = stop_timeout_s
        self._children: list[subprocess.Popen[bytes] | None] = []
        self._started: list[float] = []
        self._restart_at: list[float] = []
        self._first_backoff_s, self._max_backoff_s = backoff_s
        self._backoff_s = self._first_backoff_s
        self._stop_signal: int | None = None
        self.restarts = 0

    def _start_all(self) -> None:
        for _ in range(self._workers):
            self._children.append(self._spawn())
            self._started.append(time.monotonic())
            self._restart_at.append(0.0)

    def _spawn(self) -> subprocess.Popen[bytes]:
        read_fd, write_fd = os.pipe()
        try:
            child = subprocess.Popen(
                self._command(write_fd),
                pass_fds=(write_fd,),
                start_new_session=True,  # Ctrl-C reaches only us; we forward SIGTERM
            )
        finally:
            os.close(write_fd)
        try:
            ready, _, _ = select.select([read_fd], [], [], self._start_timeout_s)
            line = os.read(read_fd, 64) if ready else b""
        finally:
            os.close(read_fd)
        if not line.startswith(b"ready"):
            child.kill()
            child.wait()
            raise StartupError(
                f"worker process {child.pid} did not start (exit {child.returncode})"
            )
        return child

    def run(self, on_ready: Callable[[], None]) -> int:
        """Start the workers, call ``on_ready``, supervise until SIGINT/SIGTERM; exit code."""
        previous = {sig: signal.signal(sig, self._on_signal) for sig in _STOP_SIGNALS}
        try:
            self._start_all()
            on_ready()
            while self._stop_signal is None:
                time.sleep(_POLL_S)
                self._restart_dead()
        except StartupError as exc:
            log.error("%s", exc)
            self.stop()
            return 1
        else:
            return self.stop()
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        self._stop_signal = signum

    def request_stop(self) -> None:
        """Make :meth:`run` stop the workers and return (as SIGTERM does; any thread)."""
        self._stop_signal = signal.SIGTERM

    def _restart_dead(self) -> None:
        """Restart dead workers, each after a backoff; a failed restart is retried later."""
        now = time.monotonic()
        for i, child in enumerate(self._children):
            if self._stop_signal is not None:
                return
            if child is not None:
                code = child.poll()
                if code is None:
                    if now - self._started[i] > _STABLE_S:
                        self._backoff_s = self._first_backoff_s  # running fine: forgive
                    continue
                log.warning("worker %d exited with %s; restarting it in %.1f s",
                            child.pid, code, self._backoff_s)  # fmt: skip
                self._children[i] = None
                self._schedule(i, now)
            if now < self._restart_at[i]:
                continue
            try:
                self._children[i] = self._spawn()
            except StartupError as exc:
                log.warning("%s; retrying in %.1f s", exc, self._backoff_s)
                self._schedule(i, now)
                continue
            self._started[i] = time.monotonic()
            self.restarts += 1

    def _schedule(self, i: int, now: float) -> None:
        self._restart_at[i] = now + self._backoff_s
        self._backoff_s = min(self._max_backoff_s, 2 * self._backoff_s)

    def stop(self) -> int:
        """SIGTERM every worker, wait (bounded), SIGKILL stragglers; 0 if all exited cleanly."""
        children = [child for child in self._children if child is not None]
        for child in children:
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + self._stop_timeout_s
        clean = True
        for child in children:
            try:
                child.wait(timeout=max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                log.error("worker %d did not stop in time; killing it", child.pid)
                child.kill()
                child.wait()
            clean = clean and child.returncode == 0
        self._children.clear()
        return 0 if clean else 1

    @property
    def pids(self) -> Sequence[int]:
        """The workers' process ids."""
        return [child.pid for child in self._children if child is not None]


def worker_command(base_args: Sequence[str]) -> Callable[[int], list[str]]:
    """The argv of one worker: this CLI in single-process mode, reporting readiness on a fd."""

    def command(ready_fd: int) -> list[str]:
        return [sys.executable, "-m", "nnvisu.server", *base_args, "--ready-fd", str(ready_fd)]

    return command
