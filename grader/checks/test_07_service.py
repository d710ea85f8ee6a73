"""Lab 07: a supervised service. Handout: labs/07-service/README.md.

The grader plays the service manager: it hosts the sd_notify socket ($NOTIFY_SOCKET) and learns
each datagram's sender from the kernel (SCM_CREDENTIALS). myservice is typed into one interactive
bash three times:

1. `-i 50`, a file system socket. The service is held at 'sent-ready' (right after READY=1); while
   it is held, the grader reads the terminal's foreground group, rewrites the configuration and
   sends SIGHUP, so the signal always comes right after READY=1. The reload ends at the next
   'sent-ready', where the datagrams sent so far are read: RELOADING=1 then READY=1. A tick after
   that is read in /proc: the service must still be bash's foreground job, holding only 0-2.
2. `-i 50`, an abstract socket ('@name'): READY=1 must arrive there too.
3. `-i 60000`, SIGTERM once ready: a service that looks at signals only between ticks cannot
   answer before the deadline, whatever the load; a correct one answers at once.

The unit file is read without running anything, and given to `systemd-analyze verify` where it is
installed.
"""
from __future__ import annotations

import os
import re
import signal
import tempfile
from dataclasses import dataclass, field
from typing import Iterator, Optional

import pytest

from grader import procfs
from grader.check import CheckFailed, Grading, check, deadline
from grader.checkpoints import Arrival, CheckpointNeverReached
from grader.daemons import alive, command_and_its_processes_gone
from grader.servicemanager import Notification, NotifySocket, systemd_verify, unit_problems
from grader.terminal import Command, Shell, TerminalTimeout

LAB = "07-service"
PROGRAMS = ["myservice.c", "myservice.service"]

DEADLINE = 5.0  # seconds for anything a correct service does at once
TICK = re.compile(rb"myservice: tick=(\d+) PID=(\d+)([^\r\n]*)\r?\n")
RELOADED = re.compile(rb"myservice: reloaded config: ([^\r\n]*)\r?\n")


@dataclass
class ServiceRun:
    """One start of myservice, as the grader-manager saw it."""

    command: str
    notify: NotifySocket
    start: int = 0  # transcript position where the command was typed
    ready: Optional[Arrival] = None  # the first 'sent-ready'
    pid: Optional[int] = None  # the service's main PID: the process that reached 'sent-ready'
    foreground: Optional[int] = None  # the terminal's foreground group while it was held there
    first: list[Notification] = field(default_factory=list)  # datagrams by then
    result: Optional[Command] = None  # how the command ended
    notes: list[str] = field(default_factory=list)

    def require_ready(self) -> Arrival:
        if self.ready is None:
            raise CheckpointNeverReached("sent-ready", 0, "the service never got there")
        return self.ready

    def ending(self) -> str:
        if self.result is None:
            return "it was still running"
        return f"it ended with {describe_exit(self.result.status)}"


def describe_exit(status: int) -> str:
    if status > 128:
        try:
            return f"exit status {status} (killed by {signal.Signals(status - 128).name})"
        except ValueError:
            pass
    return f"exit status {status}"


@dataclass
class ReloadRun(ServiceRun):
    reload_start: int = 0  # transcript position when SIGHUP was sent
    after_reload: Optional[Arrival] = None  # the second 'sent-ready'
    reload_messages: list[Notification] = field(default_factory=list)  # datagrams after the first READY=1
    reloaded_line: Optional[str] = None
    tick: Optional[tuple[int, int, str]] = None  # (number, PID, rest) of a tick after the reload
    stat: Optional[procfs.Stat] = None  # the service at that tick
    fds: dict[int, str] = field(default_factory=dict)
    tty_nr: int = 0  # the terminal's device, as stat shows it


def start_service(grading: Grading, shell: Shell, notify: NotifySocket, interval_ms: int,
                  run: Optional[ServiceRun] = None) -> ServiceRun:
    command = (f"NOTIFY_SOCKET={notify.address} myservice -i {interval_ms} -c {grading.path('svc.conf')}")
    run = run or ServiceRun(command, notify)
    run.command = command
    run.start = shell.type_line(command)
    try:
        run.ready = grading.checkpoints.wait(
            "sent-ready", timeout=DEADLINE, give_up=command_and_its_processes_gone(grading, shell, run.start))
    except CheckpointNeverReached:
        return run
    run.pid = run.ready.pid
    run.foreground = shell.foreground_group()
    run.first = notify.flush()  # sent before 'sent-ready': in the queue now
    return run


