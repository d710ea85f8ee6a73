"""Watching processes that outlive the command that started them (labs 06, 07, 09).

Daemons, services and escapees are not tied to a terminal's output, so waiting for them means
polling /proc or a file, always with a deadline, and a short interval between looks.
"""
from __future__ import annotations

import os
import signal
import time
from typing import TYPE_CHECKING, Callable, Optional

from grader import procfs

if TYPE_CHECKING:
    from grader.check import Grading
    from grader.terminal import Shell


def wait_for(condition: Callable[[], object], timeout: float, interval: float = 0.005) -> bool:
    """Looks at `condition` until it holds (True) or `timeout` seconds have passed (False)."""
    deadline = time.monotonic() + timeout
    while True:
        if condition():
            return True
        if time.monotonic() > deadline:
            return False
        time.sleep(interval)


def alive(pid: Optional[int]) -> bool:
    """The process exists and is not a zombie."""
    if not pid:
        return False
    stat = procfs.try_stat(pid)
    return stat is not None and stat.state not in ("Z", "X")


def read_text(path: str) -> Optional[str]:
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            return handle.read()
    except OSError:
        return None


def reap(pid: int) -> Optional[int]:
    """The wait status of `pid`, a child of the grader (it is a subreaper), once it has exited."""
    try:
        got, status = os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        return None
    return status if got == pid else None


def signal_name(signum: int) -> str:
    try:
        return signal.Signals(signum).name
    except ValueError:
        return f"signal {signum}"


def signals_in(mask: int) -> list[str]:
    return [signal_name(n) for n in range(1, 65) if mask >> (n - 1) & 1]


def steadily(condition: Callable[[], bool], looks: int = 3) -> Callable[[], bool]:
    """True once `condition` held at `looks` looks in a row. A /proc scan is not atomic: a process
    re-parented while it runs can be missed once, never at several looks in a row."""
    streak = [0]

    def check() -> bool:
        streak[0] = streak[0] + 1 if condition() else 0
        return streak[0] >= looks

    return check


def command_and_its_processes_gone(grading: "Grading", shell: "Shell", start: int) -> Callable[[], Optional[str]]:
    """A give_up for waits on a command typed at `start` whose processes may outlive it (a daemon,
    a service that went to the background): the shell prompted again and nothing it started lives."""
    gone = steadily(lambda: bool(shell.ended_since(start)) and not [
        s for s in grading.leftovers(keep=[shell.pid]) if s.state != "Z"])

    def reason() -> Optional[str]:
        return "the command returned and no process it started is left" if gone() else None

    return reason


# glibc keeps signals 32 and 33 for its threads: sigaction() and sigprocmask() refuse to change
# them, so a program cannot reset them, and whatever state they were inherited in is not its fault.
GLIBC_RESERVED = (1 << 31) | (1 << 32)
