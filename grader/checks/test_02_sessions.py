"""Lab 02: sessions. Handout: labs/02-sessions/README.md.

session_demo and ctty_demo are typed into an interactive bash on a fresh pty, one after the other; each
check judges one moment of that run by what the kernel showed at the program's checkpoint (IDs,
tty_nr, tpgid, the descriptors it had open) and compares the printed lines with it.
"""
from __future__ import annotations

import pytest

from grader.build import NotBuilt
from grader.check import CheckFailed, Grading, check, deadline
from grader.checkpoints import Arrival
from grader.scenario import Run, require_matching

LAB = "02-sessions"
PROGRAMS = ["session_demo.c", "ctty_demo.c"]


@pytest.fixture(scope="module")
def run(lab_grading: Grading) -> Run:
    """One run of session_demo and then ctty_demo, which every check below judges."""
    with deadline(20):
        shell = lab_grading.shell(programs=())  # a program that did not build fails only its own checks
        commands, unbuilt = [], {}
        for program in ("session_demo", "ctty_demo"):
            try:
                lab_grading.program(program)
            except NotBuilt as error:
                unbuilt[program] = error
                continue
            commands.append(shell.run(program))
        return Run.collect(lab_grading, shell, commands, unbuilt)


def new_terminals(run: Run, arrival: Arrival) -> list[str]:
    """The terminals a process held open at a checkpoint, other than the shell's own (its fds 0-2)."""
    return sorted(path for path, tty_nr in arrival.terminals.items()
                  if path.startswith("/dev/pts/") and tty_nr != run.shell.tty_nr)


@check(points=1, hint="section 'Building and running'")
def test_compiles(lab) -> None:
    """session_demo.c and ctty_demo.c compile"""
    if not lab.ok:
        raise CheckFailed("both programs to compile", lab.report())


@check(points=2, hint="task 1")
def test_leader_cannot_setsid(run: Run) -> None:
    """A group leader's setsid() fails with EPERM, and session_demo says so"""
    run.require_built("session_demo")
    original = run.stat_at("leader-tried-setsid")
    if not original.is_group_leader or original.sid != run.shell.sid:
        raise CheckFailed(f"the original process to lead its group, still in the shell's session {run.shell.sid}",
                          f"kernel: PID={original.pid} PGID={original.pgid} SID={original.sid}",
                          at=run.at("leader-tried-setsid"))
    run.line("Original:", "EPERM", "session_demo")


@check(points=2, hint="task 2")
def test_child_new_session(run: Run) -> None:
    """After fork and setsid(), the child has PID == PGID == SID"""
    run.require_built("session_demo")
    original = run.stat_at("original-start")
    child = run.stat_at("child-new-session")
    if child.ppid != original.pid:
        raise CheckFailed(f"'child-new-session' to be reached by a child of the original process {original.pid}",
                          f"it was reached by PID {child.pid}, whose parent is {child.ppid}",
                          at=run.at("child-new-session"))
    if not (child.pid == child.pgid == child.sid):
        raise CheckFailed("PID == PGID == SID: the child leads a new session and a new group",
                          f"kernel: PID={child.pid} PGID={child.pgid} SID={child.sid}",
                          at=run.at("child-new-session"))
    require_matching(run.line("Child:", "PID=", "session_demo"),
                     {"PID": child.pid, "PGID": child.pgid, "SID": child.sid}, "the 'Child:' line",
                     run.at("child-new-session"))


@check(points=2, hint="task 2")
def test_child_no_terminal(run: Run) -> None:
    """The new session has no controlling terminal: /dev/tty fails with ENXIO"""
    run.require_built("session_demo")
    child = run.stat_at("child-new-session")
    if child.has_terminal or child.tpgid != -1:
        raise CheckFailed("no controlling terminal: tty_nr 0 and tpgid -1 in /proc/PID/stat",
                          f"kernel: terminal {child.terminal}, tpgid {child.tpgid}",
                          at=run.at("child-new-session"))
    run.line("Child:", "ENXIO", "session_demo")


