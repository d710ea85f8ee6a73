"""Helpers for the labs about the terminal and job control (03 and 05).

- The processes of a job are found by what they run (/proc/PID/cmdline), not by PID order, which
  wraps around.
- `JobShell` is a shell with job control on a fresh pty: the lab's own jsh, run directly on the pty
  as its session leader, or bash (`PROCGROUP_JOB_SHELL=bash`), which the project's own tests use to
  show that the lab 05 checks about kernel state hold for a correct, widely used shell.
- `ShellStartedByBash` is the same shell typed into an interactive bash instead (`jsh &`, or
  `sh -c 'jsh; ...'`), the way a person starts one shell from another: then the shell's own start
  (waiting to be in the foreground, its own group, taking the terminal) has work to do.
- Every wait is for an event with a deadline (PATIENCE) that a correct program never comes near,
  and it gives up at once when the event has become impossible (the shell died, a process of the
  job ended), so that most wrong programs fail without waiting the deadline out either.
"""
from __future__ import annotations

import os
import platform
import re
import secrets
import signal
import time
from dataclasses import dataclass
from typing import Callable, Optional, Sequence, TypeVar

from grader import procfs, sessiontree
from grader.check import Grading
from grader.terminal import Terminal

SHELL_VARIABLE = "PROCGROUP_JOB_SHELL"  # "bash": grade lab 05's kernel checks against bash
PATIENCE = 5.0  # seconds for anything a correct program does at once, on a loaded machine too
JSH_PROMPT = re.compile(rb"jsh> ")

T = TypeVar("T")


def job_shell_is_bash() -> bool:
    return os.environ.get(SHELL_VARIABLE, "") == "bash"


# -- /proc, a few more views -----------------------------------------------------------------------

def children(pid: int) -> list[procfs.Stat]:
    """The living children (and zombies) of `pid`."""
    try:
        with open(f"/proc/{pid}/task/{pid}/children", encoding="ascii") as handle:
            pids = [int(word) for word in handle.read().split()]
    except OSError:  # gone, or a kernel without the children file
        pids = [s.pid for s in procfs.all_stats() if s.ppid == pid]
    return [s for s in (procfs.try_stat(child) for child in pids) if s is not None]


def cmdline(pid: int) -> Optional[tuple[str, ...]]:
    """The arguments a process runs with; None once it is gone (or a zombie)."""
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as handle:
            data = handle.read()
    except OSError:
        return None
    if not data:
        return None
    return tuple(part.decode("utf-8", "replace") for part in data.rstrip(b"\0").split(b"\0"))


def state(pid: int) -> str:
    """The process's state letter, or '' when it is gone."""
    found = procfs.try_stat(pid)
    return found.state if found else ""


def ended(pid: int) -> bool:
    return state(pid) in ("", "Z", "X")


def describe(stats: Sequence[procfs.Stat]) -> str:
    """'5001 sleep [T] in group 5001, 5002 sleep [S] in group 5001'."""
    return ", ".join(f"{s.pid} {s.comm} [{s.state}] in group {s.pgid}" for s in stats) or "none"


def session_tree(leader: int, foreground: Optional[int]) -> str:
    """The session of `leader`: itself and everything below it, foreground group marked."""
    found: list[procfs.Stat] = []
    frontier = [leader]
    while frontier:
        pid = frontier.pop()
        current = procfs.try_stat(pid)
        if current is None:
            continue
        found.append(current)
        frontier.extend(child.pid for child in children(pid) if child.pid != pid)
    if not found:
        return "(no process of this session is left)"
    sid = found[0].sid
    return sessiontree.draw_session(sid, [s for s in found if s.sid == sid], foreground)


def blocked_in_wait_without_stops(pid: int) -> bool:
    """The process sleeps in wait4()/waitid() without WUNTRACED/WSTOPPED: a child's stop will not end
    that wait. Read from /proc/PID/syscall (the blocked call and its arguments); x86-64 only."""
    if platform.machine() != "x86_64":
        return False
    try:
        with open(f"/proc/{pid}/syscall", encoding="ascii") as handle:
            fields = handle.read().split()
    except OSError:
        return False
    try:
        if fields[0] == "61":  # wait4(pid, status, options, rusage)
            options = int(fields[3], 16)
            return not options & (os.WNOHANG | os.WUNTRACED)
        if fields[0] == "247":  # waitid(idtype, id, infop, options, rusage)
            options = int(fields[4], 16)
            return not options & (os.WNOHANG | os.WSTOPPED)
    except (IndexError, ValueError):
        pass
    return False


def signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


# -- waiting -------------------------------------------------------------------------------------

class GaveUp(Exception):
    """What a wait was for can no longer happen, or did not happen in time."""