def stop_service(shell: Shell, run: ServiceRun, gently: bool = True) -> None:
    """Ends a run (not judged): SIGTERM, then SIGKILL to the foreground job if that did not do it."""
    if run.ready is not None:
        run.ready.release()
    if gently and alive(run.pid):
        os.kill(run.pid, signal.SIGTERM)  # type: ignore[arg-type]
    try:
        if not gently:
            raise TerminalTimeout("SIGTERM was tried already")
        run.result = run.result or shell.wait_prompt(run.start, run.command, DEADLINE)
    except TerminalTimeout:
        for pid in (run.pid, shell.foreground_group()):
            if pid and alive(pid) and pid != shell.pid:
                try:
                    os.killpg(pid, signal.SIGKILL)
                except OSError:
                    os.kill(pid, signal.SIGKILL)
        run.result = shell.wait_prompt(run.start, run.command, DEADLINE)


def reload_run(grading: Grading, shell: Shell) -> ReloadRun:
    checkpoints = grading.checkpoints
    notify = NotifySocket(grading.workdir)
    run = ReloadRun("", notify)
    start_service(grading, shell, notify, 50, run)
    if run.ready is None:
        return run
    run.tty_nr = procfs.stat(shell.pid).tty_nr
    with open(grading.path("svc.conf"), "w", encoding="utf-8") as handle:
        handle.write("greeting=world\n")
    run.reload_start = len(shell.transcript)
    os.kill(run.ready.pid, signal.SIGHUP)  # while it is held right after READY=1
    run.ready.release()

    def gave_up() -> Optional[str]:
        shell.drain()
        if shell.prompt.search(shell.transcript, run.reload_start):
            return "the service ended"
        if TICK.search(shell.transcript, run.reload_start):
            return "it ticked on without READY=1 after the reload"
        return None

    try:
        run.after_reload = checkpoints.wait("sent-ready", timeout=DEADLINE, pid=run.pid, give_up=gave_up)
    except CheckpointNeverReached as error:
        run.notes.append(str(error))
    run.reload_messages = notify.flush()[len(run.first):]
    shell.drain()
    found = RELOADED.search(shell.transcript, run.reload_start)
    run.reloaded_line = found.group(0).decode("utf-8", "replace").strip() if found else None
    if run.after_reload is not None:
        after = len(shell.transcript)
        run.after_reload.release()
        try:
            match = shell.expect(TICK, DEADLINE, after)
            run.tick = (int(match.groups[0]), int(match.groups[1]), match.groups[2])
            run.stat = procfs.try_stat(run.pid)  # type: ignore[arg-type]
            run.fds = procfs.open_fds(run.pid)  # type: ignore[arg-type]
        except (TerminalTimeout, procfs.ProcessGone):
            pass
    shell.drain()
    if shell.prompt.search(shell.transcript, run.start):
        run.result = shell.wait_prompt(run.start, run.command)
    return run


@dataclass
class Runs:
    shell: Shell
    reload: ReloadRun
    abstract: ServiceRun
    shutdown: ServiceRun
    stopping: Optional[Notification] = None
    shutdown_line: Optional[str] = None


@pytest.fixture(scope="module")
def runs(lab_grading: Grading) -> Iterator[Runs]:
    """The three starts of myservice that the checks below judge."""
    grading = lab_grading
    sockets: list[NotifySocket] = []
    try:
        with deadline(40):
            with open(grading.path("svc.conf"), "w", encoding="utf-8") as handle:
                handle.write("greeting=hello\n")
            grading.checkpoints.hold("sent-ready")
            shell = grading.shell()
            first = reload_run(grading, shell)
            sockets.append(first.notify)
            stop_service(shell, first)

            abstract = start_service(grading, shell, NotifySocket(None), 50)
            sockets.append(abstract.notify)
            stop_service(shell, abstract)

            shutdown = start_service(grading, shell, NotifySocket(grading.workdir), 60000)
            sockets.append(shutdown.notify)
            result = Runs(shell, first, abstract, shutdown)
            if shutdown.ready is not None:
                shutdown.ready.release()
                position = len(shell.transcript)
                os.kill(shutdown.ready.pid, signal.SIGTERM)
                try:
                    shutdown.result = shell.wait_prompt(shutdown.start, shutdown.command, DEADLINE)
                except TerminalTimeout:
                    shutdown.notes.append(f"no reaction within {DEADLINE:g} s (tick interval 60 s)")
                result.stopping = shutdown.notify.wait("STOPPING", timeout=0)
                found = re.search(rb"myservice: SIGTERM received, shutting down PID=(\d+)", shell.transcript[position:])
                result.shutdown_line = found.group(0).decode() if found else None
            stop_service(shell, shutdown, gently=shutdown.result is not None or not shutdown.notes)
        yield result
    finally:
        for notify in sockets:
            notify.close()


