"""Lab 08: hangups and orphaned process groups. Handout: labs/08-hangup/README.md.

Two runs, each typed into a fresh interactive bash, each judged by several checks; the programs log
to a file in the check's private folder, because after a hangup there is no terminal to print on.

- hangup_pair: both processes are held at 'parent-ready' and 'child-ready' (dispositions in place)
  while the grader reads them; then the grader closes the pty's master side. From there on it watches
  /proc and the log: the parent is held at 'parent-survived' while the grader reads the log, and the
  orphans (bash is gone) become the grader's children, whose exit statuses it reads and reaps.
- orphan_group: the child is held at 'child-stopping' until its parent waits for it in waitpid(), so
  the group is always orphaned while the child is stopped; a parent that exits without waiting is let
  go first, so its mistake shows every time. The child is held at 'child-adopted' while the grader
  reads the log (the handler lines must be in the file by then), and at 'child-reading' until the shell
  has taken the terminal back.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from typing import Callable, Optional

import pytest

from grader import containment, lines, procfs, signals
from grader.check import CheckFailed, Grading, check, deadline
from grader.checkpoints import Arrival
from grader.scenario import Run
from grader.steps import Steps, ended_reason
from grader.terminal import Command, Shell

LAB = "08-hangup"
PROGRAMS = ["hangup_pair.c", "orphan_group.c"]

SIGHUP = 1
SETTLE = 5.0  # seconds for what a correct program does in milliseconds (die, exit, log)


def log_tail(log: list[str], count: int = 4) -> str:
    return " / ".join(log[-count:]) if log else "(the log is empty)"


# ---- hangup_pair ---------------------------------------------------------------------------------

@dataclass
class HangupRun(Run):
    steps: Optional[Steps] = None
    log: list[str] = field(default_factory=list)  # at the end
    log_at_survived: list[str] = field(default_factory=list)
    foreground: Optional[int] = None  # the terminal's foreground group while both were held
    child_at_survived: Optional[procfs.Stat] = None
    parent_end: str = ""  # how the parent ended, as the kernel showed it
    parent_status: Optional[int] = None  # its wait status, if the grader saw it as a zombie
    child_end: str = ""
    parent_end_late: str = ""  # set if the parent had not ended in time after 'parent-survived'


def run_hangup(grading: Grading) -> HangupRun:
    checkpoints = grading.checkpoints
    checkpoints.hold("child-ready", "parent-ready", "parent-survived")
    log = grading.path("hup.log")
    shell = grading.shell(programs=["hangup_pair"])
    steps = Steps(grading, shell, f"hangup_pair {log}")
    facts: dict = {"steps": steps}
    parent = steps.reach("parent-ready")
    child = None
    if parent is not None:
        child = steps.reach("child-ready", lambda: None if [c for c in signals.children(parent.pid)
                                                             if c.state != "Z"] else "the parent has no living child")
    facts["foreground"] = shell.foreground_group()
    for arrival in (child, parent):
        if arrival is not None:
            arrival.release()
    seen: dict[str, object] = {}

    def watch_parent() -> Optional[str]:
        if not signals.ended(parent.pid):
            return None
        status = signals.exit_code(parent.pid)  # read after ended(): a zombie keeps it until reaped
        if status is not None:
            seen["status"] = status
        return f"the parent {parent.pid} ended first: {signals.describe(parent.pid)}"

    if parent is not None and child is not None:
        shell.hang_up()
        bash, gone = shell.pid, child.pid

        def parent_waits_in_vain() -> Optional[str]:
            # Once bash has ended, every SIGHUP of the hangup has been sent (bash's, and the kernel's
            # to the old foreground group when the session leader exits).
            if (signals.ended(bash) and procfs.wchan(parent.pid) == "do_wait" and not signals.ended(gone)
                    and signals.waits_for_signal_in_vain(gone)):
                return f"the parent waits for its child {gone}, which is {signals.describe(gone)} after the hangup"
            return None

        survived = steps.reach("parent-survived", watch_parent, parent_waits_in_vain)
        if survived is not None:
            facts["child_at_survived"] = procfs.try_stat(gone)
            facts["log_at_survived"] = signals.read_log(log)
            # Once bash (which the hangup ends, in milliseconds) is gone, the grader is the parent's
            # parent and sees its exit status; bash would reap it unseen. Should bash outlast the
            # deadline, the status check below just has no status to judge.
            steps.settle(lambda: signals.ended(bash), SETTLE, "the shell's end")
            survived.release()
            if not steps.settle(lambda: watch_parent() is not None, SETTLE, "the parent's end"):
                facts["parent_end_late"] = (f"{SETTLE:g} s after its release from 'parent-survived' the parent "
                                            f"{parent.pid} was still {signals.describe(parent.pid)}")
        facts["parent_end"] = signals.describe(parent.pid)
        facts["parent_status"] = seen.get("status")
        facts["child_end"] = signals.describe(gone)
    else:
        steps.stuck = steps.stuck or "the hangup needs both 'parent-ready' and 'child-ready'"
    facts["log"] = signals.read_log(log)
    shell_stat = procfs.try_stat(shell.pid)
    run = HangupRun(shell_stat, {steps.command: Command(steps.command, shell.since(steps.start), -1)},
                    {a.name: a for a in reversed(checkpoints.arrivals())},
                    signals.leftovers(keep=[shell.pid]))
    for name, value in facts.items():
        setattr(run, name, value)
    containment.kill_descendants()
    return run


@pytest.fixture(scope="module")
def hangup(lab_grading: Grading) -> HangupRun:
    """One run of hangup_pair, ended by closing the terminal, which the part A checks judge."""
    with deadline(30):
        return run_hangup(lab_grading)


# ---- orphan_group --------------------------------------------------------------------------------

@dataclass
class OrphanRun(Run):
    steps: Optional[Steps] = None
    child: Optional[int] = None
    parent: Optional[int] = None  # None: it had exited before the child reached 'child-stopping'
    exit_problem: str = ""  # how the parent's exit did not come after the child's stop, as the kernel showed it
    log_at_adopted: list[str] = field(default_factory=list)
    adopted_end: str = ""  # how the child ended, if it did before 'child-adopted'
    foreground_at_reading: Optional[int] = None
    reading_late: str = ""  # set if the shell had not taken the terminal back in time
    stopped_after_reading: bool = False
    end_late: str = ""  # set if the child had neither ended nor stopped in time after 'child-reading'
    late: list[str] = field(default_factory=list)  # other waits that ran out of time, in words
    child_end: str = ""
    child_status: Optional[int] = None
    log: list[str] = field(default_factory=list)


def job_parent(stopping: Arrival) -> Optional[int]:
    """The child's parent, the process bash started, as it was at 'child-stopping'; None if it had
    already exited then: the child's parent was the grader itself, the subreaper that adopts every
    orphan of a check, which is outside the shell's session."""
    ppid = stopping.stat.ppid if stopping.stat is not None else os.getpid()
    return None if ppid in (os.getpid(), 1) else ppid


