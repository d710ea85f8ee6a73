"""Keeping untrusted lab programs in a box, and leaving nothing behind.

- The grader makes itself a child subreaper, so every process a check starts, daemons and orphans
  included, stays below the grader in the process tree, where teardown can find, kill and reap it.
- What the grader starts gets signal dispositions and mask reset (SIG_IGN survives exec, and Python
  ignores SIGPIPE), a CPU-time, memory and process-count limit, no core files, and, when the grader
  runs as root, an unprivileged user: root ignores RLIMIT_NPROC, and a root kill(-1, SIGKILL) would
  take the grader down with it.
"""
from __future__ import annotations

import ctypes
import os
import pwd
import resource
import signal
import time
from dataclasses import dataclass
from typing import Callable, Optional

from grader import procfs

PR_SET_CHILD_SUBREAPER = 36
PR_GET_CHILD_SUBREAPER = 37


def become_subreaper() -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_CHILD_SUBREAPER)")


def is_subreaper() -> bool:
    libc = ctypes.CDLL(None, use_errno=True)
    value = ctypes.c_int(0)
    libc.prctl(PR_GET_CHILD_SUBREAPER, ctypes.byref(value), 0, 0, 0)
    return value.value != 0


@dataclass(frozen=True)
class Limits:
    cpu_seconds: int = 20
    memory_bytes: int = 1 << 30
    extra_processes: int = 200  # on top of what the user already runs


@dataclass(frozen=True)
class RunAs:
    """Who lab programs run as: the grader's own user, or an unprivileged one when it is root."""

    uid: int
    gid: int

    @property
    def is_grader(self) -> bool:
        return self.uid == os.geteuid()

    @classmethod
    def choose(cls) -> "RunAs":
        if os.geteuid() != 0:
            return cls(os.getuid(), os.getgid())
        name = os.environ.get("PROCGROUP_RUN_AS", "nobody")
        try:
            entry = pwd.getpwnam(name)
        except KeyError:
            return cls(65534, 65534)
        return cls(entry.pw_uid, entry.pw_gid)

    def give(self, path: str) -> None:
        """Makes a file or folder the grader created usable by the lab programs."""
        if not self.is_grader:
            os.chown(path, self.uid, self.gid)


def processes_of(uid: int) -> int:
    count = 0
    for pid in procfs.all_pids():
        try:
            if os.stat(f"/proc/{pid}").st_uid == uid:
                count += 1
        except FileNotFoundError:
            continue
    return count


def child_setup(run_as: RunAs, limits: Limits) -> Callable[[], None]:
    """A preexec function for what the grader spawns (runs in the child, between fork and exec)."""
    nproc = processes_of(run_as.uid) + limits.extra_processes  # counted now: the child must not scan /proc

    def setup() -> None:
        for signum in range(1, signal.NSIG):
            if signum not in (signal.SIGKILL, signal.SIGSTOP):
                try:
                    signal.signal(signum, signal.SIG_DFL)
                except (OSError, ValueError):
                    pass
        signal.pthread_sigmask(signal.SIG_SETMASK, [])
        resource.setrlimit(resource.RLIMIT_CPU, (limits.cpu_seconds, limits.cpu_seconds + 5))
        resource.setrlimit(resource.RLIMIT_AS, (limits.memory_bytes, limits.memory_bytes))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        resource.setrlimit(resource.RLIMIT_NPROC, (nproc, nproc))
        if not run_as.is_grader:
            try:
                os.chown(os.ttyname(0), run_as.uid, -1)  # the pty slave, so the programs may reopen it
            except OSError:
                pass
            os.setgroups([])
            os.setgid(run_as.gid)
            os.setuid(run_as.uid)

    return setup


def kill_descendants(of: Optional[int] = None, deadline_seconds: float = 10.0) -> list[procfs.Stat]:
    """SIGKILLs every process below `of` (default: the grader) and reaps what becomes ours.

    Because the grader is a subreaper, orphans and daemons are below it too. Repeats until nothing is
    left, so a fork bomb that forks while we kill still runs dry. Returns what it found the first time.
    """
    root = os.getpid() if of is None else of
    first: Optional[list[procfs.Stat]] = None
    deadline = time.monotonic() + deadline_seconds
    while True:
        found = procfs.descendants(root)
        if first is None:
            first = found
        living = [s for s in found if s.state != "Z"]
        for process in living:
            try:
                os.kill(process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        reap_children()
        if not found or time.monotonic() > deadline:
            return first
        time.sleep(0.005)  # let the kernel finish the deaths we just caused before looking again


def reap_children() -> None:
    """Collects every child of the grader that has exited, without blocking."""
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
