"""Lab 03: the terminal and its foreground group. Handout: labs/03-terminal/README.md.

fg_group and proc_info are typed into one interactive bash on a fresh pty, the ways the handout
runs them (plainly, with '&', in pipelines, with stdin from /dev/null). Each is held at its
'printed' checkpoint while the grader reads /proc and asks the terminal itself for its foreground
group (tcgetpgrp on the master side); each check judges one of those commands.

tty_io's checks each get a fresh bash (the terminal's tostop flag differs between them): the
program is held at 'before-io', then the grader watches the kernel stop it (state T), or not.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Callable, Optional

import pytest

from grader import lines, procfs
from grader.check import CheckFailed, Grading, check, deadline
from grader.build import NotBuilt
from grader.checkpoints import Arrival, CheckpointNeverReached
from grader.jobcontrol import PATIENCE, GaveUp, children, describe, ended, state, wait_for
from grader.terminal import Shell, TerminalTimeout

LAB = "03-terminal"
PROGRAMS = ["fg_group.c", "proc_info.c", "tty_io.c"]

NO_TERMINAL = "Foreground PGID=none (stdin is not a terminal)"
STARTED = re.compile(rb"\[\d+\] (\d+)")


def output_since(shell: Shell, start: int) -> str:
    """What was printed since `start`, with bash's prompts taken out (a background program's line
    may follow a prompt on the same line)."""
    shell.drain()
    return shell.prompt.sub(b"\n", bytes(shell.transcript[start:])).decode("utf-8", "replace")


def still(pid: int) -> str:
    """The kernel's view of a process that should have ended by now."""
    found = procfs.try_stat(pid)
    return describe([found]) if found is not None else f"{pid} has just ended"


def program_ended(shell: Shell, start: int, background: bool) -> Callable[[], Optional[str]]:
    """A reason to stop waiting for a program typed at `start`: it has ended."""

    def reason() -> Optional[str]:
        if not background:
            return shell.ended_since(start)
        shell.drain()
        found = STARTED.search(shell.transcript, start)
        if found and ended(int(found.group(1))):
            return "the program had already ended"
        return None

    return reason


# -- fg_group and proc_info: one shell, six commands ---------------------------------------------

@dataclass
class Shown:
    """One command: the kernel's view while its program was held at 'printed', and its output."""

    command: str
    arrival: Optional[Arrival] = None
    foreground: Optional[int] = None  # the terminal's foreground group, asked on the master side
    members: list[procfs.Stat] = field(default_factory=list)  # the shell's children then
    output: str = ""
    problem: Optional[Exception] = None

    def at(self) -> tuple[Arrival, procfs.Stat]:
        if self.problem is not None:
            raise self.problem
        assert self.arrival is not None
        if self.arrival.stat is None:
            raise CheckFailed("to read /proc at checkpoint 'printed'", "the process was already gone")
        return self.arrival, self.arrival.stat

    @property
    def lines(self) -> list[str]:
        return [line.rstrip("\r") for line in self.output.split("\n") if line.strip()]

    def line(self, label: str) -> str:
        found = lines.first_labelled(self.lines, label)
        if found is None:
            raise CheckFailed(f"a line starting with '{label}' from '{self.command}'",
                              f"no such line; it printed {self.output.strip()!r}", at=self.arrival)
        return found

    def word(self, label: str) -> str:
        """The word after 'label=' ('yes' for 'In foreground=yes')."""
        found = re.search(re.escape(label) + r"=(\S+)", self.output)
        if found is None:
            raise CheckFailed(f"'{label}=...' in the output of '{self.command}'",
                              f"it printed {self.output.strip()!r}", at=self.arrival)
        return found.group(1)


@dataclass
class IdsRun:
    shell: procfs.Stat
    shown: dict[str, Shown]