@check(points=1, hint="task 2")
def test_original_stays(run: Run) -> None:
    """The original process stays in the shell's session, on the terminal, in the foreground"""
    run.require_built("session_demo")
    before = run.stat_at("original-start")
    after = run.stat_at("original-after")
    if after.pid != before.pid:
        raise CheckFailed(f"'original-after' to be reached by the original process {before.pid}",
                          f"it was reached by PID {after.pid}", at=run.at("original-after"))
    if (after.sid, after.pgid, after.tty_nr, after.tpgid) != (run.shell.sid, before.pgid, run.shell.tty_nr,
                                                              before.pgid):
        raise CheckFailed(
            f"SID={run.shell.sid} (the shell's), PGID={before.pgid}, terminal {run.shell.terminal}, "
            "still the foreground group",
            f"kernel: SID={after.sid} PGID={after.pgid} terminal {after.terminal} foreground group {after.tpgid}",
            at=run.at("original-after"))
    require_matching(run.line("Original after child:", command="session_demo"),
                     {"PID": after.pid, "PGID": after.pgid, "SID": after.sid},
                     "the 'Original after child:' line", run.at("original-after"))


@check(points=2, hint="task 3")
def test_noctty_does_not_acquire(run: Run) -> None:
    """A session leader that opens a terminal with O_NOCTTY gets no controlling terminal"""
    run.require_built("ctty_demo")
    arrival = run.at("leader-opened-noctty")
    leader = run.stat_at("leader-opened-noctty")
    opened = new_terminals(run, arrival)
    if not leader.is_session_leader or not opened:
        raise CheckFailed("a session leader holding a new terminal open at 'leader-opened-noctty'",
                          f"kernel: PID={leader.pid} SID={leader.sid}, terminals open: {opened or 'none'}",
                          at=arrival)
    if leader.has_terminal:
        raise CheckFailed(f"no controlling terminal, although {opened[0]} is open",
                          f"kernel: controlling terminal {leader.terminal}", at=arrival)


@check(points=2, hint="task 3")
def test_leader_acquires_terminal(run: Run) -> None:
    """The same session leader, opening it without O_NOCTTY, acquires it as its controlling terminal"""
    run.require_built("ctty_demo")
    arrival = run.at("leader-opened-tty")
    leader = run.stat_at("leader-opened-tty")
    opened = new_terminals(run, arrival)
    mine = [path for path in opened if arrival.terminals[path] == leader.tty_nr]
    if not leader.is_session_leader or not leader.has_terminal or not mine:
        raise CheckFailed(f"a session leader whose controlling terminal is the terminal it opened ({opened})",
                          f"kernel: PID={leader.pid} SID={leader.sid}, controlling terminal {leader.terminal}",
                          at=arrival)


@check(points=2, hint="task 4")
def test_nonleader_never_acquires(run: Run) -> None:
    """A process that is not a session leader never acquires a terminal, even without O_NOCTTY"""
    run.require_built("ctty_demo")
    arrival = run.at("nonleader-opened-tty")
    process = run.stat_at("nonleader-opened-tty")
    if process.is_session_leader:
        raise CheckFailed("the process at 'nonleader-opened-tty' not to lead its session",
                          f"kernel: PID={process.pid} SID={process.sid}: a session leader", at=arrival)
    if process.has_terminal:
        raise CheckFailed("no controlling terminal", f"kernel: controlling terminal {process.terminal}",
                          at=arrival)
    if process.sid == run.shell.sid or not new_terminals(run, arrival):
        raise CheckFailed("a process in a session of its own, holding a new terminal open",
                          f"kernel: SID={process.sid}, terminals open: {new_terminals(run, arrival) or 'none'}",
                          at=arrival)


@check(points=1, hint="section 'Building and running'")
def test_exits_cleanly(run: Run) -> None:
    """Both programs reap their children and exit with status 0, leaving no process behind"""
    run.require_clean_exit()