def wait_for(
    terminal: Terminal,
    condition: Callable[[], Optional[T]],
    what: str,
    timeout: float = PATIENCE,
    give_up: Optional[Callable[[], Optional[str]]] = None,
) -> T:
    """Returns condition()'s first true value; reads the terminal meanwhile (a program blocked on a
    full pty must go on), and looks again whenever output comes, at least every 10 ms."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        reason = give_up() if give_up else None
        if reason:
            raise GaveUp(f"{what} never happened: {reason}")
        if time.monotonic() > deadline:
            raise GaveUp(f"{what} did not happen within {timeout:g} s")
        terminal.pump(0.01)


# -- a shell with job control on a pty --------------------------------------------------------------

@dataclass
class Job:
    """The processes of one job, in the order of its command line, as /proc showed them."""

    processes: list[procfs.Stat]

    @property
    def pids(self) -> list[int]:
        return [p.pid for p in self.processes]

    @property
    def first(self) -> procfs.Stat:
        return self.processes[0]

    def now(self) -> list[procfs.Stat]:
        """The job's processes as they are now (those gone are left out)."""
        return [s for s in (procfs.try_stat(pid) for pid in self.pids) if s is not None]

    def states(self) -> dict[int, str]:
        return {pid: state(pid) for pid in self.pids}


class JobShell:
    """jsh (the lab's program) or bash, on a fresh pty as its session leader, at its first prompt."""

    def __init__(self, grading: Grading, bash: bool) -> None:
        self.bash = bash
        if bash:
            shell = grading.shell()  # bash with job control, no rc files; waits for its prompt
            self.terminal: Terminal = shell
            self.prompt: re.Pattern[bytes] = shell.prompt
            self.name = "bash"
        else:
            self.terminal = grading.terminal([grading.program("jsh")])
            self.prompt = JSH_PROMPT
            self.name = "jsh"
        self.pid = self.terminal.pid
        self.exit_status: Optional[int] = None  # once it has ended: its exit status, or -signal
        if not bash:
            self.wait_prompt(0, "the shell's first prompt")

    # -- typing ------------------------------------------------------------------------------------

    def position(self) -> int:
        """Where in the transcript what happens from now on will show."""
        self.terminal.drain()
        return len(self.terminal.transcript)

    def type_line(self, line: str) -> int:
        start = self.position()
        self.terminal.type_line(line)
        return start

    def press(self, key: str) -> int:
        start = self.position()
        self.terminal.press_control(key)
        return start

    # -- looking -------------------------------------------------------------------------------------

    def alive(self) -> bool:
        if self.exit_status is not None:
            return False
        try:
            if self.terminal.child.isalive():
                return state(self.pid) not in ("", "Z")
        except Exception:  # reaped by someone else already
            pass
        child = self.terminal.child
        if child.exitstatus is not None:
            self.exit_status = child.exitstatus
        elif child.signalstatus is not None:
            self.exit_status = -child.signalstatus
        else:
            self.exit_status = -1
        return False

    def how_it_ended(self) -> str:
        if self.alive():
            return "the shell is still running"
        status = self.exit_status
        if status is not None and status >= 0:
            return f"the shell exited with status {status}"
        if status is not None and status < 0:
            return f"the shell was killed by {signal_name(-status)}"
        return "the shell has ended"

    def gone(self) -> Optional[str]:
        """A reason to stop waiting for the shell: it has ended."""
        return None if self.alive() else self.how_it_ended()

    def foreground(self) -> Optional[int]:
        return self.terminal.foreground_group()

    def stat(self) -> Optional[procfs.Stat]:
        return procfs.try_stat(self.pid)

    def children(self) -> list[procfs.Stat]:
        return children(self.pid)

    def waiting_for_children(self) -> bool:
        """The shell sleeps in wait()/waitpid() in the kernel."""
        return procfs.wchan(self.pid) == "do_wait"

    def since(self, start: int) -> str:
        return self.terminal.since(start)

    def prompted_since(self, start: int) -> bool:
        self.terminal.drain()
        return self.prompt.search(self.terminal.transcript, start) is not None

    def tree(self) -> str:
        return session_tree(self.pid, self.foreground())

    # -- waiting -------------------------------------------------------------------------------------

    def wait_prompt(self, start: int, what: str, timeout: float = PATIENCE,
                    hopeless: Optional[Callable[[], Optional[str]]] = None) -> str:
        """Waits for the next prompt after `start`; returns the output before it. `hopeless` may
        name a reason why no prompt can come any more."""

        def found() -> Optional[re.Match[bytes]]:
            return self.prompt.search(self.terminal.transcript, start)

        def give_up() -> Optional[str]:
            self.terminal.drain()
            if found():
                return None
            return self.gone() or (hopeless() if hopeless else None)

        match = wait_for(self.terminal, found, what, timeout, give_up)
        return self.terminal.transcript[start:match.start()].decode("utf-8", "replace")

    def wait_job(self, start: int, argvs: Sequence[Sequence[str]], foreground: bool) -> Job:
        """Waits until every process of the job typed at `start` has exec'd its program.

        For a foreground job it then waits until the terminal has been handed to the job's group or
        the shell sits in waitpid() (then it has done all it does before waiting): a shell that
        hands over the terminal at all has done it by then. Ctrl-C and Ctrl-Z are typed only after.
        """
        wanted = [tuple(argv) for argv in argvs]
        seen: dict[int, str] = {}

        def running() -> Optional[list[procfs.Stat]]:
            kids = self.children()
            for kid in kids:
                seen.setdefault(kid.pid, kid.comm)
            chosen: list[procfs.Stat] = []
            for argv in wanted:
                match = next((k for k in kids if k not in chosen and k.state != "Z" and cmdline(k.pid) == argv),
                             None)
                if match is None:
                    return None
                chosen.append(match)
            return chosen

        def give_up() -> Optional[str]:
            if foreground and self.prompted_since(start):
                return f"the shell prompted again first; it printed: {self.since(start).strip()!r}"
            kids = self.children()
            stopped = [f"{k.pid} ({k.comm})" for k in kids if k.state == "T" and cmdline(k.pid) not in wanted]
            if stopped:
                return f"process {', '.join(stopped)} was stopped (state T) before it ran its program"
            living = {k.pid for k in kids if k.state != "Z"}
            vanished = [f"{pid} ({comm})" for pid, comm in seen.items() if pid not in living]
            if vanished:
                return f"process {', '.join(vanished)} of the job ended first"
            if not foreground and not kids and self.prompted_since(start):
                # The shell forks a background job before it prompts: with no child left after the
                # prompt, the job has come and gone (too fast for /proc to show it running).
                return "the job's process ended first (the shell has no child left)"
            return self.gone()

        command = " | ".join(" ".join(argv) for argv in wanted)
        job = Job(wait_for(self.terminal, running, f"every process of '{command}' running its program",
                           give_up=give_up))
        if foreground:
            group = job.first.pgid
            wait_for(self.terminal, lambda: self.foreground() == group or self.waiting_for_children()
                     or not self.alive(), "the shell handing the terminal over or waiting for the job")
            job = Job([procfs.try_stat(pid) or old for pid, old in zip(job.pids, job.processes)])
        return job


