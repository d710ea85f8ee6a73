"""One run of a lab's scenario, as the checks judge it: what the programs printed, their exit
statuses, what the kernel showed at each checkpoint, and what was left running afterwards."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

from grader import lines, procfs
from grader.build import NotBuilt
from grader.check import CheckFailed, Grading
from grader.checkpoints import Arrival, CheckpointNeverReached
from grader.terminal import Command, Shell


@dataclass
class Run:
    shell: procfs.Stat  # the shell the programs were typed into, as it was after the run
    commands: dict[str, Command]  # by the command typed
    arrivals: dict[str, Arrival]  # the first arrival at each checkpoint
    leftovers: list[procfs.Stat]  # processes still there once the shell prompted again
    unbuilt: dict[str, NotBuilt] = field(default_factory=dict)  # programs not run: why they did not build

    @classmethod
    def collect(cls, grading: Grading, shell: Shell, commands: list[Command],
                unbuilt: Optional[dict[str, NotBuilt]] = None) -> "Run":
        arrivals: dict[str, Arrival] = {}
        for arrival in grading.checkpoints.arrivals():
            arrivals.setdefault(arrival.name, arrival)
        return cls(procfs.stat(shell.pid), {c.command: c for c in commands}, arrivals,
                   grading.leftovers(keep=[shell.pid]), unbuilt or {})

    def require_built(self, program: str) -> None:
        """Fails a check about `program` if it was not run because it did not build."""
        if program in self.unbuilt:
            raise self.unbuilt[program]

    def at(self, name: str) -> Arrival:
        if name not in self.arrivals:
            raise CheckpointNeverReached(name, 0, "the program ended without calling it")
        return self.arrivals[name]

    def stat_at(self, name: str) -> procfs.Stat:
        arrival = self.at(name)
        if arrival.stat is None:
            raise CheckFailed(f"to read /proc at checkpoint '{name}'", "the process was already gone")
        return arrival.stat

    def line(self, label: str, containing: str = "", command: Optional[str] = None, number: int = 0) -> str:
        """The `number`th output line starting with `label` (and holding `containing`)."""
        chosen = [self.commands[command]] if command else list(self.commands.values())
        found = [line for c in chosen for line in lines.labelled(c.lines, label) if containing in line]
        if len(found) <= number:
            wanted = f"a line starting with '{label}'" + (f" that mentions {containing}" if containing else "")
            raise CheckFailed(wanted + (f" from {command}" if command else ""), "no such line in the output")
        return found[number]

    def require_no_leftovers(self, program: str = "", stopped_means: str = "",
                             when: str = "once the shell prompts again") -> None:
        """Fails if a process `program` started is still there `when` the run was collected, zombies
        included; `stopped_means` says what a stopped (T) one shows, where a lab teaches that."""
        if not self.leftovers:
            return
        described = ", ".join(f"{s.pid} {s.comm} [{s.state}]" for s in self.leftovers)
        if stopped_means and any(s.state in ("T", "t") for s in self.leftovers):
            described += f" (T: {stopped_means})"
        if any(s.state == "Z" for s in self.leftovers):
            described += " (Z: a zombie nobody reaped)"
        raise CheckFailed(f"no process {f'of {program} ' if program else ''}left {when}",
                          f"still there: {described}")

    def require_clean_exit(self, program: str = "") -> None:
        """Every command exited with status 0 and nothing it started is left, zombies included."""
        for error in self.unbuilt.values():
            raise error
        self.require_no_leftovers(program)
        for command in self.commands.values():
            if command.status != 0:
                raise CheckFailed(f"{command.command} to exit with status 0", f"exit status {command.status}")


def require_matching(line: str, truth: dict[str, int], what: str, at: Optional[Arrival] = None) -> None:
    """Fails unless the NAME=value pairs of a printed line are the kernel's values."""
    wrong = lines.mismatches(line, truth)
    if wrong:
        raise CheckFailed(f"{what} to print the kernel's IDs", f"'{line.strip()}': {'; '.join(wrong)}", at=at)
