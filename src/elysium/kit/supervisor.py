"""A small process supervisor for `elysium run`: start the children, start again one that dies
(with backoff), forward SIGTERM/SIGINT so each shuts down gracefully, and say "ready" only when
the web server answers. In production systemd (deploy/) plays this part for each process."""

from __future__ import annotations

import signal
import subprocess
import time
from collections.abc import Mapping
from dataclasses import dataclass, field

import httpx
import structlog

log = structlog.get_logger("elysium.supervisor")

CONFIG_ERROR = 78  # a child exiting with EX_CONFIG cannot be mended by a restart
MAX_BACKOFF_SECONDS = 30.0
STOP_TIMEOUT_SECONDS = 60.0
HEALTHY_AFTER_SECONDS = 60.0  # a child that ran this long starts again at once when it dies


@dataclass
class Child:
    """One supervised process."""

    name: str
    argv: list[str]
    env: Mapping[str, str] | None = None
    process: subprocess.Popen[bytes] | None = None
    started_at: float = 0.0
    restart_at: float | None = None
    backoff: float = field(default=1.0)

    def start(self) -> None:
        self.process = subprocess.Popen(self.argv, env=self.env)
        self.started_at = time.monotonic()
        self.restart_at = None

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None


def supervise(
    children: list[Child],
    *,
    ready_url: str | None = None,
    ready_message: str = "ready",
    poll_seconds: float = 0.2,
) -> int:
    """Run `children` until SIGTERM/SIGINT (exit 0) or a child's configuration error (78)."""
    stopping = False

    def stop(*_: object) -> None:
        nonlocal stopping
        stopping = True
        # Ignored from now on (a second SIGTERM changes nothing): unlike a Python handler,
        # SIG_IGN also holds while the interpreter exits, which would otherwise die of it.
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        signal.signal(signal.SIGINT, signal.SIG_IGN)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    code = 0
    announced = ready_url is None
    try:
        for child in children:
            child.start()
        while not stopping:
            code = _tend(children)
            if code:
                break
            if not announced and ready_url is not None and _answers(ready_url):
                print(ready_message, flush=True)  # noqa: T201  (the one line a person waits for)
                announced = True
            time.sleep(poll_seconds)
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        _stop_all(children)
    return code


def _tend(children: list[Child]) -> int:
    """Start again each child that died, after its backoff; CONFIG_ERROR if one cannot run."""
    now = time.monotonic()
    for child in children:
        if child.alive() or child.process is None:
            continue
        if child.restart_at is None:
            returncode = child.process.returncode
            if returncode == CONFIG_ERROR:
                log.error("supervisor.config_error", child=child.name)
                return CONFIG_ERROR
            if now - child.started_at > HEALTHY_AFTER_SECONDS:
                child.backoff = 1.0
            child.restart_at = now + child.backoff
            log.warning(
                "supervisor.child_exited",
                child=child.name,
                code=returncode,
                restart_in=child.backoff,
            )
            child.backoff = min(child.backoff * 2, MAX_BACKOFF_SECONDS)
        elif now >= child.restart_at:
            child.start()
            log.info("supervisor.child_restarted", child=child.name)
    return 0


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=0.5).status_code == 200
    except httpx.HTTPError:
        return False


def _stop_all(children: list[Child]) -> None:
    """SIGTERM to each child (graceful), then wait; SIGKILL one that outlives the timeout."""
    for child in children:
        if child.alive():
            assert child.process is not None
            child.process.terminate()
    deadline = time.monotonic() + STOP_TIMEOUT_SECONDS
    for child in children:
        if child.process is None:
            continue
        try:
            child.process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            child.process.kill()
            child.process.wait()