def run_orphan(grading: Grading) -> OrphanRun:
    checkpoints = grading.checkpoints
    checkpoints.hold("child-stopping", "parent-exiting", "child-adopted", "child-reading")
    log = grading.path("orphan.log")
    shell = grading.shell(programs=["orphan_group"])
    steps = Steps(grading, shell, f"orphan_group {log}")
    facts: dict = {"steps": steps, "late": []}
    command: Optional[Command] = None

    def nobody_left() -> Optional[str]:
        # A parent that exits at once leaves its child to come later, adopted by the grader.
        if steps.prompted() and not [s for s in signals.leftovers(keep=[shell.pid]) if s.state != "Z"]:
            return "the program had ended, and no process of it was left"
        return None

    stopping = steps.reach("child-stopping", nobody_left, outlives_command=True)
    if stopping is not None and stopping.stat is not None:
        child, parent = stopping.pid, job_parent(stopping)
        facts.update(child=child, parent=parent)
        if parent is None:
            facts["exit_problem"] = (f"the parent had already exited when the child reached 'child-stopping' "
                                     f"(its parent was already {stopping.stat.ppid}, the grader, which adopts orphans)")
            stopping.release()
            settle_late(steps, facts, lambda: signals.state(child) in ("T", "t", "Z", None), "the child's stop")
        else:
            let_parent_exit(steps, stopping, parent, facts)
        command = follow_orphan(steps, shell, child, parent, log, facts)
    if command is None:
        command = steps.finish()
    else:
        steps.finish(0)  # releases whatever is still held
    facts["log"] = signals.read_log(log)
    run = OrphanRun(procfs.stat(shell.pid), {steps.command: command},
                    {a.name: a for a in reversed(checkpoints.arrivals())}, signals.leftovers(keep=[shell.pid]))
    for name, value in facts.items():
        setattr(run, name, value)
    containment.kill_descendants()
    return run


