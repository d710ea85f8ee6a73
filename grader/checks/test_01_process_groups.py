"""Lab 01: process groups. Handout: labs/01-process-groups/README.md.

pgid_demo runs once, the way a student runs it: typed into an interactive bash on a fresh pty. Each
check judges one aspect of that run, comparing what it printed with what the kernel said at the
program's checkpoints. The job's leader is held at
'leader-forked' until the parent has reached 'job-ready' and the member has tried to join, so the
parent and the member always run first there: a solution that calls setpgid only in the children
loses that race every time, not now and then.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Optional

import pytest

from grader import procfs
from grader.check import CheckFailed, Grading, check, deadline
from grader.checkpoints import Arrival, CheckpointNeverReached
from grader.scenario import Run, require_matching

LAB = "01-process-groups"
PROGRAMS = ["pgid_demo.c"]


@dataclass
class DemoRun(Run):
    foreground_at_start: Optional[int] = None  # the terminal's foreground group while the parent was held


def run_demo(grading: Grading) -> DemoRun:
    checkpoints = grading.checkpoints
    checkpoints.hold("parent-start", "leader-forked")
    shell = grading.shell()
    start = shell.type_line("pgid_demo")

    def ended() -> Optional[str]:
        return shell.ended_since(start) or shell.shell_gone()

    foreground = None
    try:
        parent = checkpoints.wait("parent-start", give_up=ended)
        foreground = shell.foreground_group()  # read while the parent is held there
        parent.release()
    except CheckpointNeverReached:
        parent = None
    try:
        leader = checkpoints.wait("leader-forked", give_up=ended)
    except CheckpointNeverReached:
        leader = None
    if leader is not None:
        # Hold the leader until the parent has done all it does right after fork.
        def parent_cannot_get_there() -> Optional[str]:
            if parent is not None and procfs.wchan(parent.pid) == "do_wait":
                return "the parent is waiting for its children before it got there"
            return ended()

        try:
            checkpoints.wait("job-ready", give_up=parent_cannot_get_there)
            wait_for_member(grading, parent, leader.pid, ended)
        except CheckpointNeverReached:
            pass  # the checks that need 'job-ready' and 'member-joined' say so
        leader.release()
    run = DemoRun.collect(grading, shell, [shell.wait_prompt(start, "pgid_demo")])
    run.foreground_at_start = foreground
    return run


def wait_for_member(grading: Grading, parent: Optional[Arrival], leader: int,
                    ended: Callable[[], Optional[str]]) -> None:
    """Keeps the leader held until the member has tried to join its group: if the leader ran first,
    a member that joins by itself would succeed, and a program that relies on that would pass."""
    def member_gone() -> Optional[str]:
        if parent is None:
            return "the parent never reached 'parent-start'"
        others = [s for s in procfs.descendants(parent.pid) if s.pid != leader and s.state not in ("Z", "X")]
        if others:
            return None
        return ended() or "the member has ended"

    grading.checkpoints.wait("member-joined", timeout=5.0, give_up=member_gone)


@pytest.fixture(scope="module")
def run(lab_grading: Grading) -> DemoRun:
    """One run of pgid_demo, which every check below judges from its own angle."""
    with deadline(20):
        return run_demo(lab_grading)


@check(points=1, hint="section 'Building and running'")
def test_compiles(lab) -> None:
    """pgid_demo.c compiles"""
    if not lab.ok:
        raise CheckFailed("pgid_demo.c to compile", lab.report())


@check(points=2, hint="task 1")
def test_parent_ids(run: DemoRun) -> None:
    """The parent prints its real PID, PGID and SID"""
    parent = run.stat_at("parent-start")
    require_matching(run.line("Parent:"), {"PID": parent.pid, "PGID": parent.pgid, "SID": parent.sid},
                     "the first 'Parent:' line")


@check(points=1, hint="section 'Background: the shell and your program'")
def test_foreground_job(run: DemoRun) -> None:
    """Started by the shell, the program leads its own foreground group in the shell's session"""
    parent = run.stat_at("parent-start")
    if parent.pgid != parent.pid:
        raise CheckFailed("the program to lead its own group (PGID == PID), as the shell made it",
                          f"kernel: PID={parent.pid} PGID={parent.pgid}", at=run.at("parent-start"))
    if parent.sid != run.shell.sid:
        raise CheckFailed(f"the program to be in the shell's session (SID={run.shell.sid})",
                          f"kernel: SID={parent.sid}", at=run.at("parent-start"))
    if run.foreground_at_start != parent.pgid:
        raise CheckFailed(f"the terminal's foreground group to be the program's group {parent.pgid}",
                          f"the terminal's foreground group was {run.foreground_at_start}",
                          at=run.at("parent-start"))


