"""Lab 09: supervising a process tree. Handout: labs/09-supervisor/README.md.

supervise is typed into interactive bash sessions, four short runs, each in a context of its own
(its own folder and checkpoint server), all before the checks judge them:

A. `supervise start -g 60000 sv.pid -- svc_escape &`: the service child is held at 'service-forked'
   until the supervisor has reached 'supervisor-started', so only the parent can have put it in its
   own group; then the PID file and its lock (/proc/locks), a second start that must be refused,
   and `supervise stop`: with a 60 s grace period, stop returns at once only if every process of
   the service, the worker and the escapee that called setsid() included, went on SIGTERM.
B. an old PID file naming a living, unrelated process (a `sleep` job) and locked by nobody; the new
   supervisor is held at 'pidfile-ready-to-publish', where the old file must still be whole, and
   must then call the file stale and replace it, without signalling the sleep.
C. `-g 50` with svc_stubborn, which ignores SIGTERM: stop must end it with SIGKILL after the grace.
D. `stop` with no PID file, and with a stale one: exit 1, and nobody signalled, also by anything the
   stop left running (judged once that has ended).

"Not signalled" is read from /proc, and does not depend on when: a signal sent to the sleep stays
pending (SigPnd/ShdPnd) from the moment kill() returns until the sleep is reaped, and after that
the sleep is gone.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from typing import Callable, Iterator, Optional

import pytest

from grader import procfs, signals
from grader.check import CheckFailed, Grading, check, deadline
from grader.checkpoints import Arrival, CheckpointNeverReached
from grader.daemons import alive, read_text, signals_in, steadily, wait_for
from grader.terminal import Command, Shell, TerminalTimeout

LAB = "09-supervisor"
PROGRAMS = ["supervise.c"]
PROVIDED = ["svc_escape.c", "svc_stubborn.c"]  # the services supervise is tried on: never the student's copy

DEADLINE = 5.0  # seconds for anything a correct supervisor does at once


# -- running commands ---------------------------------------------------------------------------


def context(lab_grading: Grading) -> Grading:
    """A fresh context for one run; its terminal also shows in the reports of the lab's checks."""
    return Grading(lab_grading.lab, lab_grading.run_as, lab_grading.limits)


def run_command(ctx: Grading, shell: Shell, command: str, timeout: float = DEADLINE,
                stop_when: Optional[Callable[[], bool]] = None) -> Optional[Command]:
    """Types a command and waits for the next prompt, releasing held checkpoints meanwhile (a
    wrong program may reach one no check waits for then). None if it had not returned by the
    deadline, or once `stop_when` holds."""
    start = shell.type_line(command)

    def done() -> bool:
        for arrival in ctx.checkpoints.arrivals():
            if arrival.held:
                arrival.release()
        return bool(shell.prompt.search(shell.transcript, start)) or bool(stop_when and stop_when())

    try:
        shell.wait_until(done, timeout, f"'{command}' returning")
    except TerminalTimeout:
        return None
    if not shell.prompt.search(shell.transcript, start):
        return None
    return shell.wait_prompt(start, command)


def background_pid(ctx: Grading, shell: Shell, command: str) -> int:
    """Starts `command &` and returns the PID bash reports for it."""
    result = run_command(ctx, shell, f'{command} & echo "bg=$!"')
    found = re.search(r"bg=(\d+)", result.output if result else "")
    if not found:
        raise CheckFailed(f"bash to start '{command}' in the background", "it did not")
    pid = int(found.group(1))
    program = command.split()[0]
    if not wait_for(lambda: getattr(procfs.try_stat(pid), "comm", program) == program, DEADLINE):
        raise CheckFailed(f"bash to start '{command}' in the background", f"PID {pid} never ran {program}")
    return pid


def wait_checkpoint(ctx: Grading, name: str, gone: Callable[[], bool]) -> Optional[Arrival]:
    try:
        return ctx.checkpoints.wait(name, timeout=DEADLINE,
                                    give_up=lambda: "no process of the service is left" if gone() else None)
    except CheckpointNeverReached:
        return None


def nothing_but(ctx: Grading, *pids: int) -> Callable[[], bool]:
    """True once nothing the run started lives, but the processes in `pids` (the shell, a sleep)."""
    return steadily(lambda: not [s for s in ctx.leftovers(keep=list(pids)) if s.state != "Z"])


