"""What a check is, and the context it runs in.

A check is a pytest test marked with @check(points, hint): its docstring's first line is the name a
student sees. It gets a `grading` fixture (a Grading): a private folder, a checkpoint server, shells and
terminals to run programs in, and fail(), which stops the check with a message that teaches.
"""
from __future__ import annotations

import os
import re
import shutil
import signal
import tempfile
from collections import Counter
from contextlib import contextmanager
from typing import Callable, Iterator, Optional, Sequence

import pytest

from grader import containment, procfs, sessiontree
from grader.build import LabBuild
from grader.checkpoints import Arrival, CheckpointServer
from grader.terminal import Shell, Terminal


def check(points: int, hint: str, timeout: float = 30.0) -> pytest.MarkDecorator:
    """Marks a graded check: its points, the handout section its hint points to, its time limit."""
    return pytest.mark.check(points=points, hint=hint, timeout=timeout)


class CheckTimedOut(Exception):
    """A check ran past its time limit."""


@contextmanager
def deadline(seconds: float) -> Iterator[None]:
    """Interrupts whatever runs inside after `seconds`, with CheckTimedOut."""

    def expire(signum: int, frame: object) -> None:
        raise CheckTimedOut(f"the check did not finish within its {seconds:g} s limit; {activity()}")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def activity() -> str:
    """What the lab's processes were doing when a check ran out of time (a loop that never ends,
    a fork bomb and a program waiting for ever look different here)."""
    processes = [s for s in procfs.descendants(os.getpid()) if s.state != "Z"]
    if not processes:
        return "no process of the lab was left at that moment"
    names = Counter(s.comm for s in processes)
    listed = ", ".join(f"{name} x{count}" if count > 1 else name for name, count in names.most_common(4))
    if len(names) > 4:
        listed += ", ..."
    running = sum(s.state == "R" for s in processes)
    doing = f"{running} of them running on the CPU" if running else "all of them waiting"
    return f"at that moment the lab had {len(processes)} process(es) ({listed}), {doing}"


class CheckFailed(AssertionError):
    """A check's verdict: what was expected, what was observed (from the kernel wherever it can be)."""

    def __init__(self, expected: str, observed: str, advice: str = "", at: Optional[Arrival] = None) -> None:
        super().__init__(f"expected {expected}; observed {observed}")
        self.expected = expected
        self.observed = observed
        self.advice = advice
        self.at = at  # the checkpoint the observation was made at, whose process tree the report shows


class Grading:
    """Everything one check starts lives here, and teardown() leaves nothing of it behind."""

    def __init__(self, lab: LabBuild, run_as: containment.RunAs, limits: containment.Limits) -> None:
        self.lab = lab
        self.run_as = run_as
        self.limits = limits
        self.workdir = tempfile.mkdtemp(prefix=f"procgroup-{lab.lab[:2]}-")  # mode 0700
        run_as.give(self.workdir)  # the lab programs' own, and no other grading's programs can look in
        self.checkpoints = CheckpointServer(self.workdir)
        self.terminals: list[Terminal] = []

    # -- starting programs -------------------------------------------------------------------------

    def environment(self, extra: Optional[dict[str, str]] = None) -> dict[str, str]:
        """A clean environment: the lab's programs first on PATH, the checkpoint socket, nothing else."""
        env = {
            "PATH": f"{self.lab.bin_dir}:/usr/local/bin:/usr/bin:/bin",
            "HOME": self.workdir,
            "TERM": "dumb",
            "LANG": "C.UTF-8",
            "LC_ALL": "C.UTF-8",
            **self.checkpoints.environment,
        }
        env.update(extra or {})
        return env

    def program(self, name: str) -> str:
        """The path of one of the lab's programs (fails the check if it did not build)."""
        return self.lab.binary(name)

    def shell(self, programs: Optional[Sequence[str]] = None, extra_env: Optional[dict[str, str]] = None,
              blocked_signals: Sequence[int] = ()) -> Shell:
        """A fresh pty with an interactive bash on it, job control on, ready at its prompt.

        `programs` are the lab's programs the check will type (default: all of them): each must have
        built, or the check fails saying so. A check that types only some of them is not failed by
        another one that does not compile. `blocked_signals` start bash with those signals blocked;
        bash passes its mask on to what it runs.
        """
        for name in self.lab.programs if programs is None else programs:
            self.lab.binary(name)
        shell = Shell(self.environment(extra_env), self.workdir, self.child_setup(blocked_signals))
        self.terminals.append(shell)
        return shell

    def terminal(self, argv: Sequence[str], extra_env: Optional[dict[str, str]] = None) -> Terminal:
        """A fresh pty with `argv` run directly on it, as its session leader (for labs that are shells)."""
        terminal = Terminal(argv, self.environment(extra_env), self.workdir, self.child_setup())
        self.terminals.append(terminal)
        return terminal

    def child_setup(self, blocked_signals: Sequence[int] = ()) -> Callable[[], None]:
        return containment.child_setup(self.run_as, self.limits, blocked_signals)

    def path(self, name: str) -> str:
        """A path inside this check's private folder."""
        return os.path.join(self.workdir, name)

    def leftovers(self, keep: Sequence[int] = ()) -> list[procfs.Stat]:
        """Processes this check started that are still there (zombies included), but those in `keep`."""
        return [s for s in procfs.descendants(os.getpid()) if s.pid not in keep]

    # -- verdicts -------------------------------------------------------------------------------


    def session_tree(self) -> str:
        sessions = sessiontree.sessions_below(os.getpid())
        if not sessions:
            return "(no process of this check is left)"
        foreground = {}
        for terminal in self.terminals:
            group = terminal.foreground_group()
            leader = procfs.try_stat(terminal.pid)
            if group is not None and leader is not None:
                foreground[leader.sid] = group
        return sessiontree.draw_sessions(sessions, foreground)

    def transcript(self, max_lines: int = 30) -> str:
        """What the terminals showed, with what was typed, and each shell prompt shown as '$ '."""
        parts = []
        for terminal in self.terminals:
            try:
                terminal.drain()
            except Exception:  # a flood: what we have is enough to show
                pass
            shown = terminal.display()
            if isinstance(terminal, Shell):
                shown = terminal.prompt.sub(b"$ ", shown)
            text = shown.decode("utf-8", "replace")
            lines = [line.rstrip("\r") for line in text.split("\n")]
            while lines and not lines[-1].strip():
                lines.pop()
            if len(lines) > max_lines:
                lines = [f"... ({len(lines) - max_lines} earlier lines)"] + lines[-max_lines:]
            parts.append("\n".join(re.sub(r"[\x00-\x08\x0b-\x1f\x7f]", "?", line) for line in lines))
        return "\n".join(part for part in parts if part.strip())

    # -- teardown -------------------------------------------------------------------------------

    def teardown(self) -> None:
        containment.kill_descendants()
        for terminal in self.terminals:
            terminal.close()
        self.checkpoints.close()
        containment.reap_children()
        shutil.rmtree(self.workdir, ignore_errors=True)