def show(grading: Grading, shell: Shell, command: str, last: str, background: bool = False) -> Shown:
    """Runs one command, holding its program at 'printed' while the kernel is read."""
    shown = Shown(command)
    start = shell.type_line(command)
    try:
        arrival = grading.checkpoints.wait("printed", give_up=program_ended(shell, start, background))
    except CheckpointNeverReached as error:
        shown.problem = error
    else:
        shown.arrival = arrival
        shown.foreground = shell.foreground_group()
        if "|" in command:
            # bash forks every member of a pipeline and each then execs its program; on a loaded
            # machine the other member may not have exec'd yet. Its group is already right: this
            # relies on bash, which calls setpgid for each member from its own side right after
            # forking it, and holds the group's leader (the first member) before its exec until
            # every member has been forked (on a pipe that bash then closes; seen with strace).
            # But the checks name members by what they run, so wait (this one is held) until both do.
            try:
                shell.wait_until(lambda: all(c.comm != "bash" for c in children(shell.pid)), PATIENCE,
                                 "the pipeline's other command to start")
            except TerminalTimeout:
                pass  # require_one_group says what the shell's children were
        shown.members = children(shell.pid)
        arrival.release()
    try:
        shell.expect(re.escape(last) + r"[^\r\n]*\r?\n", timeout=PATIENCE, start=start)
    except TerminalTimeout:
        pass  # the checks say which line is missing
    if command.startswith("cat |"):
        shell.press_control("d")  # end of input for cat
    if background:
        found = STARTED.search(shell.transcript, start)
        if found:
            pid = int(found.group(1))
            try:
                shell.wait_until(lambda: ended(pid), PATIENCE, "the background program ending")
            except TerminalTimeout:
                shown.problem = CheckFailed(
                    f"'{command}' to end once it has printed its lines and left its checkpoint 'printed'",
                    f"{PATIENCE:g} s later it is still there: kernel: {still(pid)}; it printed "
                    f"{output_since(shell, start).strip()!r}", at=shown.arrival)
        shell.run("")  # bash reports the finished job; the output is complete
    else:
        shell.wait_prompt(start, command, timeout=PATIENCE)
    shown.output = output_since(shell, start)
    return shown


@pytest.fixture(scope="module")
def ids(lab_grading: Grading) -> IdsRun:
    """fg_group (plainly and with '&') and proc_info (four ways), typed into one shell."""
    with deadline(25):
        grading = lab_grading
        grading.checkpoints.hold("printed")
        shell = grading.shell(programs=())  # each command below needs only its own program built
        run = IdsRun(procfs.stat(shell.pid), {})
        plan = [("fg_group", "In foreground=", False), ("fg_group &", "In foreground=", True),
                ("proc_info", "Session leader=", False), ("cat | proc_info", "Session leader=", False),
                ("proc_info | cat", "Session leader=", False), ("proc_info < /dev/null", "Session leader=", False)]
        for command, last, background in plan:
            program = "fg_group" if "fg_group" in command else "proc_info"
            try:
                grading.program(program)
            except NotBuilt as error:
                run.shown[command] = Shown(command, problem=error)
                continue
            try:
                run.shown[command] = show(grading, shell, command, last, background)
            except (TerminalTimeout, CheckpointNeverReached) as error:
                # The shell never came back: the commands after this one cannot run either.
                for rest, _, _ in plan[len(run.shown):]:
                    run.shown[rest] = Shown(rest, problem=CheckFailed(
                        f"'{command}' to end and the shell to prompt again", str(error)))
                break
        return run


def require_ids(shown: Shown) -> tuple[Arrival, procfs.Stat]:
    """The 'PID= PPID= PGID= SID=' line and both leader flags are the kernel's."""
    arrival, process = shown.at()
    id_line = shown.line("PID=")
    wrong = lines.mismatches(id_line, {"PID": process.pid, "PPID": process.ppid, "PGID": process.pgid,
                                       "SID": process.sid})
    if wrong:
        raise CheckFailed(f"'{shown.command}' to print the kernel's IDs", f"'{id_line.strip()}': {'; '.join(wrong)}",
                          at=arrival)
    for label, truth in (("Session leader", process.is_session_leader), ("Group leader", process.is_group_leader)):
        printed = shown.word(label)
        if printed != ("yes" if truth else "no"):
            raise CheckFailed(
                f"{label}={'yes' if truth else 'no'}",
                f"'{shown.command}' printed {label}={printed}; kernel: PID={process.pid} "
                f"{'SID' if label.startswith('Session') else 'PGID'}="
                f"{process.sid if label.startswith('Session') else process.pgid}", at=arrival)
    return arrival, process


def require_foreground_printed(shown: Shown, expected: int, why: str) -> None:
    printed = lines.values(shown.line("Foreground PGID=")).get("PGID")
    if printed != expected:
        raise CheckFailed(f"Foreground PGID={expected} ({why})",
                          f"'{shown.command}' printed '{shown.line('Foreground PGID=').strip()}'", at=shown.arrival)


@check(points=1, hint="section 'Tasks'")
def test_compiles(lab) -> None:
    """fg_group.c, proc_info.c and tty_io.c compile"""
    if not lab.ok:
        raise CheckFailed("the three programs to compile", lab.report())


