"""Driving one program typed into a shell through its checkpoints, step by step, without ever
hanging on a program that got it wrong.

Each wait has a deadline and a give-up: a reason, read from the kernel, why what we wait for can no
longer come (the shell prompted again, the process ended, everyone is asleep waiting in vain). A step
that never came is recorded with its reason, so the checks that need it can say why.
"""
from __future__ import annotations

from typing import Callable, Optional

from grader import procfs, signals
from grader.check import CheckFailed, Grading
from grader.checkpoints import Arrival, CheckpointNeverReached
from grader.terminal import Command, Shell, TerminalTimeout

GiveUp = Callable[[], Optional[str]]


class Steps:
    """One command typed into `shell`, and the checkpoints it reached or did not."""

    def __init__(self, grading: Grading, shell: Shell, command: str) -> None:
        self.grading = grading
        self.shell = shell
        self.command = command
        self.start = shell.type_line(command)
        self.missing: dict[str, str] = {}  # checkpoint -> why it never came
        self.stuck = ""  # set when the program can make no more progress by itself

    def prompted(self) -> Optional[str]:
        """A reason to give up: the shell prompted again, so the program has ended."""
        return self.shell.ended_since(self.start)

    def job_asleep(self) -> Optional[str]:
        """A reason to give up: every process of the job waits for another of them, for ever."""
        found = procfs.descendants(self.shell.pid)
        job = [s.pid for s in found]
        # While the shell's own child has ended, the shell is about to reap it and prompt: not stuck.
        living = [s for s in found if s.ppid == self.shell.pid and s.state not in ("Z", "X")]
        if living and signals.asleep_for_good(job):
            return "the program waits for ever: " + ", ".join(f"{p} {signals.describe(p)}" for p in job)
        return None

    def reach(self, name: str, *give_ups: GiveUp, timeout: float = 10.0, pid: Optional[int] = None,
              outlives_command: bool = False) -> Optional[Arrival]:
        """The next arrival at `name`, or None (and the reason recorded) if it cannot come.

        `outlives_command`: the process that reaches it may still run after the shell prompts again
        (an orphan), so the prompt is no reason to give up.
        """

        def give_up() -> Optional[str]:
            for reason in ((*give_ups,) if outlives_command else (self.prompted, *give_ups)):
                why = reason()
                if why:
                    return why
            return None

        try:
            return self.grading.checkpoints.wait(name, timeout=timeout, pid=pid, give_up=give_up)
        except CheckpointNeverReached as error:
            self.missing.setdefault(name, str(error))
            if "had already ended" not in str(error) and "ended first" not in str(error):
                self.stuck = self.stuck or str(error)
            return None

    def settle(self, condition: Callable[[], bool], timeout: float, what: str) -> bool:
        """Waits (reading the terminal meanwhile) until `condition`; False if the deadline passed."""
        try:
            self.shell.wait_until(condition, timeout, what)
            return True
        except TerminalTimeout:
            return False

    def finish(self, timeout: float = 5.0) -> Command:
        """Releases whatever is still held and waits for the prompt; a stuck program is not waited for."""
        checkpoints = self.grading.checkpoints

        def done() -> bool:
            for arrival in checkpoints.arrivals():
                arrival.release()
            return self.shell.prompt.search(self.shell.transcript, self.start) is not None

        def done_or_stuck() -> bool:
            if done():
                return True
            self.stuck = self.job_asleep() or ""
            return bool(self.stuck)

        if not self.stuck and self.settle(done_or_stuck, timeout, "the prompt") and not self.stuck:
            return self.shell.wait_prompt(self.start, self.command, 1.0)
        for arrival in checkpoints.arrivals():
            arrival.release()
        self.shell.drain()
        if not self.stuck:
            self.stuck = f"{self.command} did not end within {timeout:g} s"
        return Command(self.command, self.shell.since(self.start), -1)

    def never_reached(self, name: str, what: str, advice: str = "") -> CheckFailed:
        """The failure for a check whose moment never came."""
        why = self.missing.get(name, f"checkpoint '{name}' never reached")
        return CheckFailed(what, why, advice)


def ended_reason(pid: Optional[int], who: str) -> GiveUp:
    """A give-up: `who` (PID `pid`) has ended, with how, as the kernel tells it."""

    def reason() -> Optional[str]:
        if pid is not None and signals.ended(pid):
            return f"{who} {pid} ended first: {signals.describe(pid)}"
        return None

    return reason