def write_pid_file(ctx: Grading, path: str, pid: int) -> None:
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(f"{pid}\n")
    ctx.run_as.give(path)  # the supervisor must be able to lock and replace it


def locks_on(path: str) -> list[procfs.Lock]:
    try:
        return [lock for lock in procfs.locks() if lock.is_on(path)]
    except OSError:
        return []


def signalled(pid: int) -> Optional[str]:
    """How the kernel shows that `pid`, a `sleep` this run started (default dispositions, nothing
    blocked), got a signal; None if it shows no sign of one. From the moment kill() returns, the
    signal is pending (SigPnd/ShdPnd) until the process is reaped, and the process is gone after
    that: so the verdict is the same whenever it is read, however slowly the sleep dies."""
    stat = procfs.try_stat(pid)
    if stat is None or stat.comm != "sleep":
        return "it is gone"
    if stat.state in ("Z", "X"):
        return "it was killed"
    if stat.state in ("T", "t"):
        return "it was stopped"
    pending = signals.pending(pid)
    if pending:
        return f"{', '.join(signals_in(pending))} pending for it"
    return None


def state_of(pid: Optional[int]) -> str:
    stat = procfs.try_stat(pid) if pid else None
    return f"state {stat.state}, PPID={stat.ppid}" if stat else "gone"


# -- run A: start, lock, second start, stop ----------------------------------------------------


@dataclass
class RunA:
    supervisor: Optional[Arrival] = None
    child: Optional[Arrival] = None  # the service child, held at 'service-forked'
    child_pgid_held: Optional[int] = None  # its group while held, once the supervisor went on
    main: Optional[procfs.Stat] = None
    supervisor_stat: Optional[procfs.Stat] = None
    escapee: Optional[int] = None
    worker: Optional[int] = None
    pid_text: Optional[str] = None
    locks: list[procfs.Lock] = field(default_factory=list)
    second: Optional[Command] = None
    second_supervisor: Optional[int] = None
    pid_text_after_second: Optional[str] = None
    locks_after_second: list[procfs.Lock] = field(default_factory=list)
    supervisor_alive_after_second: bool = False
    escapee_before_stop: Optional[procfs.Stat] = None
    stop: Optional[Command] = None
    left: dict[str, str] = field(default_factory=dict)  # role -> state, for what outlived the stop
    pid_file_after_stop: bool = False
    notes: list[str] = field(default_factory=list)


def run_a(ctx: Grading) -> RunA:
    run = RunA()
    checkpoints = ctx.checkpoints
    checkpoints.hold("service-forked")
    shell = ctx.shell()
    pid_path = ctx.path("sv.pid")
    shell.run(f"supervise start -g 60000 {pid_path} -- svc_escape &")  # holds stay held: no run_command
    gone = nothing_but(ctx, shell.pid)
    run.child = wait_checkpoint(ctx, "service-forked", gone)
    run.supervisor = wait_checkpoint(ctx, "supervisor-started", gone)
    if run.child is not None:
        child = procfs.try_stat(run.child.pid)
        run.child_pgid_held = child.pgid if child else None
        run.child.release()
    if run.supervisor is None or run.child is None:
        return run
    main = wait_checkpoint(ctx, "service-running", gone)
    escaped = wait_checkpoint(ctx, "escaped", gone)
    supervisor = run.supervisor.pid
    run.main = procfs.try_stat(main.pid) if main else None
    run.supervisor_stat = procfs.try_stat(supervisor)
    run.escapee = escaped.pid if escaped else None
    if run.main is not None:
        members = [s.pid for s in ctx.leftovers() if s.pgid == run.main.pid and s.pid != run.main.pid
                   and s.state != "Z"]
        run.worker = members[0] if members else None
    run.pid_text = read_text(pid_path)
    run.locks = locks_on(pid_path)

    # A second start while the first runs. A supervisor that does not refuse runs on in the
    # foreground: stop waiting as soon as it says it started.
    def second_started() -> bool:
        return any(a.pid != supervisor for a in checkpoints.arrivals("supervisor-started"))

    run.second = run_command(ctx, shell, f"supervise start {pid_path} -- svc_stubborn", stop_when=second_started)
    others = [a.pid for a in checkpoints.arrivals("supervisor-started") if a.pid != supervisor]
    run.second_supervisor = others[0] if others else None
    run.pid_text_after_second = read_text(pid_path)
    run.locks_after_second = locks_on(pid_path)
    run.supervisor_alive_after_second = alive(supervisor)
    if run.second is None:
        return run  # the shell is busy with a second supervisor: the stop cannot be typed

    run.escapee_before_stop = procfs.try_stat(run.escapee) if run.escapee else None
    run.stop = run_command(ctx, shell, f"supervise stop {pid_path}")
    roles = {"main": run.main.pid if run.main else None, "worker": run.worker, "supervisor": supervisor,
             "escapee": run.escapee}
    wait_for(lambda: not any(alive(pid) for pid in roles.values()), DEADLINE if run.stop else 0)
    run.left = {role: state_of(pid) for role, pid in roles.items() if alive(pid)}
    run.pid_file_after_stop = os.path.exists(pid_path)
    return run