@check(points=2, hint="section 2")
def test_fg_group_foreground(ids: IdsRun) -> None:
    """fg_group in the foreground: the printed foreground group is its own, as the kernel says"""
    shown = ids.shown["fg_group"]
    arrival, process = shown.at()
    if not (shown.foreground == process.pgid == process.tpgid):
        raise CheckFailed(f"fg_group's group {process.pgid} to be the terminal's foreground group",
                          f"the terminal's foreground group was {shown.foreground} (tpgid {process.tpgid})",
                          at=arrival)
    require_foreground_printed(shown, process.pgid, "the terminal's foreground group: fg_group's own group")
    wrong = lines.mismatches(shown.line("My PID="), {"PID": process.pid, "PGID": process.pgid})
    if wrong:
        raise CheckFailed("the 'My PID=' line to show the kernel's IDs", "; ".join(wrong), at=arrival)
    if shown.word("In foreground") != "yes":
        raise CheckFailed("In foreground=yes", f"In foreground={shown.word('In foreground')}, though its group "
                          f"{process.pgid} is the terminal's foreground group", at=arrival)


@check(points=2, hint="section 2")
def test_fg_group_background(ids: IdsRun) -> None:
    """`fg_group &`: the printed foreground group is the shell's; In foreground=no"""
    shown = ids.shown["fg_group &"]
    arrival, process = shown.at()
    shell_group = ids.shell.pgid
    if shown.foreground != shell_group or process.pgid == shell_group:
        raise CheckFailed(f"the shell's group {shell_group} in the foreground, fg_group in a group of its own",
                          f"the terminal's foreground group was {shown.foreground}; fg_group's group {process.pgid}",
                          at=arrival)
    require_foreground_printed(shown, shell_group, "the terminal's foreground group: the shell's")
    wrong = lines.mismatches(shown.line("My PID="), {"PID": process.pid, "PGID": process.pgid})
    if wrong:
        raise CheckFailed("the 'My PID=' line to show the kernel's IDs", "; ".join(wrong), at=arrival)
    if shown.word("In foreground") != "no":
        raise CheckFailed("In foreground=no", f"In foreground={shown.word('In foreground')}, but the terminal's "
                          f"foreground group is the shell's ({shell_group}) and fg_group is in group {process.pgid}",
                          "Leading a group is not being in the foreground: a background job leads its group too.",
                          at=arrival)


@check(points=2, hint="section 3")
def test_proc_info_plain(ids: IdsRun) -> None:
    """proc_info: every ID, the foreground group and both leader flags match the kernel"""
    shown = ids.shown["proc_info"]
    arrival, process = require_ids(shown)
    require_foreground_printed(shown, shown.foreground or -1, "the terminal's answer to tcgetpgrp")


def require_one_group(shown: Shown, leader_comm: str) -> procfs.Stat:
    """Both members of the pipeline are in one group, led by its first command."""
    arrival, process = shown.at()
    members = [m for m in shown.members if m.comm in ("cat", "proc_info")]
    leader = next((m for m in members if m.comm == leader_comm), None)
    if len(members) != 2 or leader is None or any(m.pgid != leader.pid for m in members):
        raise CheckFailed(f"cat and proc_info in one group, led by {leader_comm}",
                          f"the shell's children at 'printed': {describe(shown.members)}", at=arrival)
    return leader


@check(points=2, hint="section 4")
def test_proc_info_pipeline_last(ids: IdsRun) -> None:
    """`cat | proc_info`: PGID is cat's PID, not a group leader, and stdin is not a terminal"""
    shown = ids.shown["cat | proc_info"]
    leader = require_one_group(shown, "cat")
    arrival, process = require_ids(shown)
    second = shown.line("Foreground PGID=")
    if second.strip() != NO_TERMINAL:
        raise CheckFailed(f"'{NO_TERMINAL}' (stdin is the pipe from cat)",
                          f"'{second.strip()}'", at=arrival)
    if process.pgid != leader.pid:
        raise CheckFailed(f"proc_info in group {leader.pid}, cat's PID", f"kernel: PGID={process.pgid}", at=arrival)


@check(points=2, hint="section 4")
def test_proc_info_pipeline_first(ids: IdsRun) -> None:
    """`proc_info | cat`: it leads the group, and prints the foreground group asked on stdin"""
    shown = ids.shown["proc_info | cat"]
    require_one_group(shown, "proc_info")
    arrival, process = require_ids(shown)
    require_foreground_printed(shown, shown.foreground or -1,
                               "stdin is the terminal here, so proc_info can ask it; stdout is the pipe")