def settle_late(steps: Steps, facts: dict, condition: Callable[[], bool], what: str) -> bool:
    """steps.settle(), and a note in facts['late'] when its deadline ran out."""
    if steps.settle(condition, SETTLE, what):
        return True
    facts["late"].append(f"{what} did not come within {SETTLE:g} s")
    return False


def let_parent_exit(steps: Steps, stopping: Arrival, parent: int, facts: dict) -> None:
    """Holds the child at 'child-stopping' until its parent waits for it, then lets the child stop and
    notes the child's state when the parent reaches 'parent-exiting'. A parent that is about to exit
    without waiting is let go first, so its mistake shows every time."""
    checkpoints = steps.grading.checkpoints
    child = stopping.pid

    def exiting_parent() -> Optional[Arrival]:
        return next((a for a in checkpoints.arrivals("parent-exiting") if a.pid == parent), None)

    # A correct parent is in waitpid() at once; after SETTLE s the child is let go anyway.
    steps.settle(lambda: procfs.wchan(parent) == "do_wait" or signals.ended(parent)
                 or exiting_parent() is not None, SETTLE, "the parent's waitpid")
    early = exiting_parent()
    if early is not None:
        facts["exit_problem"] = ("the parent reached 'parent-exiting' while its child, held at 'child-stopping', "
                                 f"had not stopped yet (state {signals.state(child)})")
        checkpoints.wait("parent-exiting", pid=parent)  # taken: no later wait returns it
        early.release()
        settle_late(steps, facts, lambda: signals.ended(parent), "the parent's exit")
        stopping.release()
        settle_late(steps, facts, lambda: signals.state(child) in ("T", "t", "Z", None), "the child's stop")
        return
    stopping.release()
    exiting = steps.reach("parent-exiting", ended_reason(parent, "the parent"))
    if exiting is None:
        facts["exit_problem"] = ("the parent never reached 'parent-exiting': "
                                 + steps.missing.get("parent-exiting", "it never got there"))
        return
    state = signals.state(child)
    if state not in ("T", "t"):
        facts["exit_problem"] = f"the child was {signals.describe(child)} when the parent reached 'parent-exiting'"
    exiting.release()


def follow_orphan(steps: Steps, shell: Shell, child: int, parent: Optional[int], log: str,
                  facts: dict) -> Optional[Command]:
    """After the parent's exit: the child's adoption, then its terminal read. The command's output
    and status once the shell prompted again (None if the child never got that far)."""

    def stopped_for_good() -> Optional[str]:
        if (parent is None or signals.ended(parent)) and signals.state(child) in ("T", "t"):
            return (f"the child {child} is still stopped (T) after its parent exited: no SIGHUP or "
                    "SIGCONT came")
        return None

    adopted = steps.reach("child-adopted", ended_reason(child, "the child"), stopped_for_good,
                          outlives_command=True)
    if adopted is None:
        facts["adopted_end"] = signals.describe(child)
        facts["child_end"] = facts["adopted_end"]
        facts["child_status"] = signals.exit_code(child)
        return None
    facts["log_at_adopted"] = signals.read_log(log)
    adopted.release()
    command = steps.shell.wait_prompt(steps.start, steps.command, 10.0)
    shell_group = procfs.stat(shell.pid).pgid
    if not steps.settle(lambda: shell.foreground_group() == shell_group, SETTLE, "the shell taking the terminal back"):
        facts["reading_late"] = (f"{SETTLE:g} s after the shell prompted again, the terminal's foreground group was "
                                 f"still {shell.foreground_group()}, not the shell's {shell_group}")
    reading = steps.reach("child-reading", ended_reason(child, "the child"), outlives_command=True)
    if reading is not None:
        facts["foreground_at_reading"] = shell.foreground_group()
        reading.release()
        stopped = []

        def child_done() -> bool:
            if signals.state(child) in ("T", "t"):
                stopped.append(True)
                return True
            return signals.ended(child)

        if not steps.settle(child_done, SETTLE, "the child's end"):
            facts["end_late"] = (f"{SETTLE:g} s after its release from 'child-reading' the child {child} was still "
                                 f"{signals.describe(child)}, neither ended nor stopped")
        facts["stopped_after_reading"] = bool(stopped)
    facts["child_end"] = signals.describe(child)
    facts["child_status"] = signals.exit_code(child)
    return command