# -- run B: a stale PID file, replaced atomically -------------------------------------------------


@dataclass
class RunB:
    innocent: int = 0
    publishing: Optional[Arrival] = None
    during: Optional[str] = None  # sv.pid's content while the new supervisor was held
    supervisor: Optional[Arrival] = None
    after: Optional[str] = None
    said_stale: bool = False
    output: str = ""
    innocent_signalled: Optional[str] = None  # how the sleep shows it got a signal, if it does


def run_b(ctx: Grading) -> RunB:
    run = RunB()
    ctx.checkpoints.hold("pidfile-ready-to-publish")
    shell = ctx.shell()
    pid_path = ctx.path("sv.pid")
    run.innocent = background_pid(ctx, shell, "sleep 300")
    write_pid_file(ctx, pid_path, run.innocent)
    start = len(shell.transcript)
    shell.run(f"supervise start {pid_path} -- svc_stubborn &")
    gone = nothing_but(ctx, shell.pid, run.innocent)
    run.publishing = wait_checkpoint(ctx, "pidfile-ready-to-publish", gone)
    if run.publishing is not None:
        run.during = read_text(pid_path)
        run.publishing.release()
    run.supervisor = wait_checkpoint(ctx, "supervisor-started", gone)
    if run.supervisor is not None and wait_checkpoint(ctx, "ignoring-sigterm", gone) is not None:
        # The supervisor says 'stale' before it starts the service, which prints its first line
        # before 'ignoring-sigterm'; both reach the terminal's reader a little later, in that order.
        try:
            shell.wait_until(lambda: b"stale" in shell.transcript[start:]
                             or b"svc_stubborn: PID=" in shell.transcript[start:], DEADLINE,
                             "the service's first line")
        except TerminalTimeout:
            pass
    shell.drain()
    run.output = shell.since(start)
    run.said_stale = "stale" in run.output
    run.after = read_text(pid_path)
    run.innocent_signalled = signalled(run.innocent)
    return run


# -- run C: SIGKILL after the grace period ---------------------------------------------------------

GRACE_MS = 50


@dataclass
class RunC:
    supervisor: Optional[Arrival] = None
    stubborn: Optional[Arrival] = None
    stop: Optional[Command] = None
    left: dict[str, str] = field(default_factory=dict)


def run_c(ctx: Grading) -> RunC:
    run = RunC()
    shell = ctx.shell()
    pid_path = ctx.path("sv.pid")
    shell.run(f"supervise start -g {GRACE_MS} {pid_path} -- svc_stubborn &")
    gone = nothing_but(ctx, shell.pid)
    run.supervisor = wait_checkpoint(ctx, "supervisor-started", gone)
    run.stubborn = wait_checkpoint(ctx, "ignoring-sigterm", gone)
    if run.supervisor is None or run.stubborn is None:
        return run
    run.stop = run_command(ctx, shell, f"supervise stop {pid_path}")
    roles = {"svc_stubborn": run.stubborn.pid, "supervisor": run.supervisor.pid}
    wait_for(lambda: not any(alive(pid) for pid in roles.values()), DEADLINE if run.stop else 0)
    run.left = {role: state_of(pid) for role, pid in roles.items() if alive(pid)}
    return run


# -- run D: stop when nothing runs ------------------------------------------------------------------


@dataclass
class RunD:
    missing: Optional[Command] = None
    innocent: int = 0
    stale: Optional[Command] = None
    innocent_signalled: Optional[str] = None  # how the sleep shows it got a signal, if it does