@check(points=1, hint="section 3")
def test_proc_info_no_terminal(ids: IdsRun) -> None:
    """`proc_info < /dev/null`: says `none (stdin is not a terminal)`, never -1"""
    shown = ids.shown["proc_info < /dev/null"]
    arrival, process = shown.at()
    second = shown.line("Foreground PGID=")
    if second.strip() != NO_TERMINAL:
        raise CheckFailed(f"'{NO_TERMINAL}' with stdin /dev/null", f"'{second.strip()}'",
                          "-1 is tcgetpgrp's error return, not a process group: check isatty(STDIN_FILENO) first.",
                          at=arrival)
    require_ids(shown)


# -- tty_io: each on a fresh shell ---------------------------------------------------------------

@dataclass
class TtyIo:
    shell: Shell
    start: int
    arrival: Arrival
    foreground: Optional[int]

    @property
    def pid(self) -> int:
        return self.arrival.pid

    def printed(self) -> str:
        return output_since(self.shell, self.start)

    def where_line(self) -> Optional[str]:
        return lines.first_labelled([line.rstrip("\r") for line in self.printed().split("\n")], "tty_io: PID=")


def start_tty_io(grading: Grading, setup: str, command: str) -> TtyIo:
    shell = grading.shell(programs=["tty_io"])
    shell.run(setup)
    grading.checkpoints.hold("before-io")
    start = shell.type_line(command)
    arrival = grading.checkpoints.wait("before-io", give_up=program_ended(shell, start, True))
    foreground = shell.foreground_group()
    arrival.release()
    return TtyIo(shell, start, arrival, foreground)


def wait_stopped_or_ended(io: TtyIo) -> str:
    """Waits until tty_io is stopped (T) or has ended; returns its state ('' once reaped)."""
    try:
        wait_for(io.shell, lambda: state(io.pid) in ("T", "Z", ""), "tty_io stopping or ending")
    except GaveUp:
        pass
    return state(io.pid)


def require_shell_report(io: TtyIo, report: str) -> None:
    """bash (in POSIX mode) names the stop signal in its job report, before one of its next prompts."""
    for _ in range(3):
        if report in io.shell.since(io.start):
            return
        io.shell.run("")
    raise CheckFailed(f"bash to report '{report}' for the stopped job",
                      f"it printed {io.printed().strip()!r}", at=io.arrival)


def require_where_line(io: TtyIo, shell_group: int) -> None:
    line = io.where_line()
    if line is None:
        raise CheckFailed("the line 'tty_io: PID=... background=...'", "no such line", at=io.arrival)
    process = io.arrival.stat
    truth = {"PID": io.pid, "PGID": process.pgid if process else -1}
    wrong = lines.mismatches(line.replace("Foreground PGID", "Foreground"), truth)
    printed_foreground = re.search(r"Foreground PGID=(-?\d+)", line)
    if printed_foreground is None or int(printed_foreground.group(1)) != shell_group:
        wrong.append(f"Foreground PGID should be the shell's group {shell_group}")
    if "background=yes" not in line:
        wrong.append("background should be yes: its group is not the terminal's foreground group")
    if wrong:
        raise CheckFailed("the kernel's view in tty_io's line", f"'{line.strip()}': {'; '.join(wrong)}",
                          at=io.arrival)


@check(points=2, hint="section 5")
def test_background_read_stops(grading: Grading) -> None:
    """`tty_io read &` is stopped by SIGTTIN (state T), says background=yes, and reads after `fg`"""
    io = start_tty_io(grading, "stty -tostop; set -o posix", "tty_io read &")
    shell_group = procfs.stat(io.shell.pid).pgid
    found = wait_stopped_or_ended(io)
    if found != "T":
        raise CheckFailed("the kernel to stop 'tty_io read &' with SIGTTIN when it reads (state T)",
                          f"it {'ended' if found in ('Z', '') else f'is in state {found}'}; it printed "
                          f"{io.printed().strip()!r}",
                          "A background read fails with EIO instead of stopping when SIGTTIN is ignored or blocked.",
                          at=io.arrival)
    require_shell_report(io, "Stopped(SIGTTIN)")
    require_where_line(io, shell_group)
    start = io.shell.type_line("fg")
    try:
        io.shell.wait_until(lambda: state(io.pid) != "T", PATIENCE, "tty_io continuing after 'fg'")
    except TerminalTimeout:
        raise CheckFailed("after 'fg', tty_io to continue (leave state T) and read a line",
                          f"{PATIENCE:g} s after 'fg': kernel: {still(io.pid)}; the terminal showed "
                          f"{io.shell.since(start).strip()!r}",
                          "fg gives the job the terminal and sends it SIGCONT; a stopped process that is continued "
                          "tries its read again.", at=io.arrival) from None
    io.shell.type_line("hello")
    try:
        io.shell.expect(r"tty_io: read 6 bytes: hello", timeout=PATIENCE, start=start)
    except TerminalTimeout:
        raise CheckFailed("after 'fg' and typing 'hello', 'tty_io: read 6 bytes: hello'",
                          f"it printed {io.shell.since(start).strip()!r}", at=io.arrival) from None


