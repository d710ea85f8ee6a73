"""What the kernel says about a process: a reader for /proc/PID/{stat,status,fd,cwd}.

Every ID the grader checks comes from here, never from what a program prints.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Iterator, Optional

PTS_MAJORS = range(136, 144)  # Unix98 pty slaves: major 136..143


class ProcessGone(Exception):
    """The process exited (and was reaped) before /proc could be read."""


@dataclass(frozen=True)
class Stat:
    """The fields of /proc/PID/stat the labs care about (see proc(5))."""

    pid: int
    comm: str
    state: str
    ppid: int
    pgid: int
    sid: int
    tty_nr: int
    tpgid: int

    @property
    def has_terminal(self) -> bool:
        return self.tty_nr != 0

    @property
    def is_group_leader(self) -> bool:
        return self.pid == self.pgid

    @property
    def is_session_leader(self) -> bool:
        return self.pid == self.sid

    @property
    def terminal(self) -> str:
        return terminal_name(self.tty_nr)


def parse_stat(text: str) -> Stat:
    """Parses the text of /proc/PID/stat.

    comm is whatever the program was called, and may hold spaces and ')' itself, so it is the text
    between the first '(' and the LAST ')'.
    """
    open_paren = text.index("(")
    close_paren = text.rindex(")")
    pid = int(text[:open_paren])
    comm = text[open_paren + 1 : close_paren]
    fields = text[close_paren + 2 :].split()
    state, ppid, pgid, sid, tty_nr, tpgid = fields[0], *map(int, fields[1:6])
    return Stat(pid, comm, state, ppid, pgid, sid, tty_nr, tpgid)


def terminal_name(tty_nr: int) -> str:
    """tty_nr as ps shows it: 'none', 'pts/3', or 'dev 4:1'."""
    if tty_nr == 0:
        return "none"
    major = (tty_nr >> 8) & 0xFFF
    minor = (tty_nr & 0xFF) | ((tty_nr >> 12) & 0xFFF00)
    if major in PTS_MAJORS:
        return f"pts/{(major - PTS_MAJORS.start) * 256 + minor}"
    return f"dev {major}:{minor}"


def device_tty_nr(path_or_fd: "str | int") -> int:
    """The tty_nr that /proc/PID/stat shows for a process whose controlling terminal is this device."""
    rdev = os.stat(path_or_fd).st_rdev
    major, minor = os.major(rdev), os.minor(rdev)
    return (minor & 0xFF) | (major << 8) | ((minor & ~0xFF) << 12)


@dataclass(frozen=True)
class Status:
    """The fields of /proc/PID/status the labs care about."""

    ppid: int
    umask: Optional[int]  # absent for kernel threads
    sig_blocked: int
    sig_ignored: int
    sig_caught: int

    def ignores(self, signum: int) -> bool:
        return bool(self.sig_ignored >> (signum - 1) & 1)

    def blocks(self, signum: int) -> bool:
        return bool(self.sig_blocked >> (signum - 1) & 1)

    def catches(self, signum: int) -> bool:
        return bool(self.sig_caught >> (signum - 1) & 1)


def parse_status(text: str) -> Status:
    fields = {}
    for line in text.splitlines():
        key, _, value = line.partition(":")
        fields[key] = value.strip()
    umask = fields.get("Umask")
    return Status(
        ppid=int(fields["PPid"]),
        umask=int(umask, 8) if umask is not None else None,
        sig_blocked=int(fields["SigBlk"], 16),
        sig_ignored=int(fields["SigIgn"], 16),
        sig_caught=int(fields["SigCgt"], 16),
    )


def _read(pid: int, name: str) -> str:
    try:
        with open(f"/proc/{pid}/{name}", encoding="utf-8", errors="replace") as handle:
            return handle.read()
    except (FileNotFoundError, ProcessLookupError) as error:
        raise ProcessGone(pid) from error


def stat(pid: int) -> Stat:
    return parse_stat(_read(pid, "stat"))


def status(pid: int) -> Status:
    return parse_status(_read(pid, "status"))


def try_stat(pid: int) -> Optional[Stat]:
    try:
        return stat(pid)
    except (ProcessGone, ValueError, IndexError):
        return None


def open_fds(pid: int) -> dict[int, str]:
    """fd number -> what it points at ('/dev/null', 'socket:[123]', 'pipe:[45]', ...)."""
    base = f"/proc/{pid}/fd"
    try:
        names = os.listdir(base)
    except (FileNotFoundError, ProcessLookupError) as error:
        raise ProcessGone(pid) from error
    fds = {}
    for name in names:
        try:
            fds[int(name)] = os.readlink(f"{base}/{name}")
        except FileNotFoundError:
            continue  # closed while we looked
    return fds


def open_terminals(pid: int) -> dict[str, int]:
    """The terminals a process holds open: path -> the tty_nr that device would show in stat.

    Read through /proc/PID/fd, so it works while the process holds the device open, even if its
    pseudo-terminal disappears a moment later.
    """
    terminals = {}
    for fd, target in open_fds(pid).items():
        if target.startswith(("/dev/pts/", "/dev/tty")):
            try:
                terminals[target] = device_tty_nr(f"/proc/{pid}/fd/{fd}")
            except OSError:
                continue
    return terminals


def cwd(pid: int) -> str:
    try:
        return os.readlink(f"/proc/{pid}/cwd")
    except (FileNotFoundError, ProcessLookupError) as error:
        raise ProcessGone(pid) from error


def exe(pid: int) -> Optional[str]:
    try:
        return os.readlink(f"/proc/{pid}/exe")
    except OSError:
        return None


def all_pids() -> Iterator[int]:
    for name in os.listdir("/proc"):
        if name.isdigit():
            yield int(name)


def all_stats() -> list[Stat]:
    """A snapshot of every process on the machine (those that vanish while we read are skipped)."""
    return [s for s in (try_stat(pid) for pid in all_pids()) if s is not None]


def descendants(ancestor: int, stats: Optional[list[Stat]] = None) -> list[Stat]:
    """Every process below `ancestor` in the parent tree, found by following PPid links."""
    stats = all_stats() if stats is None else stats
    children: dict[int, list[Stat]] = {}
    for s in stats:
        children.setdefault(s.ppid, []).append(s)
    found: list[Stat] = []
    frontier = [ancestor]
    while frontier:
        for child in children.get(frontier.pop(), []):
            found.append(child)
            frontier.append(child.pid)
    return found


def wchan(pid: int) -> str:
    """Where in the kernel a sleeping process waits ('do_wait': in wait/waitpid), or ''."""
    try:
        with open(f"/proc/{pid}/wchan", encoding="ascii", errors="replace") as handle:
            return handle.read().strip()
    except OSError:
        return ""


@dataclass(frozen=True)
class Lock:
    """One line of /proc/locks: a lock that is held (waiters, marked '->', are left out)."""

    kind: str  # POSIX (fcntl), FLOCK (flock), OFDLCK (open file description), LEASE
    access: str  # READ or WRITE
    pid: int  # the owner; -1 for OFD locks
    inode: int
    device: str  # "major:minor" of the file system, as /proc/locks shows it

    def is_on(self, path: str) -> bool:
        info = os.stat(path)
        return self.inode == info.st_ino and self.device == f"{os.major(info.st_dev):02x}:{os.minor(info.st_dev):02x}"


def parse_locks(text: str) -> list[Lock]:
    locks = []
    for line in text.splitlines():
        fields = line.split()
        if len(fields) < 6 or fields[1] == "->":
            continue
        kind, access, pid, where = fields[1], fields[3], int(fields[4]), fields[5]
        major, minor, inode = where.split(":")
        locks.append(Lock(kind, access, pid, int(inode), f"{major}:{minor}"))
    return locks


def locks() -> list[Lock]:
    with open("/proc/locks", encoding="ascii") as handle:
        return parse_locks(handle.read())