def run_d(ctx: Grading) -> RunD:
    run = RunD()
    shell = ctx.shell()
    pid_path = ctx.path("sv.pid")
    run.missing = run_command(ctx, shell, f"supervise stop {pid_path}")
    run.innocent = background_pid(ctx, shell, "sleep 300")
    write_pid_file(ctx, pid_path, run.innocent)
    run.stale = run_command(ctx, shell, f"supervise stop {pid_path}")
    # A process the stop left behind could still signal the sleep: judge once it is gone too.
    wait_for(nothing_but(ctx, shell.pid, run.innocent), DEADLINE)
    run.innocent_signalled = signalled(run.innocent)
    return run


@dataclass
class Runs:
    a: RunA
    b: RunB
    c: RunC
    d: RunD


@pytest.fixture(scope="module")
def runs(lab_grading: Grading) -> Iterator[Runs]:
    """The four runs that the checks below judge; each is over (all killed) before the next."""
    done: list[Grading] = []

    def one(runner):  # type: ignore[no-untyped-def]
        ctx = context(lab_grading)
        done.append(ctx)
        try:
            return runner(ctx)
        finally:
            lab_grading.terminals.extend(ctx.terminals)  # so failure reports show what was typed
            ctx.teardown()

    with deadline(60):
        result = Runs(one(run_a), one(run_b), one(run_c), one(run_d))
    yield result


def output_of(command: Optional[Command]) -> str:
    if command is None:
        return "it had not returned"
    shown = " / ".join(command.lines[-4:]) or "nothing"
    return f"exit status {command.status}, output: {shown}"


# -- the checks -----------------------------------------------------------------------------------


@check(points=1, hint="section 1")
def test_compiles(lab) -> None:
    """supervise.c, svc_escape.c and svc_stubborn.c compile"""
    if not lab.ok:
        raise CheckFailed("the three programs to compile", lab.report())


@check(points=3, hint="section 2")
def test_09_service_own_group(runs: Runs) -> None:
    """The service runs in a process group of its own, made by the supervisor before the service runs"""
    run = runs.a
    if run.child is None:
        raise CheckpointNeverReached("service-forked", 0, "the service child never got there")
    if run.supervisor is None:
        raise CheckpointNeverReached("supervisor-started", 0, "the supervisor never got there")
    child = run.child.pid
    if run.child_pgid_held != child:
        raise CheckFailed(f"the service child {child} in a group of its own (PGID={child}) as soon as the "
                          "supervisor reached 'supervisor-started'",
                          f"kernel: PGID={run.child_pgid_held} while the child was held before it could call "
                          "setpgid() itself",
                          "The parent must call setpgid(child, child) too: the child may not have run yet.",
                          at=run.supervisor)
    main, supervisor = run.main, run.supervisor_stat
    if main is None or supervisor is None or main.pid != child or main.ppid != supervisor.pid \
            or main.pgid != main.pid or supervisor.pgid == main.pid:
        observed = (f"kernel: service PID={main.pid} PPID={main.ppid} PGID={main.pgid}, supervisor "
                    f"PID={supervisor.pid} PGID={supervisor.pgid}" if main and supervisor
                    else "the service or the supervisor was gone")
        raise CheckFailed("the service, a child of the supervisor, leading its own group (PGID == its PID)",
                          observed, at=run.supervisor)


@check(points=3, hint="section 3")
def test_09_pidfile_lock(runs: Runs) -> None:
    """The PID file holds the supervisor's PID, and the supervisor holds a write lock on it"""
    run = runs.a
    if run.supervisor is None:
        raise CheckpointNeverReached("supervisor-started", 0, "the supervisor never got there")
    supervisor = run.supervisor.pid
    if run.pid_text is None or run.pid_text.strip() != str(supervisor):
        shown = "no PID file" if run.pid_text is None else f"the PID file holds {run.pid_text.strip()!r}"
        raise CheckFailed(f"the PID file to hold {supervisor}, the supervisor's PID", shown, at=run.supervisor)
    mine = [lock for lock in run.locks if lock.access == "WRITE" and lock.pid in (supervisor, -1)]
    if not mine:
        shown = ", ".join(f"{l.kind} {l.access} by PID {l.pid}" for l in run.locks) or "none"
        raise CheckFailed(f"a WRITE lock on the PID file held by the supervisor {supervisor} (/proc/locks)",
                          f"locks on its inode: {shown}", "Keep the locked descriptor open while you run.",
                          at=run.supervisor)