@pytest.fixture(scope="module")
def orphan(lab_grading: Grading) -> OrphanRun:
    """One run of orphan_group, which the part B checks judge."""
    with deadline(40):
        return run_orphan(lab_grading)


# ---- the checks ----------------------------------------------------------------------------------

@check(points=1, hint="section 'Building and running'")
def test_compiles(lab) -> None:
    """hangup_pair.c and orphan_group.c compile"""
    if not lab.ok:
        raise CheckFailed("hangup_pair.c and orphan_group.c to compile", lab.report())


@check(points=1, hint="part A, task 1")
def test_hangup_pair_ready(hangup: HangupRun) -> None:
    """Before the hangup, the parent ignores SIGHUP and the child catches it, both in the foreground"""
    parent, child = hangup.stat_at("parent-ready"), hangup.stat_at("child-ready")
    at = hangup.at("parent-ready")
    if not (parent.pgid == child.pgid == hangup.foreground) or parent.sid != hangup.steps.shell.pid:
        raise CheckFailed(f"parent and child in the terminal's foreground group {hangup.foreground}, in the shell's "
                          "session", f"kernel: parent PGID={parent.pgid} SID={parent.sid}, child PGID={child.pgid}",
                          at=at)
    status = at.status
    if status is None or not status.ignores(SIGHUP):
        shown = f"SigIgn={status.sig_ignored:#x} SigCgt={status.sig_caught:#x}" if status else "nothing"
        raise CheckFailed("the parent to ignore SIGHUP (0x1 set in SigIgn) at 'parent-ready', before the hangup",
                          f"kernel: {shown}", at=at)
    status = hangup.at("child-ready").status
    if status is None or not status.catches(SIGHUP):
        shown = f"SigIgn={status.sig_ignored:#x} SigCgt={status.sig_caught:#x}" if status else "nothing"
        raise CheckFailed("the child to catch SIGHUP (0x1 set in SigCgt) at 'child-ready'", f"kernel: {shown}",
                          "Install the handler before the checkpoint.", at=hangup.at("child-ready"))


@check(points=3, hint="part A, task 1")
def test_ignoring_process_survives_hangup(hangup: HangupRun) -> None:
    """The parent, which ignores SIGHUP, survives the hangup and notices it"""
    parent = hangup.stat_at("parent-ready")
    if "parent-survived" not in hangup.arrivals:
        how = signals.describe_status(hangup.parent_status) if hangup.parent_status is not None else hangup.parent_end
        raise CheckFailed("the parent, set to ignore SIGHUP, to survive the hangup and reach 'parent-survived'",
                          f"{hangup.steps.missing.get('parent-survived', 'it never got there')} "
                          f"(kernel: {how}); the log: {log_tail(hangup.log)}")
    noticed = [line for line in hangup.log_at_survived
               if line.startswith(f"parent PID={parent.pid}: terminal read")]
    if not noticed:
        raise CheckFailed(f"'parent PID={parent.pid}: terminal read returned 0' (or 'failed') in the log at "
                          "'parent-survived'", f"the log: {log_tail(hangup.log_at_survived)}")


def reaped_line(log: list[str], child: int) -> Optional[str]:
    return next((line for line in log if line.startswith("parent: reaped child")
                 and lines.values(line).get("PID") == child), None)


@check(points=2, hint="part A, task 2")
def test_default_process_dies(hangup: HangupRun) -> None:
    """The child dies of the hangup's SIGHUP, and the parent's log says so"""
    child = hangup.stat_at("child-ready")
    if "parent-survived" in hangup.arrivals and hangup.child_at_survived is not None:
        raise CheckFailed(f"the child {child.pid} dead and reaped at 'parent-survived'",
                          f"kernel: it is there in state {hangup.child_at_survived.state}", at=hangup.at("parent-survived"))
    if hangup.child_end.startswith("alive"):
        raise CheckFailed("the child to die of SIGHUP (signal 1) after the hangup",
                          f"the child {child.pid} is still {hangup.child_end}; the log: {log_tail(hangup.log)}",
                          "After logging, set SIGHUP back to SIG_DFL and raise it.")
    line = reaped_line(hangup.log, child.pid)
    if line is None or "killed by signal 1" not in line:
        raise CheckFailed(f"'parent: reaped child PID={child.pid}, killed by signal 1' in the log",
                          f"the log: {log_tail(hangup.log)}")