class ShellStartedByBash(JobShell):
    """jsh (or bash) typed into an interactive bash on a fresh pty, as a person starts one shell from
    another. `outer` is that bash, the session leader; the shell under test is found by what it runs
    once the line that starts it has been typed (start(), then find())."""

    def __init__(self, grading: Grading, bash: bool) -> None:
        self.bash = bash
        self.outer = grading.shell(programs=() if bash else ["jsh"])
        self.terminal = self.outer
        if bash:
            # A prompt of its own, told apart from the outer bash's. It shows a command number where
            # the command line has \# (typed \\#, unquoted, so that it fits inside sh -c '...' too):
            # the outer bash's job reports repeat the command line, and so never match it.
            token = secrets.token_hex(4)
            self.command = f"env PS1=inner-{token}-\\\\#: bash --norc --noprofile --noediting -i"
            self.argv: tuple[str, ...] = ("bash", "--norc", "--noprofile", "--noediting", "-i")
            self.prompt = re.compile(rb"inner-" + token.encode() + rb"-\d+:")
            self.name = "bash"
        else:
            self.command = "jsh"
            self.argv = ("jsh",)
            self.prompt = JSH_PROMPT
            self.name = "jsh"
        self.pid = 0  # known once find() has found it
        self.exit_status = None

    def start(self, line: str) -> int:
        """Types `line` into the outer bash, `{shell}` in it replaced by the command that starts the shell."""
        return self.type_line(line.replace("{shell}", self.command))

    def find(self, start: int) -> procfs.Stat:
        """Waits until the shell typed at `start` runs (a descendant of the outer bash runs its argv)."""
        outer = self.outer

        def running() -> Optional[procfs.Stat]:
            for process in procfs.descendants(outer.pid):
                if process.state != "Z" and cmdline(process.pid) == self.argv:
                    return process
            return None

        def give_up() -> Optional[str]:
            gone = outer.shell_gone()
            if gone:
                return gone
            if outer.ended_since(start) and all(s.state == "Z" for s in procfs.descendants(outer.pid)):
                return f"what bash started has already ended; the terminal showed {self.since(start).strip()!r}"
            return None

        found = wait_for(outer, running, f"{self.name} running", give_up=give_up)
        self.pid = found.pid
        return found

    def alive(self) -> bool:
        return self.pid != 0 and state(self.pid) not in ("", "Z")

    def how_it_ended(self) -> str:
        return "the shell is still running" if self.alive() else f"{self.name} has ended"

    def tree(self) -> str:
        return session_tree(self.outer.pid, self.foreground())