@check(points=1, hint="section 1")
def test_compiles(lab) -> None:
    """myservice.c compiles and myservice.service is there"""
    if not lab.ok:
        raise CheckFailed("myservice.c to compile and myservice.service to be there", lab.report())


@check(points=3, hint="section 6")
def test_07_unit_file(lab) -> None:
    """The unit file runs myservice as a Type=notify service, reloads it with SIGHUP, restarts it on failure"""
    with open(lab.file("myservice.service"), encoding="utf-8", errors="replace") as handle:
        text = handle.read()
    problems = unit_problems(text, "myservice")
    program = lab.programs.get("myservice")
    binary = program.binary if program is not None and program.built else "/bin/true"
    with tempfile.TemporaryDirectory() as scratch:
        verdict = systemd_verify(text, binary, scratch, "myservice.service")
    if verdict:
        problems.append(f"systemd-analyze verify to be silent; it said: {verdict}")
    if problems:
        raise CheckFailed("in myservice.service: " + "; ".join(p.split(" (observed")[0] for p in problems),
                          "; ".join(problems))


@check(points=3, hint="section 3")
def test_07_stays_in_foreground(runs: Runs) -> None:
    """The service stays the process bash started, in the foreground, holding only descriptors 0-2"""
    run = runs.reload
    arrival = run.require_ready()
    shell = procfs.stat(runs.shell.pid)
    held = arrival.stat
    expected = (f"the process bash started to stay its foreground job: a child of bash ({shell.pid}), in "
                "bash's session, leading its own group, the terminal's foreground group, ticking")
    if held is None or held.ppid != shell.pid or held.sid != shell.sid or not held.is_group_leader \
            or run.foreground != held.pid:
        observed = (f"at 'sent-ready' PID={arrival.pid} PPID={held.ppid} PGID={held.pgid} SID={held.sid}, "
                    f"foreground group {run.foreground}" if held else "the service was gone at 'sent-ready'")
        raise CheckFailed(expected, observed + ": it is not the foreground job bash started", at=arrival)
    if run.tick is None or run.stat is None:
        raise CheckFailed(expected, f"no tick line from it after the reload ({run.ending()})", at=arrival)
    if run.tick[1] != run.pid or run.stat.pgid != run.pid or run.stat.tpgid != run.pid:
        raise CheckFailed(expected, f"tick PID={run.tick[1]}; kernel: PID={run.stat.pid} PGID={run.stat.pgid} "
                          f"foreground group {run.stat.tpgid}", at=arrival)
    extra = {fd: target for fd, target in run.fds.items()
             if fd > 2 or not target.startswith(("/dev/pts/", "/dev/tty"))}
    if set(run.fds) != {0, 1, 2} or extra:
        shown = ", ".join(f"{fd} -> {target}" for fd, target in sorted(extra.items())) or "descriptors missing"
        raise CheckFailed("only descriptors 0-2 open, all on the terminal, between notifications",
                          f"open descriptor {shown}", "Close the notification socket after each message.",
                          at=arrival)


@check(points=2, hint="section 3")
def test_07_ready_notification(runs: Runs) -> None:
    """The service sends READY=1 to $NOTIFY_SOCKET once it has started"""
    run = runs.reload
    arrival = run.require_ready()
    if not run.first or not run.first[0].says("READY"):
        observed = f"first datagram: {run.first[0]}" if run.first else "no datagram on the socket"
        raise CheckFailed("READY=1 on the socket $NOTIFY_SOCKET names, before 'sent-ready'", observed, at=arrival)


@check(points=2, hint="section 3")
def test_07_notify_sender_is_main_pid(runs: Runs) -> None:
    """The kernel says READY=1 came from the service's main PID"""
    run = runs.reload
    arrival = run.require_ready()
    ready = [m for m in run.first if m.says("READY")]
    if not ready:
        raise CheckFailed("READY=1 on $NOTIFY_SOCKET", "no READY=1 arrived", at=arrival)
    if ready[0].pid != run.pid:
        raise CheckFailed(f"READY=1 whose sender (SCM_CREDENTIALS) is the main PID {run.pid}",
                          f"the sender was PID {ready[0].pid}, not the service's main process",
                          "A manager believes only the main PID: send from the service itself.", at=arrival)