@check(points=2, hint="task 2")
def test_child_inherits_group(run: DemoRun) -> None:
    """A forked child starts in its parent's group"""
    parent = run.stat_at("parent-start")
    child = run.stat_at("child-forked")
    if child.ppid != parent.pid:
        raise CheckFailed("'child-forked' to be reached by a child of the parent",
                          f"PID {child.pid}, whose parent is {child.ppid}, not {parent.pid}")
    if child.pgid != parent.pgid:
        raise CheckFailed(f"the child to start in its parent's group {parent.pgid}",
                          f"kernel: the child {child.pid} was in group {child.pgid} at 'child-forked'",
                          "Change the child's group only after the 'child-forked' checkpoint.",
                          at=run.at("child-forked"))
    require_matching(run.line("Child:"), {"PID": child.pid, "PGID": child.pgid}, "the first 'Child:' line")


@check(points=2, hint="task 2")
def test_child_new_group(run: DemoRun) -> None:
    """setpgid(0, 0) makes the child the leader of a new group whose ID is its PID"""
    child = run.stat_at("child-own-group")
    if child.pgid != child.pid:
        raise CheckFailed(f"the child {child.pid} to lead a new group: PGID={child.pid}",
                          f"kernel: PGID={child.pgid} at 'child-own-group'", at=run.at("child-own-group"))
    require_matching(run.line("Child:", number=1), {"PID": child.pid, "PGID": child.pgid},
                     "the second 'Child:' line")


@check(points=1, hint="task 2")
def test_parent_unchanged(run: DemoRun) -> None:
    """The parent's group and session do not change"""
    before = run.stat_at("parent-start")
    after = run.stat_at("parent-unchanged")
    if after.pid != before.pid:
        raise CheckFailed(f"'parent-unchanged' to be reached by the parent {before.pid}",
                          f"it was reached by PID {after.pid}")
    if (after.pgid, after.sid, after.tpgid) != (before.pgid, before.sid, before.tpgid):
        raise CheckFailed(
            f"PGID={before.pgid} SID={before.sid}, still the foreground group, as at the start",
            f"kernel: PGID={after.pgid} SID={after.sid}, foreground group {after.tpgid}",
            at=run.at("parent-unchanged"))
    require_matching(run.line("Parent after child:"), {"PID": after.pid, "PGID": after.pgid, "SID": after.sid},
                     "the 'Parent after child:' line")


@check(points=3, hint="task 4")
def test_job_group_race(run: DemoRun) -> None:
    """Both job members end up in the leader's group, even when the leader runs last"""
    parent = run.stat_at("parent-start")
    if "job-ready" not in run.arrivals:
        raise CheckpointNeverReached("job-ready", 0, "the program ended without calling it")
    leader = run.stat_at("leader-forked")
    for moment, role in (("leader-joined", "leader"), ("member-joined", "member")):
        if moment not in run.arrivals:
            raise CheckFailed(
                f"the job's {role} to join group {leader.pid} and reach '{moment}'",
                f"it never got there; the program printed: {' / '.join(run.commands['pgid_demo'].lines[-4:])}",
                "The kernel may run the parent before the leader, and here it did. Who else can put the "
                "leader in its group?")
        joined = run.stat_at(moment)
        if joined.pgid != leader.pid or joined.pgid == parent.pgid:
            raise CheckFailed(f"the job's {role} {joined.pid} in the new group {leader.pid}",
                              f"kernel: it was in group {joined.pgid} at '{moment}'", at=run.at(moment))
        label = "Job leader:" if role == "leader" else "Job member:"
        require_matching(run.line(label), {"PID": joined.pid, "PGID": joined.pgid}, f"the '{label}' line")


@check(points=1, hint="task 5")
def test_exits_cleanly(run: DemoRun) -> None:
    """The program reaps its children and exits with status 0, leaving no process behind"""
    run.require_clean_exit()
