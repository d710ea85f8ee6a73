"""Lab 04: signals to process groups. Handout: labs/04-group-signals/README.md.

Three runs, each typed into a fresh interactive bash; the first two are each judged by several checks:

- sigcatch: parent and child are held at 'parent-ready' and 'child-ready' (both handlers installed)
  while the grader reads their dispositions and the terminal's foreground group; only then is Ctrl-C
  typed. The parent is held at 'before-waitpid' until its child has become a zombie, and at
  'after-waitpid' while the grader looks for the child again. After that the parent unblocks SIGINT
  before it prints its count, so a SIGINT it sent itself shows in its output too.
- kill_group 10, after the grader's `bystander` (provided, labs/04-group-signals/bystander.c) was
  started as a background job of the same bash: the three children are held at 'child-forked', right
  after fork, until the parent has reached 'group-ready': the parent always runs first there, so a
  group made only by the children does not exist yet when the parent is about to signal it. While the
  parent is still held there (and the children wait in pause()), the bystander joins the children's
  group with setpgid(0, pgid): a member the parent knows nothing about, which only a signal to the
  group reaches. At 'signal-sent' the parent is held until every child and the bystander has died (or
  is asleep in pause() with nothing pending: the signal missed it), so each child's ending is read
  from its zombie's exit status before anyone reaps it.
- kill_group 10 again, for the check of the child's side (its own check, its own run): this time the
  parent is held at 'parent-forked', after each fork and before its own setpgid, until the child has
  reached 'child-waiting', after the child's setpgid: the child always runs first there.
"""
from __future__ import annotations

import os
import re
import signal
from dataclasses import dataclass, field
from typing import Optional

import pytest

from grader import containment, lines, procfs, signals
from grader.check import CheckFailed, Grading, check, deadline
from grader.checkpoints import Arrival, CheckpointNeverReached
from grader.scenario import Run, require_matching
from grader.steps import Steps, ended_reason
from grader.terminal import Shell

LAB = "04-group-signals"
PROGRAMS = ["kill_group.c", "sigcatch.c"]
PROVIDED = ["bystander.c"]  # the grader's witness that a signal went to the group: never the student's copy

SIGNAL = signal.SIGUSR1.value  # the grader's choice: a program that hard-codes SIGTERM shows it
SIGINT = signal.SIGINT.value
DEATH = 5.0  # seconds for a signalled process to die; a correct program takes milliseconds
CHILDREN = 3


# ---- sigcatch ------------------------------------------------------------------------------------

@dataclass
class SigcatchRun(Run):
    steps: Optional[Steps] = None
    foreground: Optional[int] = None  # the terminal's foreground group while both were held
    no_ctrl_c: str = ""  # why Ctrl-C was not typed
    parent_pending: Optional[int] = None  # at 'before-waitpid'
    child_before: Optional[procfs.Stat] = None  # the child at 'before-waitpid', once it ended
    child_before_status: Optional[int] = None  # its exit status (zombie), if any
    child_end_late: str = ""  # set if the child had neither ended nor gone back to sleep in time
    child_after: Optional[procfs.Stat] = None  # the child at 'after-waitpid' (None: gone)


def run_sigcatch(grading: Grading) -> SigcatchRun:
    checkpoints = grading.checkpoints
    checkpoints.hold("parent-ready", "child-ready", "before-waitpid", "after-waitpid")
    shell = grading.shell(programs=["sigcatch"])
    steps = Steps(grading, shell, "sigcatch")
    facts: dict = {"steps": steps}
    parent = steps.reach("parent-ready")
    child = None
    if parent is not None:
        def no_child() -> Optional[str]:
            if not [c for c in signals.children(parent.pid) if c.state != "Z"]:
                return "the parent has no living child"
            return None

        child = steps.reach("child-ready", no_child)
    facts["foreground"] = shell.foreground_group()  # read while both are held
    if parent is None or child is None or parent.stat is None or child.stat is None:
        facts["no_ctrl_c"] = "both 'parent-ready' and 'child-ready' must be reached before Ctrl-C"
    elif child.stat.pgid != parent.stat.pgid or facts["foreground"] != parent.stat.pgid:
        # Ctrl-C could not reach both: typing it would leave one waiting for ever.
        facts["no_ctrl_c"] = "parent and child were not both in the terminal's foreground group"
    for arrival in (child, parent):
        if arrival is not None:
            arrival.release()
    if not facts.get("no_ctrl_c"):
        shell.press_control("c")  # both handlers are installed: that is what the checkpoints say
        before = steps.reach("before-waitpid", ended_reason(parent.pid, "the parent"))
        if before is not None:
            gone = child.pid
            if not steps.settle(lambda: signals.ended(gone) or signals.waits_for_signal_in_vain(gone), DEATH,
                                "the child's end"):
                facts["child_end_late"] = (f"{DEATH:g} s after the parent's kill the child {gone} was still "
                                           f"{signals.describe(gone)}, neither ended nor asleep")
            facts["parent_pending"] = signals.pending(before.pid)
            facts["child_before"] = procfs.try_stat(gone)
            facts["child_before_status"] = signals.exit_code(gone)
            before.release()
            after = steps.reach("after-waitpid", ended_reason(parent.pid, "the parent"))
            if after is not None:
                facts["child_after"] = procfs.try_stat(gone)
                after.release()
    else:
        steps.stuck = facts["no_ctrl_c"]
    command = steps.finish()
    run = SigcatchRun.collect(grading, shell, [command])
    for name, value in facts.items():
        setattr(run, name, value)
    containment.kill_descendants()  # what a wrong program left, before the next run
    return run