@check(points=2, hint="section 3")
def test_07_abstract_notify_socket(runs: Runs) -> None:
    """READY=1 also arrives when $NOTIFY_SOCKET names an abstract socket ('@...')"""
    run = runs.abstract
    arrival = run.require_ready()
    if not any(m.says("READY") for m in run.first):
        raise CheckFailed(f"READY=1 on the abstract socket {run.notify.address}",
                          "nothing arrived there before 'sent-ready'",
                          "'@' means an abstract name: sun_path[0] is '\\0', and the length counts no NUL.",
                          at=arrival)


@check(points=2, hint="section 2")
def test_07_ready_after_signal_setup(runs: Runs) -> None:
    """A SIGHUP right after READY=1 is handled: the service is ready for signals before it says so"""
    run = runs.reload
    arrival = run.require_ready()
    if run.reloaded_line is not None:
        return
    if run.result is not None or not alive(run.pid):
        ending = run.ending() if run.result is not None else "it was gone"
        raise CheckFailed("SIGHUP, sent while it was held right after READY=1, to make it reload",
                          f"{ending}: killed by the signal it was not ready for",
                          "Block SIGHUP and SIGTERM before READY=1.", at=arrival)
    raise CheckFailed("SIGHUP, sent right after READY=1, to make it reload ('reloaded config:')",
                      "no 'reloaded config:' line", at=arrival)


@check(points=3, hint="section 4")
def test_07_reload(runs: Runs) -> None:
    """On SIGHUP the service says RELOADING=1, re-reads its file, logs it, then says READY=1"""
    run = runs.reload
    arrival = run.require_ready()
    expected = ("RELOADING=1 with MONOTONIC_USEC, then 'reloaded config: greeting=world' (the new file), then "
                "READY=1, all from the main PID, and ticks with greeting=world")
    messages = [m for m in run.reload_messages if m.pid == run.pid]
    reloading = next((i for i, m in enumerate(messages) if m.says("RELOADING")), None)
    if reloading is None or not messages[reloading].fields.get("MONOTONIC_USEC", "").isdigit():
        shown = "; ".join(map(str, run.reload_messages)) or "no datagram"
        raise CheckFailed(expected, f"no RELOADING=1 with MONOTONIC_USEC; datagrams after SIGHUP: {shown}",
                          at=arrival)
    if not any(m.says("READY") for m in messages[reloading + 1:]):
        raise CheckFailed(expected, "no READY=1 after RELOADING=1" + (f" ({run.notes[0]})" if run.notes else ""),
                          at=arrival)
    if run.reloaded_line is None or "greeting=world" not in run.reloaded_line:
        raise CheckFailed(expected, f"{run.reloaded_line or 'no reloaded config: line'} (was the file read "
                          "again?)", at=arrival)
    if run.tick is None or "greeting=world" not in run.tick[2]:
        shown = f"tick={run.tick[0]} ...{run.tick[2]}" if run.tick else "no tick after the reload"
        raise CheckFailed(expected, shown, at=arrival)


@check(points=3, hint="section 5")
def test_07_sigterm_shutdown(runs: Runs) -> None:
    """SIGTERM makes the service say STOPPING=1, log its shutdown and exit 0 at once, even mid-tick"""
    run = runs.shutdown
    arrival = run.require_ready()
    expected = (f"with a 60 s tick interval, SIGTERM to answer within {DEADLINE:g} s with STOPPING=1, the line "
                f"'SIGTERM received, shutting down PID={run.pid}' and exit status 0")
    if run.notes:
        raise CheckFailed(expected, run.notes[0], "Wait for signals and for the next tick at once "
                          "(sigtimedwait), not one after the other.", at=arrival)
    problems = []
    if runs.stopping is None or runs.stopping.pid != run.pid:
        problems.append("no STOPPING=1 from the main PID")
    if runs.shutdown_line is None or not runs.shutdown_line.endswith(f"PID={run.pid}"):
        problems.append(f"no 'SIGTERM received, shutting down PID={run.pid}' line")
    if run.result is None or run.result.status != 0:
        problems.append(run.ending())
    if problems:
        raise CheckFailed(expected, "; ".join(problems), at=arrival)