@check(points=2, hint="section 'Logging from a signal handler'")
def test_handler_logs_before_dying(hangup: HangupRun) -> None:
    """The child's SIGHUP handler gets its line into the log before the child dies"""
    child = hangup.stat_at("child-ready")
    wanted = f"child PID={child.pid}: caught SIGHUP"
    if not any(line.startswith(wanted) for line in hangup.log):
        raise CheckFailed(f"'{wanted}, dying of it' in the log: the child died right after writing it",
                          f"no such line; the log: {log_tail(hangup.log)}",
                          "A line written with stdio stays in the process's buffer and dies with it; "
                          "write(2) hands it to the kernel at once.")


@check(points=4, hint="part B, tasks 1 and 2")
def test_orphaned_group_gets_sighup_then_sigcont(orphan: OrphanRun) -> None:
    """A group orphaned while a member is stopped gets SIGHUP, then SIGCONT"""
    expected = "the group, orphaned with a stopped member, to get SIGHUP then SIGCONT"
    if "child-stopping" not in orphan.arrivals:
        raise orphan.steps.never_reached("child-stopping", expected + ": the child to reach 'child-stopping'")
    stopping = orphan.at("child-stopping")
    late = "".join(f"; {note}" for note in orphan.late)
    if orphan.exit_problem:
        raise CheckFailed(expected + f": the child {orphan.child} stopped (T) when its parent exits",
                          f"kernel: {orphan.exit_problem}{late}",
                          "Did the parent exit before the child stopped? Then no SIGHUP or SIGCONT comes.",
                          at=stopping)
    if "child-adopted" not in orphan.arrivals:
        raise CheckFailed(expected + ", and the child to survive them and reach 'child-adopted'",
                          f"{orphan.steps.missing.get('child-adopted', 'it never got there')}; "
                          f"the kernel: {orphan.adopted_end}; the log: {log_tail(orphan.log)}{late}",
                          "Without a SIGHUP handler the orphaning SIGHUP kills the child.")
    adopted = orphan.stat_at("child-adopted")
    if adopted.state in ("T", "t"):
        raise CheckFailed("the child running again at 'child-adopted'",
                          f"kernel: the child {adopted.pid} is stopped (state {adopted.state})",
                          at=orphan.at("child-adopted"))
    if adopted.pgid != stopping.stat.pgid:
        raise CheckFailed(f"the child still in its group {stopping.stat.pgid} at 'child-adopted'",
                          f"kernel: the child {adopted.pid} is in group {adopted.pgid}", at=orphan.at("child-adopted"))
    caught = [line for line in orphan.log_at_adopted if line.startswith("child: caught SIG")]
    if caught != ["child: caught SIGHUP", "child: caught SIGCONT"]:
        shown = " / ".join(caught) or "no 'child: caught' line"
        advice = ("SIGCONT's handler ran first: nested on top of SIGHUP's. What should sa_mask block?"
                  if caught and "SIGCONT" in caught[0] else "")
        raise CheckFailed("'child: caught SIGHUP' then 'child: caught SIGCONT', once each, in the log at "
                          "'child-adopted'", f"the log: {shown}", advice, at=orphan.at("child-adopted"))


@check(points=1, hint="section 'Logging from a signal handler'")
def test_signal_log_on_disk_at_once(orphan: OrphanRun) -> None:
    """The handlers' lines are in the file as soon as the signals are handled"""
    if "child-adopted" not in orphan.arrivals:
        raise orphan.steps.never_reached("child-adopted", "the child to reach 'child-adopted'")
    for signame in ("SIGHUP", "SIGCONT"):
        if f"child: caught {signame}" not in orphan.log_at_adopted:
            raise CheckFailed("both handler lines in the file when the child reached 'child-adopted'",
                              f"'child: caught {signame}' not in the log yet: {log_tail(orphan.log_at_adopted)}",
                              "Written with stdio, a line sits in a buffer in the process; write(2) puts "
                              "it in the file at once.", at=orphan.at("child-adopted"))