@check(points=2, hint="section 3")
def test_09_second_start_refused(runs: Runs) -> None:
    """A second start with the same PID file is refused while the first supervisor runs"""
    run = runs.a
    if run.supervisor is None:
        raise CheckpointNeverReached("supervisor-started", 0, "the supervisor never got there")
    supervisor = run.supervisor.pid
    expected = (f"a second start to exit 1 with 'already running' and PID {supervisor} (the first supervisor "
                "holds the lock), leaving the first running and its PID file as it was")
    if run.second_supervisor is not None or run.second is None:
        raise CheckFailed(expected, f"a second supervisor started (PID {run.second_supervisor})"
                          if run.second_supervisor else "it had not returned", at=run.supervisor)
    output = run.second.output
    if run.second.status != 1 or "already running" not in output or str(supervisor) not in output:
        raise CheckFailed(expected, output_of(run.second), at=run.supervisor)
    if not run.supervisor_alive_after_second or run.pid_text_after_second != run.pid_text:
        raise CheckFailed(expected, f"first supervisor {'alive' if run.supervisor_alive_after_second else 'gone'}, "
                          f"PID file {run.pid_text_after_second!r}", at=run.supervisor)
    if not [lock for lock in run.locks_after_second if lock.pid in (supervisor, -1)]:
        raise CheckFailed(expected, "the first supervisor no longer holds the lock", at=run.supervisor)


@check(points=2, hint="section 3")
def test_09_pidfile_atomic(runs: Runs) -> None:
    """The PID file is replaced in one step: until then it keeps its whole old content"""
    run = runs.b
    if run.publishing is None:
        raise CheckpointNeverReached("pidfile-ready-to-publish", 0, "the supervisor never got there")
    old = f"{run.innocent}\n"
    if run.during != old:
        shown = ("empty: it was rewritten in place" if run.during == "" else
                 "gone" if run.during is None else f"{run.during!r}")
        raise CheckFailed(f"the old PID file to hold its whole old content {old!r} until the new one is published "
                          "(write a temporary file, then rename it)",
                          f"at 'pidfile-ready-to-publish' the PID file was {shown}", at=run.publishing)


@check(points=2, hint="section 3")
def test_09_stale_pidfile_replaced(runs: Runs) -> None:
    """A stale PID file (its PID alive but holding no lock) is reported stale and replaced"""
    run = runs.b
    expected = (f"the PID file naming PID {run.innocent} (a living sleep that holds no lock) to be reported "
                "stale and replaced with the new supervisor's PID")
    if run.supervisor is None:
        shown = " / ".join(line.strip() for line in run.output.splitlines() if line.strip())[-300:]
        raise CheckFailed(expected, f"the supervisor never started: {shown or 'no output'}")
    if not run.said_stale or run.after is None or run.after.strip() != str(run.supervisor.pid):
        raise CheckFailed(expected, f"'stale' {'printed' if run.said_stale else 'never printed'}, PID file "
                          f"{run.after!r}", at=run.supervisor)
    if run.innocent_signalled:
        raise CheckFailed(expected, f"the sleep {run.innocent} was signalled: {run.innocent_signalled}",
                          "A PID in a stale file belongs to nobody you know: never signal it.", at=run.supervisor)


@check(points=3, hint="section 4")
def test_09_stop_term_group(runs: Runs) -> None:
    """stop sends SIGTERM to the whole service group; every member exits, then the supervisor"""
    run = runs.a
    if run.supervisor is None or run.main is None:
        raise CheckpointNeverReached("service-running", 0, "the service never got there")
    main = run.main.pid
    expected = (f"stop to exit 0 once SIGTERM to group PGID={main} made main ({main}) and worker ({run.worker}) "
                "print 'got SIGTERM' and exit; then the supervisor exits and removes the PID file")
    if run.stop is None:
        raise CheckFailed(expected, f"stop had not returned after {DEADLINE:g} s (grace 60 s): still running: "
                          + (", ".join(f"{r} ({s})" for r, s in run.left.items()) or "nothing"), at=run.supervisor)
    output = run.stop.output
    missing = [f"'{role} PID={pid} got SIGTERM'" for role, pid in (("main", main), ("worker", run.worker))
               if f"{role} PID={pid} got SIGTERM" not in output]
    if missing or run.stop.status != 0:
        raise CheckFailed(expected, f"{output_of(run.stop)}; no {' or '.join(missing)}" if missing
                          else output_of(run.stop), at=run.supervisor)
    left = {r: s for r, s in run.left.items() if r != "escapee"}
    if left or run.pid_file_after_stop:
        raise CheckFailed(expected, "still running: " + ", ".join(f"{r} ({s})" for r, s in left.items())
                          + ("; the PID file is still there" if run.pid_file_after_stop else ""), at=run.supervisor)
    if f"SIGTERM -> group PGID={main}" not in output:
        raise CheckFailed(expected, f"the report does not say 'SIGTERM -> group PGID={main}'", at=run.supervisor)