@pytest.fixture(scope="module")
def sigcatch(lab_grading: Grading) -> SigcatchRun:
    """One run of sigcatch with one Ctrl-C, which the sigcatch checks judge."""
    with deadline(25):
        return run_sigcatch(lab_grading)


# ---- kill_group ----------------------------------------------------------------------------------

@dataclass
class KillGroupRun(Run):
    steps: Optional[Steps] = None
    parent: Optional[procfs.Stat] = None  # at 'group-ready'
    children: list[int] = field(default_factory=list)  # in the order they reached 'child-forked'
    groups_at_ready: dict[int, Optional[int]] = field(default_factory=dict)  # child -> PGID then
    waiting_late: str = ""  # set if the children did not all reach 'child-waiting' in time
    bystander: Optional[int] = None  # the grader's process that joined the children's group
    bystander_group: Optional[int] = None  # its PGID at 'bystander-joined'
    bystander_missing: str = ""  # why it did not join
    bystander_fate: str = ""  # how the kernel showed it after the parent's kill
    bystander_killed: bool = False  # it ended after the parent's kill (nothing else ends it)
    endings: dict[int, Optional[int]] = field(default_factory=dict)  # child -> exit status at 'signal-sent'
    fates: dict[int, str] = field(default_factory=dict)  # child -> how it was at 'signal-sent', in words
    deaths_late: bool = False  # the children (or the bystander) had not all settled DEATH s after the kill
    after_reaped: dict[int, Optional[str]] = field(default_factory=dict)  # child -> state at 'all-reaped'
    coordinator: Optional[procfs.Stat] = None  # at 'group-signalled'
    coordinator_status: Optional[procfs.Status] = None
    coordinator_end: str = ""  # how it ended, if it did before 'group-signalled'
    members: dict[int, dict] = field(default_factory=dict)  # member -> stat, status, exit status
    members_late: str = ""  # set if the members had not settled DEATH s after kill(0, sig)

    @property
    def group(self) -> int:
        """The children's new group: the PGID led by one of them at 'group-ready' (else the first's PID)."""
        for child in self.children:
            if self.groups_at_ready.get(child) == child:
                return child
        return min(self.children) if self.children else -1


