"""What the kernel says about signals and endings: pending signals, a zombie's wait status, and
whether a process is asleep waiting for something that cannot come any more.

Used by the checks of labs 04 and 08. Everything here reads /proc; nothing takes a program's word.
"""
from __future__ import annotations

import os
import signal
from typing import Iterable, Optional

from grader import procfs

# Where a process sleeps when it waits for a signal and nothing else (/proc/PID/wchan).
SIGNAL_WAITS = ("__do_sys_pause", "sys_pause", "sigsuspend", "__x64_sys_pause", "do_sigtimedwait")
# Where it sleeps reading a pipe (the name changed across kernel versions).
INPUT_WAITS = ("pipe_read", "anon_pipe_read")


def _status_fields(pid: int) -> dict[str, str]:
    try:
        with open(f"/proc/{pid}/status", encoding="utf-8", errors="replace") as handle:
            text = handle.read()
    except (FileNotFoundError, ProcessLookupError) as error:
        raise procfs.ProcessGone(pid) from error
    fields = {}
    for line in text.splitlines():
        key, _, value = line.partition(":")
        fields[key] = value.strip()
    return fields


def pending(pid: int) -> int:
    """The signals pending for the process (SigPnd | ShdPnd: bit n-1 is signal n); 0 if it is gone."""
    try:
        fields = _status_fields(pid)
    except procfs.ProcessGone:
        return 0
    return int(fields.get("SigPnd", "0"), 16) | int(fields.get("ShdPnd", "0"), 16)


def has(mask: int, signum: int) -> bool:
    return bool(mask >> (signum - 1) & 1)


def state(pid: int) -> Optional[str]:
    """The state letter in /proc/PID/stat, or None once the process is gone (reaped)."""
    found = procfs.try_stat(pid)
    return found.state if found else None


def ended(pid: int) -> bool:
    """The process has ended: gone, or a zombie waiting to be reaped."""
    return state(pid) in (None, "Z", "X")


def exit_code(pid: int) -> Optional[int]:
    """A zombie's wait status (field 52 of /proc/PID/stat, as waitpid would report it), else None.

    The kernel shows it only for a process that has ended and is not reaped yet; its low 7 bits are
    the signal that killed it, or bits 8-15 the status it exited with.
    """
    try:
        with open(f"/proc/{pid}/stat", encoding="utf-8", errors="replace") as handle:
            text = handle.read()
    except (FileNotFoundError, ProcessLookupError):
        return None
    fields = text[text.rindex(")") + 2:].split()
    if fields[0] not in ("Z", "X") or len(fields) < 50:
        return None
    return int(fields[49])


def describe_status(status: int) -> str:
    """A wait status in words: 'killed by signal 10 (SIGUSR1)' or 'exited with status 0'."""
    if os.WIFSIGNALED(status):
        number = os.WTERMSIG(status)
        try:
            name = signal.Signals(number).name
        except ValueError:
            name = "?"
        return f"killed by signal {number} ({name})"
    if os.WIFEXITED(status):
        return f"exited with status {os.WEXITSTATUS(status)}"
    return f"wait status {status:#x}"


def killed_by(pid: int) -> Optional[int]:
    """The signal that killed a zombie, or None (alive, gone, or it exited normally)."""
    status = exit_code(pid)
    if status is None or not os.WIFSIGNALED(status):
        return None
    return os.WTERMSIG(status)


def describe(pid: int) -> str:
    """How a process is, in words, for a failure message."""
    found = procfs.try_stat(pid)
    if found is None:
        return "gone (reaped)"
    if found.state == "Z":
        status = exit_code(pid)
        return "a zombie, " + (describe_status(status) if status is not None else "ended")
    words = {"S": "sleeping", "R": "running", "T": "stopped", "t": "stopped", "D": "in the kernel"}
    return f"alive, {words.get(found.state, 'state')} ({found.state})"


def waits_for_signal_in_vain(pid: int) -> bool:
    """Asleep in pause()/sigsuspend() with nothing pending: a signal it waits for was not sent to it.

    Meant for after the moment a signal must have been sent (kill() has returned): a process that got
    it is dying, running its handler, or has the signal pending; one that sleeps with nothing pending
    did not get it.
    """
    return sleeps_in(pid, SIGNAL_WAITS) and pending(pid) == 0


def sleeps_in(pid: int, places: Iterable[str]) -> bool:
    """In state S, waiting at one of `places` in the kernel (prefixes of /proc/PID/wchan)."""
    if state(pid) != "S":
        return False
    where = procfs.wchan(pid)
    return any(where.startswith(place) for place in places)


QUIET = SIGNAL_WAITS + INPUT_WAITS + ("do_wait",)


def _quiet(pids: Iterable[int]) -> Optional[dict[int, tuple]]:
    """Each process asleep waiting for a signal, a pipe or a child (or stopped, or ended), with its
    context-switch counts; None as soon as one is doing anything else."""
    found: dict[int, tuple] = {}
    for pid in pids:
        letter = state(pid)
        if letter in (None, "Z", "X"):
            found[pid] = ("ended",)
            continue
        where = procfs.wchan(pid)
        if letter not in ("S", "T", "t") or (letter == "S" and not where.startswith(QUIET)):
            return None
        try:
            fields = _status_fields(pid)
        except procfs.ProcessGone:
            found[pid] = ("ended",)
            continue
        found[pid] = (letter, where, fields.get("voluntary_ctxt_switches"), fields.get("nonvoluntary_ctxt_switches"))
    return found


def asleep_for_good(pids: Iterable[int]) -> bool:
    """Every one of these processes waits for something only another of them could do.

    Two looks in a row find each one asleep (in pause, sigsuspend, a pipe read or waitpid), stopped
    or ended, and none has run in between (its context-switch counts did not move). So at one moment
    all of them were asleep together, and none can wake the others: unless someone outside (the
    grader) acts, nothing more will happen. No timer sleeps count as quiet, so a program that sleeps
    is never taken for stuck.
    """
    pids = list(pids)
    first = _quiet(pids)
    if first is None or all(entry == ("ended",) for entry in first.values()):
        return False  # nothing is left to wait: the program ended (between the caller's look and ours)
    return _quiet(pids) == first


def children(pid: int) -> list[procfs.Stat]:
    """The processes whose parent is `pid`, zombies included."""
    return [s for s in procfs.all_stats() if s.ppid == pid]


def read_log(path: str) -> list[str]:
    """The lines of a log file a lab program wrote (empty if it was never created)."""
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            return [line.rstrip("\n") for line in handle if line.strip()]
    except FileNotFoundError:
        return []


def leftovers(keep: Iterable[int] = ()) -> list[procfs.Stat]:
    """What is left below the grader that nobody will clean up: living processes, and zombies whose
    parent is a lab process (not reaped by the program that should have). The grader's own zombie
    children (orphans it adopted as a subreaper, which ended) are its job, not the program's."""
    me = os.getpid()
    kept = set(keep)
    return [s for s in procfs.descendants(me)
            if s.pid not in kept and (s.state != "Z" or s.ppid != me)]