@check(points=3, hint="section 5")
def test_09_stop_escapee(runs: Runs) -> None:
    """stop also finds and stops the escapee that left the group with setsid()"""
    run = runs.a
    if run.escapee is None:
        raise CheckpointNeverReached("escaped", 0, "the escapee never got there")
    escapee = run.escapee
    expected = f"the escapee PID={escapee} (it called setsid: SID={escapee}) adopted by the supervisor and stopped too"
    if run.stop is None or "escapee" in run.left:
        adopted = run.escapee_before_stop
        where = ("" if adopted is None else
                 f"; its parent was {adopted.ppid}" + (" (the supervisor)" if run.supervisor and
                                                        adopted.ppid == run.supervisor.pid else
                                                        ": the supervisor is not a child subreaper"))
        raise CheckFailed(expected, f"the escapee was still running after stop ({state_of(escapee)}){where}"
                          + ("" if run.stop else f"; stop had not returned after {DEADLINE:g} s"), at=run.supervisor)
    report = f"SIGTERM -> escapee PID={escapee}"
    if not re.search(rf"^supervise: {re.escape(report)}\b", run.stop.output, re.M):
        raise CheckFailed(expected, f"no report line 'supervise: {report} (PGID=... SID=...)' in the output of "
                          f"stop ({output_of(run.stop)})", at=run.supervisor)


@check(points=3, hint="section 6")
def test_09_stop_sigkill_after_grace(runs: Runs) -> None:
    """After the grace period, stop kills what ignored SIGTERM with SIGKILL"""
    run = runs.c
    if run.stubborn is None or run.supervisor is None:
        raise CheckpointNeverReached("ignoring-sigterm", 0, "svc_stubborn never got there")
    stubborn = run.stubborn.pid
    expected = (f"with -g {GRACE_MS}, stop to exit 0 having sent SIGTERM to group PGID={stubborn}, then, after the "
                f"grace period, SIGKILL to PID={stubborn}")
    if run.stop is None:
        raise CheckFailed(expected, f"stop had not returned after {DEADLINE:g} s; svc_stubborn {state_of(stubborn)}",
                          at=run.stubborn)
    order = re.search(rf"SIGTERM -> group PGID={stubborn}.*SIGKILL -> PID={stubborn}", run.stop.output, re.S)
    if run.stop.status != 0 or run.left or not order:
        raise CheckFailed(expected, output_of(run.stop) + ("; still running: " + ", ".join(run.left)
                                                           if run.left else ""), at=run.stubborn)


@check(points=2, hint="section 3")
def test_09_stop_not_running(runs: Runs) -> None:
    """stop with no PID file, or a stale one, exits 1 and signals nobody"""
    run = runs.d
    if run.missing is None or run.missing.status != 1 or "not running" not in run.missing.output:
        raise CheckFailed("with no PID file: exit 1 and 'not running'", output_of(run.missing))
    expected = (f"with a stale PID file naming a living sleep ({run.innocent}) that holds no lock: exit 1, "
                "'stale', and no signal to the sleep")
    if run.stale is None or run.stale.status != 1 or "stale" not in run.stale.output:
        raise CheckFailed(expected, output_of(run.stale) + (f"; the sleep was signalled: {run.innocent_signalled}"
                                                            if run.innocent_signalled else ""))
    if run.innocent_signalled:
        raise CheckFailed(expected, f"{output_of(run.stale)}; but the sleep was signalled: {run.innocent_signalled}",
                          "The PID in a stale file belongs to nobody you know: never signal it.")
