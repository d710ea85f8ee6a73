"""Keeping untrusted lab programs in a box, and leaving nothing behind.

- The grader makes itself a child subreaper, so every process a check starts, daemons and orphans
  included, stays below the grader in the process tree, where teardown can find, kill and reap it.
- What the grader starts gets signal dispositions and mask reset (SIG_IGN survives exec, and Python
  ignores SIGPIPE), limits on CPU time, memory, processes, file size and open files, no core files,
  and, when the grader runs as root, an unprivileged user ID of its own: root ignores RLIMIT_NPROC,
  and a root kill(-1, SIGKILL) would take the grader down with it. That user cannot signal the
  grader, read the project's folder (solutions/, the grader) or write where results go.
- Without root there is no second user: the limits still apply, but a lab program could signal the
  grader, read and write what the grader's user can. docs/instructor-guide.md says what that means.
"""
from __future__ import annotations

import ctypes
import os
import pwd
import resource
import shutil
import signal
import tempfile
import time
from dataclasses import dataclass
from typing import Callable, Optional, Sequence

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
    file_bytes: int = 64 << 20  # no lab writes more than a few kilobytes to a file
    open_files: int = 1024


# Well above every range that accounts come from (Debian's ranges end at 65535; systemd's dynamic users
# are 61184-65519; container ranges usually start at 100000 in blocks of 65536), and still checked
# against the password database and the running processes before use.
FIRST_PRIVATE_UID = 1_900_000_000
PRIVATE_UIDS = 100_000


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
        name = os.environ.get("PROCGROUP_RUN_AS")
        if name:
            entry = pwd.getpwnam(name)
            return cls(entry.pw_uid, entry.pw_gid)
        return cls.private()

    @classmethod
    def private(cls) -> "RunAs":
        """A user ID no process and no account uses, for this grading alone.

        Processes can signal (kill(-1) included) and count against RLIMIT_NPROC only within their
        own user, so with a user of its own, one grading's programs cannot reach another grading
        that runs on the same machine at the same time, nor anything else.
        """
        taken = {entry.pw_uid for entry in pwd.getpwall()}
        for pid in procfs.all_pids():
            try:
                taken.add(os.stat(f"/proc/{pid}").st_uid)
            except FileNotFoundError:
                continue
        start = os.getpid() % PRIVATE_UIDS  # graders that start together begin their search apart
        for offset in range(PRIVATE_UIDS):
            uid = FIRST_PRIVATE_UID + (start + offset) % PRIVATE_UIDS
            if uid not in taken:
                return cls(uid, uid)
        raise RuntimeError("no free user ID to run the lab programs as")

    @property
    def is_private(self) -> bool:
        """A user ID of this grading's own, which nothing else on the machine uses."""
        return self.uid >= FIRST_PRIVATE_UID

    def give(self, path: str) -> None:
        """Makes a file or folder the grader created usable by the lab programs."""
        if not self.is_grader:
            os.chown(path, self.uid, self.gid)


def shut_out_others(folder: str) -> None:
    """Removes other users' access to `folder` (chmod o-rwx), as the grader does to the project's
    folder when it runs as root: lab programs then run as another user, which must not read
    solutions/ or the grader, nor change them."""
    mode = os.stat(folder).st_mode
    if mode & 0o007:
        os.chmod(folder, mode & 0o7770)


TEMPORARY_FOLDERS = ("/tmp", "/var/tmp", "/dev/shm")


def remove_files_of(run_as: RunAs) -> list[str]:
    """Deletes what a private user left at the top of the shared temporary folders (a lab program
    may write outside its own folder; nothing else can own files there). Returns what it deleted."""
    if not run_as.is_private:
        return []
    removed = []
    for folder in dict.fromkeys((*TEMPORARY_FOLDERS, tempfile.gettempdir())):
        try:
            entries = os.listdir(folder)
        except OSError:
            continue
        for name in entries:
            path = os.path.join(folder, name)
            try:
                if os.lstat(path).st_uid != run_as.uid:
                    continue
                if os.path.isdir(path) and not os.path.islink(path):
                    shutil.rmtree(path)
                else:
                    os.unlink(path)
                removed.append(path)
            except OSError:
                continue
    return removed


def processes_of(uid: int) -> int:
    count = 0
    for pid in procfs.all_pids():
        try:
            if os.stat(f"/proc/{pid}").st_uid == uid:
                count += 1
        except FileNotFoundError:
            continue
    return count


def child_setup(run_as: RunAs, limits: Limits, blocked: Sequence[int] = ()) -> Callable[[], None]:
    """A preexec function for what the grader spawns (runs in the child, between fork and exec).

    `blocked`: signals left blocked in the mask, for checks that start a program the way a careless
    parent would (a daemon must reset the mask it inherits)."""
    nproc = processes_of(run_as.uid) + limits.extra_processes  # counted now: the child must not scan /proc

    def setup() -> None:
        for signum in range(1, signal.NSIG):
            if signum not in (signal.SIGKILL, signal.SIGSTOP):
                try:
                    signal.signal(signum, signal.SIG_DFL)
                except (OSError, ValueError):
                    pass
        signal.pthread_sigmask(signal.SIG_SETMASK, list(blocked))
        resource.setrlimit(resource.RLIMIT_CPU, (limits.cpu_seconds, limits.cpu_seconds + 5))
        resource.setrlimit(resource.RLIMIT_AS, (limits.memory_bytes, limits.memory_bytes))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        resource.setrlimit(resource.RLIMIT_NPROC, (nproc, nproc))
        resource.setrlimit(resource.RLIMIT_FSIZE, (limits.file_bytes, limits.file_bytes))
        resource.setrlimit(resource.RLIMIT_NOFILE, (limits.open_files, limits.open_files))
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