@check(points=2, hint="section 5")
def test_background_write_tostop(grading: Grading) -> None:
    """With `stty tostop`, `tty_io write &` is stopped by SIGTTOU (state T) and writes after `fg`"""
    io = start_tty_io(grading, "stty tostop; set -o posix", "tty_io write &")
    found = wait_stopped_or_ended(io)
    if found != "T" or io.where_line() is not None:
        raise CheckFailed("with tostop, the kernel to stop 'tty_io write &' with SIGTTOU before its line shows "
                          "(state T)",
                          f"it {'ended' if found in ('Z', '') else f'is in state {found}'}; it printed "
                          f"{io.printed().strip()!r}",
                          "A background write goes through when SIGTTOU is ignored or blocked.", at=io.arrival)
    require_shell_report(io, "Stopped(SIGTTOU)")
    start = io.shell.type_line("fg")
    try:
        io.shell.expect(r"tty_io: PID=[^\r\n]*background=yes", timeout=PATIENCE, start=start)
    except TerminalTimeout:
        raise CheckFailed("after 'fg', the line 'tty_io: ... background=yes' (it was in the background when it "
                          "looked)", f"it printed {io.shell.since(start).strip()!r}", at=io.arrival) from None


@check(points=1, hint="section 5")
def test_background_write_without_tostop(grading: Grading) -> None:
    """With `stty -tostop`, `tty_io write &` writes at once and ends without being stopped"""
    io = start_tty_io(grading, "stty -tostop", "tty_io write &")
    shell_group = procfs.stat(io.shell.pid).pgid
    try:
        wait_for(io.shell, lambda: io.where_line() is not None or state(io.pid) in ("T", "Z", ""),
                 "tty_io writing")
    except GaveUp:
        pass
    if io.where_line() is None:
        found = state(io.pid)
        raise CheckFailed("without tostop, the background write to go through",
                          f"tty_io {'was stopped (state T)' if found == 'T' else 'ended'} and its line never "
                          f"appeared; it printed {io.printed().strip()!r}",
                          "Only changing the terminal (tcsetpgrp, tcsetattr) from the background stops a process "
                          "with SIGTTOU whatever tostop says.", at=io.arrival)
    try:
        io.shell.wait_until(lambda: ended(io.pid), PATIENCE, "tty_io ending")
    except TerminalTimeout:
        raise CheckFailed("without tostop, 'tty_io write &' to end once its line is written",
                          f"its line appeared, but {PATIENCE:g} s later it is still there: kernel: {still(io.pid)}",
                          "tty_io write writes its one line and returns from main.", at=io.arrival) from None
    require_where_line(io, shell_group)


@check(points=1, hint="section 5")
def test_ignored_sigttin_read_fails(grading: Grading) -> None:
    """`tty_io read --ignore &` ignores SIGTTIN, and its read fails with EIO instead of stopping"""
    io = start_tty_io(grading, "stty -tostop", "tty_io read --ignore &")
    status = io.arrival.status
    if status is None or not status.ignores(21):
        shown = f"{status.sig_ignored:016x}" if status else "unreadable"
        raise CheckFailed("SIGTTIN (21) ignored at 'before-io': SigIgn mask 0000000000100000",
                          f"SigIgn {shown} in /proc/PID/status", at=io.arrival)
    failed = re.compile(rb"tty_io: read failed: Input/output error")
    try:
        wait_for(io.shell, lambda: failed.search(io.shell.transcript, io.start) or state(io.pid) in ("T", "Z", ""),
                 "tty_io's read failing")
        io.shell.drain()
    except GaveUp:
        pass
    if not failed.search(io.shell.transcript, io.start):
        found = state(io.pid)
        raise CheckFailed("'tty_io: read failed: Input/output error'",
                          f"tty_io {'was stopped (state T)' if found == 'T' else 'is in state ' + (found or 'gone')}; "
                          f"it printed {io.printed().strip()!r}", at=io.arrival)