@check(points=2, hint="part B, task 3")
def test_adopted_by_nearest_subreaper(orphan: OrphanRun) -> None:
    """The orphan's new parent, as the child logs it, is the one the kernel shows"""
    if "child-adopted" not in orphan.arrivals:
        raise orphan.steps.never_reached("child-adopted", "the child to reach 'child-adopted'")
    adopted = orphan.stat_at("child-adopted")
    line = next((l for l in orphan.log_at_adopted if re.search(r"now PPID=", l)), None)
    if line is None:
        raise CheckFailed("a 'child PID=...: PPID was ..., now PPID=...' line in the log",
                          f"the log: {log_tail(orphan.log_at_adopted)}")
    logged = lines.values(line.split("now", 1)[1]).get("PPID")
    if logged != adopted.ppid or adopted.ppid == orphan.parent:
        who = "the grader, a subreaper" if adopted.ppid == os.getpid() else "its nearest subreaper, or 1"
        raise CheckFailed(f"the new PPID the kernel shows, {adopted.ppid} ({who})",
                          f"the log says PPID={logged}: '{line}'",
                          "Ask the kernel again after the parent has exited.", at=orphan.at("child-adopted"))


@check(points=2, hint="part B, task 4")
def test_orphan_read_fails_with_eio(orphan: OrphanRun) -> None:
    """In an orphaned background group, a terminal read fails with EIO instead of stopping"""
    if "child-reading" not in orphan.arrivals:
        raise orphan.steps.never_reached("child-reading", "the child to reach 'child-reading'")
    reading = orphan.stat_at("child-reading")
    at = orphan.at("child-reading")
    if orphan.foreground_at_reading == reading.pgid:
        raise CheckFailed("the child's group in the background when it reads",
                          orphan.reading_late or f"it is the terminal's foreground group {reading.pgid}", at=at)
    expected = "the terminal read of an orphaned background group to fail with EIO (logged)"
    if orphan.stopped_after_reading:
        raise CheckFailed(expected, f"the child {reading.pid} stopped (T), as if its group were not orphaned",
                          at=at)
    if not any("EIO" in line for line in orphan.log):
        state = orphan.end_late or f"the child is {orphan.child_end}"
        raise CheckFailed(expected, f"{state}; the log: {log_tail(orphan.log)}", at=at)


def ended_how(status: int) -> str:
    """A wait status as the end of a sentence: 'was killed by signal 1 (SIGHUP)', 'exited with status 1'."""
    words = signals.describe_status(status)
    return "was " + words if words.startswith("killed") else words


STOPPED_FOR_GOOD = "stopped for good, its orphaned group got no SIGHUP and SIGCONT"


@check(points=1, hint="part A, tasks 1 and 2")
def test_hangup_pair_exits_cleanly(hangup: HangupRun) -> None:
    """hangup_pair leaves nothing behind after the hangup, and its parent exits with status 0"""
    if hangup.parent_end_late:
        raise CheckFailed("hangup_pair's parent to exit once it has reaped its child", hangup.parent_end_late,
                          at=hangup.at("parent-survived"))
    hangup.require_no_leftovers("hangup_pair", STOPPED_FOR_GOOD, when="once it is done")
    if hangup.parent_status is not None and hangup.parent_status != 0:
        raise CheckFailed("hangup_pair's parent to exit with status 0",
                          f"kernel: the parent {ended_how(hangup.parent_status)}")


@check(points=1, hint="part B, task 1")
def test_orphan_group_exits_cleanly(orphan: OrphanRun) -> None:
    """orphan_group leaves nothing behind, no stopped child and no zombie, and exits with status 0"""
    orphan.require_no_leftovers("orphan_group", STOPPED_FOR_GOOD, when="once it is done")
    command = orphan.commands[orphan.steps.command]
    if command.status != 0:
        raise CheckFailed("orphan_group to exit with status 0", f"exit status {command.status}")
    if orphan.end_late:
        raise CheckFailed("orphan_group's child to end after its terminal read", orphan.end_late,
                          at=orphan.at("child-reading"))
    if orphan.child_status is not None and orphan.child_status != 0:
        raise CheckFailed("orphan_group's child to exit with status 0",
                          f"kernel: the child {ended_how(orphan.child_status)}")