class Bystander:
    """The grader's own member of the children's group (labs/04-group-signals/bystander.c).

    It is started from the same bash as a background job, before kill_group, so it is in the same
    session and may join any group there with setpgid(0, pgid). It waits at 'bystander-ready' until
    the grader has written the group's PGID into its file; once it has joined, only a signal sent to
    the whole group can reach it, since the parent never learns its PID.
    """

    def __init__(self, grading: Grading, shell: Shell) -> None:
        self.grading = grading
        self.path = grading.path("bystander-pgid")
        self.pid: Optional[int] = None
        self.missing = ""
        shell.run(f"bystander {self.path} &", timeout=10.0)
        try:
            self.ready: Optional[Arrival] = grading.checkpoints.wait("bystander-ready", timeout=10.0)
            self.pid = self.ready.pid
        except CheckpointNeverReached as error:
            self.ready, self.missing = None, f"the grader's bystander did not start: {error}"

    def join(self, group: int) -> Optional[Arrival]:
        """Lets it join `group`; its arrival at 'bystander-joined', or None (the reason in `missing`)."""
        if self.ready is None:
            return None
        with open(self.path, "w", encoding="ascii") as handle:
            handle.write(f"{group}\n")
        os.chmod(self.path, 0o644)  # the lab's programs may run as another user
        self.ready.release()
        try:
            return self.grading.checkpoints.wait("bystander-joined", timeout=10.0, pid=self.pid,
                                                 give_up=ended_reason(self.pid, "the bystander"))
        except CheckpointNeverReached as error:
            self.missing = (f"the grader's bystander could not join group {group} with setpgid(0, {group}): "
                            f"{error}")
            return None

    def remove(self) -> None:
        """Kills it if it is still there (the signal missed it), so it cannot hold up the rest of the run."""
        if self.pid is not None and not signals.ended(self.pid):
            try:
                os.kill(self.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


def leading_group(pids: list[int]) -> Optional[int]:
    """The group led by one of these processes (PGID == its PID), as /proc shows it now."""
    for pid in pids:
        found = procfs.try_stat(pid)
        if found is not None and found.pgid == pid:
            return pid
    return None


def run_kill_group(grading: Grading) -> KillGroupRun:
    checkpoints = grading.checkpoints
    checkpoints.hold("bystander-ready", "child-forked", "group-ready", "signal-sent", "all-reaped",
                     "group-signalled")
    shell = grading.shell(programs=["kill_group", "bystander"])
    bystander = Bystander(grading, shell)
    steps = Steps(grading, shell, f"kill_group {SIGNAL}")
    facts: dict = {"steps": steps, "bystander": bystander.pid}
    start = steps.reach("parent-start")
    parent_pid = start.pid if start is not None else None
    parent_ended = ended_reason(parent_pid, "the parent")

    def parent_waits_first() -> Optional[str]:
        if parent_pid is not None and procfs.wchan(parent_pid) == "do_wait":
            return "the parent waits for its children before it got there"
        return None

    ready = steps.reach("group-ready", parent_ended, parent_waits_first) if start is not None else None
    forked = []
    if ready is not None:
        while len(forked) < CHILDREN:
            def no_more() -> Optional[str]:
                arrived = {a.pid for a in forked}
                coming = [c for c in signals.children(ready.pid) if c.state != "Z" and c.pid not in arrived]
                return None if coming else f"only {len(forked)} children of the parent got there"

            arrival = steps.reach("child-forked", no_more)
            if arrival is None:
                break
            forked.append(arrival)
        facts["parent"] = procfs.try_stat(ready.pid)
        facts["children"] = kids = [a.pid for a in forked]
        facts["groups_at_ready"] = {a.pid: getattr(procfs.try_stat(a.pid), "pgid", None) for a in forked}
        for arrival in forked:
            arrival.release()

        def children_settled() -> bool:
            waiting = {a.pid for a in checkpoints.arrivals("child-waiting")}
            return all(a.pid in waiting or signals.ended(a.pid) for a in forked)

        if not steps.settle(children_settled, 10, "the children's 'child-waiting'"):
            waiting = {a.pid for a in checkpoints.arrivals("child-waiting")}
            facts["waiting_late"] = "10 s after their release from 'child-forked', " + ", ".join(
                f"child {c} was {signals.describe(c)}" for c in kids if c not in waiting)
        join_group(bystander, kids, facts)
        ready.release()
        sent = steps.reach("signal-sent", parent_ended)
        if sent is not None:
            judge_signal(steps, kids, bystander, facts)
            sent.release()

            def parent_stuck() -> Optional[str]:
                if procfs.wchan(sent.pid) != "do_wait":
                    return None
                living = [c for c in signals.children(sent.pid) if c.state != "Z"]
                if living and all(signals.waits_for_signal_in_vain(c.pid) for c in living):
                    return ("the parent waits for children that nobody signalled: "
                            + ", ".join(f"{c.pid} {signals.describe(c.pid)}" for c in living))
                return None

            reaped = steps.reach("all-reaped", parent_ended, parent_stuck)
            if reaped is not None:
                facts["after_reaped"] = {c: signals.state(c) for c in kids}
                reaped.release()
                run_coordinator(steps, facts)
    bystander.remove()
    command = steps.finish()
    run = KillGroupRun.collect(grading, shell, [command])
    for name, value in facts.items():
        setattr(run, name, value)
    run.leftovers = [s for s in run.leftovers if s.pid != bystander.pid]  # the grader's own process
    containment.kill_descendants()
    return run


def join_group(bystander: Bystander, children: list[int], facts: dict) -> None:
    """While the parent is held at 'group-ready': the bystander joins the group a child leads."""
    group = leading_group(children)
    if group is None:
        facts["bystander_missing"] = bystander.missing or "no child led a group for the grader's bystander to join"
        return
    joined = bystander.join(group)
    if joined is None or joined.stat is None:
        facts["bystander_missing"] = bystander.missing or "the grader's bystander was gone at 'bystander-joined'"
        return
    facts["bystander_group"] = joined.stat.pgid


def judge_signal(steps: Steps, children: list[int], bystander: Bystander, facts: dict) -> None:
    """At 'signal-sent': waits until each child and the bystander has died or is asleep with nothing
    pending (the signal missed it), then records how each one is."""
    targets = children + ([bystander.pid] if facts.get("bystander_group") is not None else [])
    facts["deaths_late"] = not steps.settle(
        lambda: all(signals.ended(p) or signals.waits_for_signal_in_vain(p) for p in targets), DEATH,
        "the children's deaths")
    facts["endings"] = {c: signals.exit_code(c) for c in children}
    facts["fates"] = {c: signals.describe(c) for c in children}
    if bystander.pid in targets:
        # bash, its parent, reaps it at once: that it ended is what we can see, and only a signal ends it.
        facts["bystander_killed"] = signals.ended(bystander.pid)
        facts["bystander_fate"] = signals.describe(bystander.pid)
    bystander.remove()


def run_coordinator(steps: Steps, facts: dict) -> None:
    """Part 2: the coordinator's kill(0, sig), held at 'group-signalled' until the members settled."""
    start = steps.reach("coordinator-start")
    if start is None:
        return
    coordinator = start.pid
    seen: dict[str, str] = {}

    def coordinator_ended() -> Optional[str]:
        if not signals.ended(coordinator):
            return None
        status = signals.exit_code(coordinator)  # read after ended(): a zombie keeps it until reaped
        seen["end"] = signals.describe_status(status) if status is not None else "ended"
        return f"the coordinator {coordinator} ended first ({seen['end']})"

    signalled = steps.reach("group-signalled", coordinator_ended)
    if signalled is None:
        facts["coordinator_end"] = seen.get("end", "")
        return
    members = [c.pid for c in signals.children(coordinator)]

    def settled(pid: int) -> bool:
        if signals.ended(pid):
            return True
        return signals.sleeps_in(pid, signals.INPUT_WAITS + signals.SIGNAL_WAITS) and signals.pending(pid) == 0

    if not steps.settle(lambda: all(settled(m) for m in members), DEATH, "the members' fate"):
        facts["members_late"] = (f"{DEATH:g} s after kill(0, {SIGNAL}) not every member had died or gone back to "
                                 "sleep in read(): " + ", ".join(f"member {m}: {signals.describe(m)}" for m in members))
    facts["coordinator"] = procfs.try_stat(coordinator)
    try:
        facts["coordinator_status"] = procfs.status(coordinator)
    except procfs.ProcessGone:
        pass
    found = {}
    for member in members:
        try:
            status: Optional[procfs.Status] = procfs.status(member)
        except procfs.ProcessGone:
            status = None
        found[member] = {"stat": procfs.try_stat(member), "status": status, "exit": signals.exit_code(member),
                         "fate": signals.describe(member)}
    facts["members"] = found
    signalled.release()


@pytest.fixture(scope="module")
def killgroup(lab_grading: Grading) -> KillGroupRun:
    """One run of kill_group with signal 10, which the kill_group checks judge."""
    with deadline(40):
        return run_kill_group(lab_grading)


# ---- kill_group, the child first ------------------------------------------------------------------

@dataclass
class Joined:
    """One child of the child-first run: where it was when it reached 'child-waiting'."""

    index: int  # 1, 2, 3 in the order of the forks
    pid: int
    arrival: Optional[Arrival]  # at 'child-waiting' (None: never reached, see `missing`)
    missing: str = ""


@dataclass
class ChildFirstRun:
    parent_group: Optional[int] = None  # the parent's PGID (the shell's job)
    joined: list[Joined] = field(default_factory=list)
    problem: str = ""  # why the child could not be made to run first


def run_child_first(grading: Grading) -> ChildFirstRun:
    """kill_group with the parent held at 'parent-forked' (after each fork, before its own setpgid)
    until the new child has reached 'child-waiting' (after the child's own setpgid)."""
    checkpoints = grading.checkpoints
    checkpoints.hold("parent-forked")
    shell = grading.shell(programs=["kill_group"])
    steps = Steps(grading, shell, f"kill_group {SIGNAL}")
    run = ChildFirstRun()
    start = steps.reach("parent-start")
    if start is None or start.stat is None:
        run.problem = steps.missing.get("parent-start", "checkpoint 'parent-start' never reached")
    else:
        parent, run.parent_group = start.pid, start.stat.pgid

        def skipped() -> Optional[str]:
            if checkpoints.arrivals("group-ready"):
                return "the parent reached 'group-ready' without passing 'parent-forked' after each fork"
            return None

        known: set[int] = set()
        for index in range(1, CHILDREN + 1):
            forked = steps.reach("parent-forked", ended_reason(parent, "the parent"), skipped)
            if forked is None:
                run.problem = steps.missing.get("parent-forked", "")
                break
            new = sorted(c.pid for c in signals.children(parent) if c.pid not in known)
            if not new:
                run.problem = f"the parent had no new child at 'parent-forked' after fork number {index}"
                break
            child = new[0]
            known.add(child)
            run.joined.append(wait_for_child(steps, index, child))
            forked.release()
            if run.joined[-1].arrival is None:
                break
    steps.finish()
    containment.kill_descendants()
    return run


def wait_for_child(steps: Steps, index: int, child: int) -> Joined:
    """The child's arrival at 'child-waiting' while its parent is held before its own setpgid."""

    def waits_for_parent() -> Optional[str]:
        if signals.asleep_for_good([child]):
            return f"the child waits for its parent: {signals.describe(child)}"
        return None

    arrival = steps.reach("child-waiting", ended_reason(child, "the child"), waits_for_parent, pid=child)
    missing = "" if arrival is not None else steps.missing.pop("child-waiting", "")
    return Joined(index, child, arrival, missing)


# ---- the checks ----------------------------------------------------------------------------------

@check(points=1, hint="section 'Building and running'")
def test_compiles(lab) -> None:
    """kill_group.c and sigcatch.c compile"""
    if not lab.ok:
        raise CheckFailed("kill_group.c and sigcatch.c to compile", lab.report())


def caught_line(run: SigcatchRun, who: str, pid: int, number: int = 0) -> str:
    found = [line for line in run.commands["sigcatch"].lines
             if line.lstrip().startswith(f"{who}: caught SIGINT") and lines.values(line).get("PID") == pid]
    if len(found) <= number:
        raise CheckFailed(f"{'a second' if number else 'a'} '{who}: caught SIGINT  PID={pid}' line",
                          "no such line in the output" + (f" ({run.steps.stuck})" if run.steps.stuck else ""))
    return found[number]


@check(points=3, hint="task 1")
def test_ctrl_c_reaches_both(sigcatch: SigcatchRun) -> None:
    """One Ctrl-C reaches both parent and child, which both catch SIGINT"""
    parent, child = sigcatch.stat_at("parent-ready"), sigcatch.stat_at("child-ready")
    for name, who in (("parent-ready", "the parent"), ("child-ready", "the child")):
        status = sigcatch.at(name).status
        if status is None or not status.catches(SIGINT):
            shown = f"SigCgt={status.sig_caught:#x} SigIgn={status.sig_ignored:#x}" if status else "nothing"
            raise CheckFailed(f"{who} to catch SIGINT (0x2 set in SigCgt) at '{name}'", f"kernel: {shown}",
                              "Install the handler with sigaction() before the checkpoint.", at=sigcatch.at(name))
    if child.ppid != parent.pid or child.pgid != parent.pgid or sigcatch.foreground != parent.pgid:
        raise CheckFailed(f"the child in its parent's group {parent.pgid}, the terminal's foreground group",
                          f"kernel: the child {child.pid} in group {child.pgid} at 'child-ready', "
                          f"foreground group {sigcatch.foreground}",
                          "Ctrl-C goes to the terminal's foreground group, and only to it.",
                          at=sigcatch.at("child-ready"))
    caught_line(sigcatch, "Parent", parent.pid)
    caught_line(sigcatch, "Child", child.pid)


@check(points=2, hint="task 3")
def test_kill_reaches_only_child(sigcatch: SigcatchRun) -> None:
    """kill() on the child's PID reaches the child and no other process"""
    parent, child = sigcatch.stat_at("parent-ready"), sigcatch.stat_at("child-ready")
    if sigcatch.parent_pending is None:
        raise sigcatch.steps.never_reached("before-waitpid", "the parent to reach 'before-waitpid' after its kill")
    if signals.has(sigcatch.parent_pending, SIGINT):
        raise CheckFailed("only the child to get the parent's SIGINT",
                          f"the parent {parent.pid} has SIGINT pending at 'before-waitpid' "
                          f"(SigPnd|ShdPnd={sigcatch.parent_pending:#x}): it signalled itself too",
                          "Which first argument of kill() names one process?", at=sigcatch.at("before-waitpid"))
    caught_line(sigcatch, "Child", child.pid, number=1)
    output = sigcatch.commands["sigcatch"].lines
    count = next((line for line in lines.labelled(output, f"Parent: PID={parent.pid}") if "caught SIGINT" in line), None)
    if count is None:
        raise CheckFailed(f"a 'Parent: PID={parent.pid}  caught SIGINT 1 time(s)' line once the child is reaped",
                          "no such line in the output" + (f" ({sigcatch.steps.stuck})" if sigcatch.steps.stuck else ""))
    counted = re.search(r"caught SIGINT (\d+) time", count)
    caught = lines.labelled(output, "Parent: caught SIGINT")
    if counted is None or counted.group(1) != "1" or len(caught) != 1:
        raise CheckFailed("the parent to catch SIGINT once (Ctrl-C's) and count 1, after it unblocked SIGINT",
                          f"'{count.strip()}' after {len(caught)} 'Parent: caught SIGINT' line(s): a second SIGINT "
                          "reached the parent", "Which first argument of kill() names one process?")


@check(points=2, hint="task 4")
def test_zombie_until_reaped(sigcatch: SigcatchRun) -> None:
    """An exited child is a zombie (state Z) until its parent reaps it"""
    parent, child = sigcatch.stat_at("parent-ready"), sigcatch.stat_at("child-ready")
    if sigcatch.parent_pending is None:
        raise sigcatch.steps.never_reached("before-waitpid", "the parent to reach 'before-waitpid'")
    before = sigcatch.child_before
    if sigcatch.child_end_late:
        raise CheckFailed(f"the child {child.pid} to end after the parent's SIGINT, and stay a zombie (Z) until reaped",
                          sigcatch.child_end_late, at=sigcatch.at("before-waitpid"))
    if before is None or before.state != "Z" or before.ppid != parent.pid:
        shown = "gone" if before is None else f"state {before.state}, PPID {before.ppid}"
        raise CheckFailed(f"the child {child.pid}, ended but not yet reaped, in state Z with PPID {parent.pid}",
                          f"kernel at 'before-waitpid': {shown}", at=sigcatch.at("before-waitpid"))
    if "after-waitpid" not in sigcatch.arrivals:
        raise sigcatch.steps.never_reached("after-waitpid", "the parent to reach 'after-waitpid'")
    after = sigcatch.child_after
    if after is not None:
        raise CheckFailed("no trace of the child once waitpid has returned",
                          f"the child {child.pid} still there at 'after-waitpid' in state {after.state}: "
                          "a zombie nobody reaped", "Reap it with waitpid().", at=sigcatch.at("after-waitpid"))
    line = sigcatch.line("Parent: reaped", command="sigcatch")
    require_matching(line, {"PID": child.pid}, "the 'Parent: reaped' line")


def kill_group_stopped(run: KillGroupRun, name: str, what: str) -> CheckFailed:
    return run.steps.never_reached(name, what)


@check(points=3, hint="task 5")
def test_group_ready_before_signal(killgroup: KillGroupRun) -> None:
    """The group exists, with all three children in it, before the parent signals it"""
    if "group-ready" not in killgroup.arrivals:
        raise kill_group_stopped(killgroup, "group-ready", "the parent to reach 'group-ready' after its forks")
    parent = killgroup.parent or killgroup.stat_at("group-ready")
    if len(killgroup.children) != CHILDREN:
        raise CheckFailed("three children at 'child-forked'", f"{len(killgroup.children)}: "
                          + killgroup.steps.missing.get("child-forked", ""))
    leader = killgroup.group
    for child, group in killgroup.groups_at_ready.items():
        if group != leader or group == parent.pgid:
            raise CheckFailed("at 'group-ready' (the parent is about to signal the children's group) all three "
                              "children in one new group led by one of them",
                              f"kernel: child {child} in group {group} (the parent's is {parent.pgid}): "
                              "not in the new group",
                              "The kernel may run the parent before its children, and here it did. Who "
                              "else can put a child in the group?", at=killgroup.at("group-ready"))


@check(points=2, hint="task 5")
def test_child_joins_group_itself(grading: Grading) -> None:
    """Each child joins the group itself, even when it runs before its parent"""
    run = run_child_first(grading)
    expected = ("each child in the new group when it reaches 'child-waiting', while its parent is still held "
                "at 'parent-forked', before the parent's own setpgid")
    if run.problem:
        raise CheckFailed(expected, run.problem)
    if not run.joined:
        raise CheckFailed(expected, "the parent forked no child")
    leader = run.joined[0].pid  # the first child leads the group
    for joined in run.joined:
        if joined.arrival is None or joined.arrival.stat is None:
            raise CheckFailed(expected, f"child {joined.index} ({joined.pid}) never got there: {joined.missing}",
                              "The child must not wait for its parent to join the group.")
        group = joined.arrival.stat.pgid
        if group != leader:
            where = ("still the parent's group" if group == run.parent_group
                     else f"not the new group (the parent's group is {run.parent_group})")
            wanted = "a new group led by itself" if joined.index == 1 else f"group {leader}, led by the first child"
            raise CheckFailed(expected + f": child {joined.index} ({joined.pid}) in {wanted}",
                              f"kernel at 'child-waiting': child {joined.pid} in group {group}, {where}",
                              "The kernel may run a child before its parent, and here it did. The child calls "
                              "setpgid too.", at=joined.arrival)


@check(points=3, hint="task 5")
def test_signal_kills_every_member(killgroup: KillGroupRun) -> None:
    """One kill() call kills every member of the group with the signal given"""
    if "signal-sent" not in killgroup.arrivals:
        raise kill_group_stopped(killgroup, "signal-sent", "the parent to send the signal and reach 'signal-sent'")
    if len(killgroup.children) != CHILDREN:
        raise CheckFailed("three children in the group", f"{len(killgroup.children)} reached 'child-forked'")
    at = killgroup.at("signal-sent")
    for child in killgroup.children:
        status = killgroup.endings.get(child)
        if status is None or not os.WIFSIGNALED(status) or os.WTERMSIG(status) != SIGNAL:
            how = signals.describe_status(status) if status is not None else killgroup.fates.get(child, "?")
            late = f", {DEATH:g} s after the parent's kill" if killgroup.deaths_late else ""
            raise CheckFailed(f"each child of group {killgroup.group} killed by signal {SIGNAL}",
                              f"kernel at 'signal-sent': child {child} was not killed by signal {SIGNAL}: "
                              f"it was {how}{late}", at=at)
    if killgroup.bystander_group is None:
        raise CheckFailed(f"the grader's bystander to join group {killgroup.group} before the parent signals it",
                          killgroup.bystander_missing or "it never joined", at=killgroup.at("group-ready"))
    if not killgroup.bystander_killed:
        late = f" {DEATH:g} s after the parent's kill" if killgroup.deaths_late else ", with no signal pending"
        raise CheckFailed(f"one kill() to reach every process in group {killgroup.bystander_group}, also the "
                          f"grader's bystander {killgroup.bystander}, which joined it at 'group-ready'",
                          f"kernel after 'signal-sent': the three children died, but the bystander was "
                          f"{killgroup.bystander_fate}{late}: the signal went only to the PIDs the parent knows",
                          "A signal to a group reaches every process in it at that moment, also those the "
                          "sender does not know. Which first argument of kill() names a group?", at=at)


@check(points=1, hint="task 5")
def test_parent_survives(killgroup: KillGroupRun) -> None:
    """The parent, outside the group, survives the signal"""
    if "all-reaped" not in killgroup.arrivals:
        status = killgroup.commands[killgroup.steps.command].status
        how = f" (exit status {status}: killed by signal {status - 128})" if status > 128 else ""
        raise CheckFailed(f"the parent, outside group {killgroup.group}, to "
                          "survive and reach 'all-reaped'",
                          f"the parent never got there{how}: "
                          + killgroup.steps.missing.get("all-reaped", killgroup.steps.missing.get("signal-sent", "")))
    parent = killgroup.stat_at("all-reaped")
    if killgroup.children and parent.pgid == killgroup.group:
        raise CheckFailed(f"the parent outside group {parent.pgid}", f"kernel: the parent is in group {parent.pgid}",
                          at=killgroup.at("all-reaped"))


@check(points=1, hint="task 5")
def test_children_reaped(killgroup: KillGroupRun) -> None:
    """Every child is reaped: no zombie is left"""
    if "all-reaped" not in killgroup.arrivals:
        raise kill_group_stopped(killgroup, "all-reaped", "the parent to reap its children and reach 'all-reaped'")
    for child, state in killgroup.after_reaped.items():
        if state is not None:
            raise CheckFailed("every child reaped before 'all-reaped'",
                              f"kernel: child {child} still there in state {state}"
                              + (" (a zombie nobody reaped)" if state == "Z" else ""),
                              "waitpid() each child.", at=killgroup.at("all-reaped"))


@check(points=2, hint="task 5")
def test_reaped_lines_match_kernel(killgroup: KillGroupRun) -> None:
    """The printed PIDs and signal numbers are the children's real ones"""
    if len(killgroup.children) != CHILDREN or "all-reaped" not in killgroup.arrivals:
        raise kill_group_stopped(killgroup, "all-reaped", "the program to reap its three children")
    if killgroup.waiting_late:
        raise CheckFailed("each child to print its 'Child N:' line and reach 'child-waiting' before the parent "
                          "signals", killgroup.waiting_late, at=killgroup.at("group-ready"))
    command = killgroup.steps.command
    leader = killgroup.group
    sending = killgroup.line("Parent: sending signal", command=command)
    if f"signal {SIGNAL} to group {leader}" not in sending:
        raise CheckFailed(f"'Parent: sending signal {SIGNAL} to group {leader}'", f"'{sending.strip()}'")
    for arrival in killgroup.steps.grading.checkpoints.arrivals("child-waiting"):
        if arrival.pid in killgroup.children and arrival.stat is not None:
            line = next((l for l in lines.labelled(killgroup.commands[command].lines, "Child ")
                         if lines.values(l).get("PID") == arrival.pid), None)
            if line is None:
                raise CheckFailed(f"a 'Child N: PID={arrival.pid}' line", "no such line in the output")
            require_matching(line, {"PID": arrival.pid, "PGID": arrival.stat.pgid}, "the 'Child N:' line",
                             at=arrival)
    reaped = [l for l in killgroup.commands[command].lines if l.lstrip().startswith("Parent: reaped")]
    named = sorted(lines.values(l).get("PID", -1) for l in reaped)
    if named != sorted(killgroup.children):
        raise CheckFailed(f"three 'Parent: reaped PID=...' lines naming the children {sorted(killgroup.children)}",
                          f"Reaped lines name {named}: {' / '.join(l.strip() for l in reaped)}")
    for line in reaped:
        if f"killed by signal {SIGNAL}" not in line:
            raise CheckFailed(f"'killed by signal {SIGNAL}' on every reaped line", f"'{line.strip()}'")


def coordinator_group_problem(coordinator: Optional[procfs.Stat], parent: Optional[procfs.Stat]) -> str:
    """What is wrong with the coordinator's group at 'group-signalled', in words ('' if nothing)."""
    if coordinator is None:
        return "the coordinator was gone"
    if coordinator.pgid == getattr(parent, "pgid", None):
        return f"the coordinator {coordinator.pid} is in group {coordinator.pgid}, the parent's: it made no group"
    if coordinator.pgid != coordinator.pid:
        return f"the coordinator {coordinator.pid} is in group {coordinator.pgid}, which it does not lead"
    return ""


@check(points=3, hint="task 6")
def test_kill_zero_signals_own_group(killgroup: KillGroupRun) -> None:
    """kill(0, sig) signals the caller's own group: ignoring members and the coordinator live on"""
    if "group-signalled" not in killgroup.arrivals:
        end = f" (the kernel: {killgroup.coordinator_end})" if killgroup.coordinator_end else ""
        raise CheckFailed(f"the coordinator to survive its own kill(0, {SIGNAL}) and reach 'group-signalled'",
                          killgroup.steps.missing.get("group-signalled", "it never got there") + end,
                          "kill(0, sig) includes the caller.")
    coordinator, status = killgroup.coordinator, killgroup.coordinator_status
    at = killgroup.at("group-signalled")
    problem = coordinator_group_problem(coordinator, killgroup.parent)
    if problem or status is None:
        raise CheckFailed("the coordinator leading a new group of its own at 'group-signalled'",
                          f"kernel: {problem or 'the coordinator was gone'}", at=at)
    if not status.ignores(SIGNAL):
        raise CheckFailed(f"the coordinator to ignore signal {SIGNAL} (SigIgn)", f"kernel: SigIgn={status.sig_ignored:#x}",
                          at=at)
    if killgroup.members_late:
        raise CheckFailed(f"the member with the default action dead of signal {SIGNAL}, the other asleep in read()",
                          killgroup.members_late, at=at)
    members = killgroup.members
    if len(members) != 2 or any(m["stat"] is None or m["stat"].pgid != coordinator.pid for m in members.values()):
        raise CheckFailed(f"two members in the coordinator's group {coordinator.pid}",
                          "kernel: " + ", ".join(f"{pid} in group {getattr(m['stat'], 'pgid', '?')}"
                                                 for pid, m in members.items()), at=at)
    dead = [pid for pid, m in members.items() if m["exit"] is not None]
    living = [pid for pid, m in members.items() if m["exit"] is None]
    if not dead:
        raise CheckFailed(f"the member with the default action to die of signal {SIGNAL}",
                          f"both members are alive, ignoring signal {SIGNAL} (SigIgn)", at=at)
    status_dead = members[dead[0]]["exit"]
    if not os.WIFSIGNALED(status_dead) or os.WTERMSIG(status_dead) != SIGNAL:
        raise CheckFailed(f"the member with the default action to die of signal {SIGNAL}",
                          f"member {dead[0]}: {signals.describe_status(status_dead)}", at=at)
    if len(living) != 1 or not members[living[0]]["status"] or not members[living[0]]["status"].ignores(SIGNAL):
        raise CheckFailed(f"the second member to ignore signal {SIGNAL} (SigIgn) and live on",
                          "kernel: " + ", ".join(f"member {p}: {m['fate']}" for p, m in members.items()),
                          at=at)
    command = killgroup.steps.command
    require_matching(killgroup.line("Coordinator: reaped", f"PID={dead[0]}", command),
                     {"PID": dead[0]}, "the coordinator's 'reaped' line")
    killgroup.line("Member:", f"PID={living[0]}", command)


def require_clean_end(run: Run, steps: Steps) -> None:
    """The program ended by itself with status 0, and left no process behind, zombies included."""
    if steps.stuck:
        raise CheckFailed(f"{steps.command} to end by itself", steps.stuck)
    run.require_clean_exit(steps.command)


@check(points=1, hint="tasks 3 and 4")
def test_sigcatch_exits_cleanly(sigcatch: SigcatchRun) -> None:
    """sigcatch exits with status 0 and leaves no process behind, not even a zombie"""
    require_clean_end(sigcatch, sigcatch.steps)


@check(points=1, hint="tasks 5 and 6")
def test_kill_group_exits_cleanly(killgroup: KillGroupRun) -> None:
    """kill_group exits with status 0 and leaves no process behind, not even a zombie"""
    require_clean_end(killgroup, killgroup.steps)
