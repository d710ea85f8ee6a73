"""Lab 07: a supervised service. Handout: labs/07-service/README.md.

The grader plays the service manager: it hosts the sd_notify socket ($NOTIFY_SOCKET) and learns
each datagram's sender from the kernel (SCM_CREDENTIALS). myservice is typed into one interactive
bash three times:

1. `-i 50`, a file system socket. The service is held at 'sent-ready' (right after READY=1); while
   it is held, the grader rewrites the configuration and sends SIGHUP to the main PID, so the
   signal always comes right after READY=1. The reload ends at the next 'sent-ready', where the
   datagrams sent so far are read: RELOADING=1 then READY=1, from the main PID.
2. `-i 50`, an abstract socket ('@name'): READY=1 must arrive there too. Held at 'sent-ready', the
   terminal's foreground group is read; after it, a tick, and the main process in /proc then: it must
   still be bash's foreground job, holding only 0-2. (Nothing signals it before that, so a service
   that a signal kills is judged by the signal checks alone.)
3. `-i 60000`, SIGTERM to the main PID once ready: a service that looks at signals only between ticks
   cannot answer before the deadline, whatever the load; a correct one answers at once.

The main PID is the process bash started for the command (bash's child, the leader of the job's
group), whichever process reached 'sent-ready': a manager knows the PID it started, and believes no
other. Signals go to it, as ExecReload=/bin/kill -HUP $MAINPID and systemctl stop send them.

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
from grader.terminal import Command, Match, Shell, TerminalTimeout

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
    main: Optional[int] = None  # the main PID: the process bash started (see main_process)
    main_stat: Optional[procfs.Stat] = None  # the main process while 'sent-ready' was held
    foreground: Optional[int] = None  # the terminal's foreground group while it was held there
    first: list[Notification] = field(default_factory=list)  # datagrams by then
    result: Optional[Command] = None  # how the command ended by itself, before the grader stopped it
    signal_note: Optional[str] = None  # why the signal of this run could not be sent to the main PID
    tick: Optional[tuple[int, int, str]] = None  # (number, PID, rest) of a tick after the hold
    stat: Optional[procfs.Stat] = None  # the main process at that tick
    fds: dict[int, str] = field(default_factory=dict)  # its descriptors then
    others: list[int] = field(default_factory=list)  # PIDs of tick lines not from the main PID, in this run
    notes: list[str] = field(default_factory=list)

    def require_ready(self) -> Arrival:
        if self.ready is None:
            raise CheckpointNeverReached("sent-ready", 0, "the service never got there")
        return self.ready

    def ending(self) -> str:
        if self.result is None:
            return "it was still running"
        return f"it ended with {describe_exit(self.result.status)}"

    def main_ended(self) -> bool:
        """The process bash started had ended by the time 'sent-ready' was held."""
        return self.main_stat is None or self.main_stat.state in ("Z", "X")


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


def main_process(shell: Shell, arrival: Arrival) -> tuple[Optional[int], Optional[procfs.Stat]]:
    """The service's main PID, and the main process as /proc shows it now (None once it is gone).

    That is the process bash started for the command: bash's child, whose PID is also the ID of the
    job's process group. It is found by walking up the parents of the process held at the
    checkpoint (which may be a helper the service forked). If that walk ends before bash, the main
    process had exited and its orphans were adopted: then the job's group, which the held process
    is still in unless it left it, names the main PID.
    """
    pid, stat = arrival.pid, arrival.stat  # the snapshot, taken while it is held
    seen: set[int] = set()
    while stat is not None and pid not in seen:
        if stat.ppid == shell.pid:
            return pid, stat
        seen.add(pid)
        pid = stat.ppid
        if pid <= 1 or pid == os.getpid():
            break
        stat = procfs.try_stat(pid)
    held = arrival.stat
    if held is not None and held.sid == shell.pid and held.pgid != shell.pid:
        return held.pgid, procfs.try_stat(held.pgid)
    return None, None


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
    run.main, run.main_stat = main_process(shell, run.ready)
    run.foreground = shell.foreground_group()
    run.first = notify.flush()  # sent before 'sent-ready': in the queue now
    return run


def signal_main(run: ServiceRun, signum: int) -> bool:
    """Sends `signum` to the main PID, as a manager does; False, with `run.signal_note` saying why,
    when there was no main process left to send it to."""
    if run.main is not None and alive(run.main):
        try:
            os.kill(run.main, signum)
            return True
        except ProcessLookupError:
            pass  # it exited since it was seen alive
    run.signal_note = (f"{signal.Signals(signum).name} could not be sent: the process bash started"
                       + (f" (PID {run.main})" if run.main else "") + " had already exited")
    return False


def see_a_tick(shell: Shell, run: ServiceRun, after: int) -> Optional[Match]:
    """Waits for a tick line printed after transcript position `after`, and reads the main process
    in /proc at that moment."""
    try:
        match = shell.expect(TICK, DEADLINE, after)
    except TerminalTimeout:
        return None
    run.tick = (int(match.groups[0]), int(match.groups[1]), match.groups[2])
    if run.main is not None:
        run.stat = procfs.try_stat(run.main)
        try:
            run.fds = procfs.open_fds(run.main)
        except procfs.ProcessGone:
            run.fds = {}
    return match


def kill_quietly(pid: int, signum: int, group: bool = False) -> None:
    try:
        (os.killpg if group else os.kill)(pid, signum)
    except (ProcessLookupError, PermissionError):
        pass  # gone already (or a PID that is not a group): nothing left to end


def stop_service(grading: Grading, shell: Shell, run: ServiceRun, gently: bool = True) -> None:
    """Ends a run (not judged): SIGTERM to the main PID, then SIGKILL to the foreground job if that
    did not do it, and to whatever else the run left behind (a process that went to the background)."""
    if run.ready is not None:
        run.ready.release()
    shell.drain()
    run.others = sorted({int(pid) for pid in re.findall(rb"myservice: tick=\d+ PID=(\d+)", shell.transcript[run.start:])
                         if int(pid) != run.main})
    if gently and alive(run.main):
        kill_quietly(run.main, signal.SIGTERM)  # type: ignore[arg-type]
    try:
        if not gently:
            raise TerminalTimeout("SIGTERM was tried already")
        shell.wait_prompt(run.start, run.command, DEADLINE)
    except TerminalTimeout:
        for pid in (run.main, shell.foreground_group()):
            if pid and alive(pid) and pid != shell.pid:
                kill_quietly(pid, signal.SIGKILL, group=True)
                kill_quietly(pid, signal.SIGKILL)
        shell.wait_prompt(run.start, run.command, DEADLINE)
    for left in grading.leftovers(keep=[shell.pid]):
        kill_quietly(left.pid, signal.SIGKILL)


def reload_run(grading: Grading, shell: Shell) -> ReloadRun:
    checkpoints = grading.checkpoints
    notify = NotifySocket(grading.workdir)
    run = ReloadRun("", notify)
    start_service(grading, shell, notify, 50, run)
    if run.ready is None:
        return run
    with open(grading.path("svc.conf"), "w", encoding="utf-8") as handle:
        handle.write("greeting=world\n")
    run.reload_start = len(shell.transcript)
    sent = signal_main(run, signal.SIGHUP)  # while it is held right after READY=1
    run.ready.release()
    if not sent:
        return run

    def gave_up() -> Optional[str]:
        shell.drain()
        if shell.prompt.search(shell.transcript, run.reload_start):
            return "the service ended"
        if TICK.search(shell.transcript, run.reload_start):
            return "it ticked on without READY=1 after the reload"
        return None

    try:  # from whichever process: the sender check judges who sent READY=1
        run.after_reload = checkpoints.wait("sent-ready", timeout=DEADLINE, give_up=gave_up)
    except CheckpointNeverReached as error:
        run.notes.append(str(error))
    run.reload_messages = notify.flush()[len(run.first):]
    if run.after_reload is not None:
        after = len(shell.transcript)
        run.after_reload.release()
        tick = see_a_tick(shell, run, after)
        # Printed before the checkpoint, the reloaded line may reach the terminal's reader only
        # now. The tick comes after it from the same process, so once the tick is read, so is
        # the line; a tick that overtook it came from before the reload: take the next one.
        reloaded = RELOADED.search(shell.transcript, run.reload_start)
        if tick is not None and reloaded is not None and tick.start < reloaded.end():
            see_a_tick(shell, run, reloaded.end())
    # Every wait above ended with something this terminal showed later than the reloaded line
    # would have been (a tick, the prompt), or ran out its deadline while reading it.
    shell.drain()
    found = RELOADED.search(shell.transcript, run.reload_start)
    run.reloaded_line = found.group(0).decode("utf-8", "replace").strip() if found else None
    if shell.prompt.search(shell.transcript, run.start):
        run.result = shell.wait_prompt(run.start, run.command)
    return run


def first_tick_run(grading: Grading, shell: Shell) -> ServiceRun:
    """Run 2: an abstract socket; after 'sent-ready', a tick and the main process in /proc."""
    run = start_service(grading, shell, NotifySocket(None), 50)
    if run.ready is not None:
        after = len(shell.transcript)
        run.ready.release()
        tick = see_a_tick(shell, run, after)
        shell.drain()
        if shell.prompt.search(shell.transcript, run.start):
            run.result = shell.wait_prompt(run.start, run.command)
        if tick is None:
            run.notes.append(f"no tick line within {DEADLINE:g} s after 'sent-ready' ({run.ending()})")
    return run


@dataclass
class Runs:
    shell: Shell
    reload: ReloadRun
    abstract: ServiceRun
    shutdown: ServiceRun
    stopping: Optional[Notification] = None
    shutdown_line: Optional[str] = None


def shutdown_run(grading: Grading, shell: Shell, runs: Runs) -> None:
    """Run 3: a 60 s tick interval, and SIGTERM to the main PID once it is ready."""
    shutdown = runs.shutdown
    if shutdown.ready is None:
        return
    shutdown.ready.release()
    position = len(shell.transcript)
    if signal_main(shutdown, signal.SIGTERM):
        try:
            shutdown.result = shell.wait_prompt(shutdown.start, shutdown.command, DEADLINE)
        except TerminalTimeout:
            shutdown.notes.append(f"no reaction within {DEADLINE:g} s (tick interval 60 s)")
    runs.stopping = shutdown.notify.wait("STOPPING", timeout=0)
    # The prompt came after the service had exited, so its last line is on the terminal by then.
    found = re.search(rb"myservice: SIGTERM received, shutting down PID=(\d+)", shell.transcript[position:])
    runs.shutdown_line = found.group(0).decode() if found else None


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
            stop_service(grading, shell, first)

            abstract = first_tick_run(grading, shell)
            sockets.append(abstract.notify)
            stop_service(grading, shell, abstract)

            shutdown = start_service(grading, shell, NotifySocket(grading.workdir), 60000)
            sockets.append(shutdown.notify)
            result = Runs(shell, first, abstract, shutdown)
            shutdown_run(grading, shell, result)
            stop_service(grading, shell, shutdown, gently=shutdown.result is not None or not shutdown.notes)
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


BACKGROUND = ("Stay the process the manager started: do not fork and let the parent exit. The manager "
              "(here bash) knows only the PID it started, and sends its signals there.")


@check(points=3, hint="section 'Background' ('The manager does the daemon work')")
def test_07_stays_in_foreground(runs: Runs) -> None:
    """The service stays the process bash started, in the foreground, holding only descriptors 0-2"""
    run = runs.abstract
    arrival = run.require_ready()
    bash = runs.shell.pid  # bash is the session leader: its PID is also its group's and session's ID
    expected = (f"the process bash started to stay its foreground job: a child of bash ({bash}), in bash's "
                "session, leading its own group, the terminal's foreground group, ticking with its own PID")
    main = run.main_stat
    if run.main is None or main is None or run.main_ended():
        who = f"the process bash started (PID {run.main})" if run.main else "the process bash started"
        how = f" with {describe_exit(run.result.status)}" if run.result else ""
        raise CheckFailed(expected, f"{who} had already exited{how} when PID {arrival.pid} reached 'sent-ready': "
                          "the service went to the background", BACKGROUND, at=arrival)
    if main.sid != bash or not main.is_group_leader or run.foreground != main.pid:
        advice = ("It left bash's session (setsid): leave sessions and terminals to the manager."
                  if main.sid != bash else "It left the group bash made for it (setpgid)."
                  if not main.is_group_leader else "")
        raise CheckFailed(expected, f"at 'sent-ready' the process bash started had PID={main.pid} PPID={main.ppid} "
                          f"PGID={main.pgid} SID={main.sid}, and the terminal's foreground group was "
                          f"{run.foreground}", advice, at=arrival)
    if run.tick is None:
        raise CheckFailed(expected, run.notes[0] if run.notes else "no tick line after 'sent-ready'", at=arrival)
    gone = run.stat is None or run.stat.state in ("Z", "X")
    if run.tick[1] != run.main:
        raise CheckFailed(expected, f"a tick line from PID {run.tick[1]}, not from the process bash started (PID "
                          f"{run.main})" + (", which had exited: the service went to the background" if gone else ""),
                          BACKGROUND if gone else "The process bash started must do the work itself.", at=arrival)
    if gone or run.stat.pgid != run.main or run.stat.tpgid != run.main:  # type: ignore[union-attr]
        shown = ("the process bash started was gone" if gone else
                 f"kernel: PID={run.stat.pid} PGID={run.stat.pgid} foreground group {run.stat.tpgid}")  # type: ignore[union-attr]
        raise CheckFailed(expected, f"at tick={run.tick[0]}: {shown}", at=arrival)
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
    sender = ready[0].pid
    if run.main is None or sender != run.main:
        main = (f"the main PID {run.main}, the process bash started" if run.main else
                "the main PID, the process bash started (which had exited)")
        who = f"PID {sender}" if sender else "a process that had already exited"
        helper = ""
        if run.main is not None and run.main_ended():
            helper = (f"; the process bash started had exited, and PID {arrival.pid} reached 'sent-ready': the "
                      "service went to the background")
        elif run.main is not None and arrival.pid != run.main:
            helper = (", a process it forked, which also reached 'sent-ready'" if sender == arrival.pid else
                      f"; PID {arrival.pid}, another process, reached 'sent-ready'")
        raise CheckFailed(f"READY=1 whose sender (SCM_CREDENTIALS) is {main}",
                          f"the sender was {who}" + (f", not the main PID {run.main}" if run.main else "")
                          + helper,
                          "A manager believes only the main PID: send from the process it started, not from a "
                          "helper you fork.", at=arrival)


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
    expected = ("SIGHUP, sent to the main PID while it was held right after READY=1, to make it reload "
                "('reloaded config:')")
    if run.signal_note:
        raise CheckFailed(expected, f"{run.signal_note}, while PID {arrival.pid} had reached 'sent-ready': the "
                          "service went to the background", BACKGROUND, at=arrival)
    if run.result is not None:
        if run.result.status - 128 == signal.SIGHUP:
            raise CheckFailed(expected, f"{run.ending()}: killed by the signal it was not ready for",
                              "Block SIGHUP and SIGTERM before READY=1.", at=arrival)
        if run.others:
            raise CheckFailed(expected, f"{run.ending()}, while PID {run.others[0]} went on ticking: the service "
                              "went to the background", BACKGROUND, at=arrival)
        raise CheckFailed(expected, f"{run.ending()}, with no 'reloaded config:' line", at=arrival)
    raise CheckFailed(expected, "no 'reloaded config:' line" + (f" ({run.notes[0]})" if run.notes else ""),
                      at=arrival)


@check(points=3, hint="section 4")
def test_07_reload(runs: Runs) -> None:
    """On SIGHUP the service says RELOADING=1, re-reads its file, logs it, then says READY=1"""
    run = runs.reload
    arrival = run.require_ready()
    expected = ("RELOADING=1 with MONOTONIC_USEC, then 'reloaded config: greeting=world' (the new file), then "
                "READY=1, all from the main PID, and ticks with greeting=world")
    if run.signal_note:
        raise CheckFailed(expected, f"{run.signal_note}: the service went to the background", BACKGROUND, at=arrival)
    reloading = next((m for m in run.reload_messages if m.pid == run.main and m.says("RELOADING")), None)
    if reloading is None or not reloading.fields.get("MONOTONIC_USEC", "").isdigit():
        shown = "; ".join(map(str, run.reload_messages)) or "no datagram"
        raise CheckFailed(expected, f"no RELOADING=1 with MONOTONIC_USEC from the main PID {run.main}; datagrams "
                          f"after SIGHUP: {shown}" + (f"; {run.ending()}" if run.result else ""), at=arrival)
    ready = [m for m in run.reload_messages if m.order > reloading.order and m.says("READY")]
    if not any(m.pid == run.main for m in ready):
        if ready:
            raise CheckFailed(expected, f"READY=1 after RELOADING=1 came from PID {ready[0].pid}, not the main PID "
                              f"{run.main}", "Send every notification from the main process itself.",
                              at=arrival)
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
    expected = (f"with a 60 s tick interval, SIGTERM to the main PID to be answered within {DEADLINE:g} s with "
                f"STOPPING=1, the line 'SIGTERM received, shutting down PID={run.main}' and exit status 0")
    if run.signal_note:
        raise CheckFailed(expected, f"{run.signal_note}: the service went to the background", BACKGROUND, at=arrival)
    if run.notes:
        raise CheckFailed(expected, run.notes[0], "Wait for signals and for the next tick at once "
                          "(sigtimedwait), not one after the other.", at=arrival)
    problems = []
    if runs.stopping is None or runs.stopping.pid != run.main:
        problems.append("no STOPPING=1 from the main PID")
    if runs.shutdown_line is None or not runs.shutdown_line.endswith(f"PID={run.main}"):
        problems.append(f"no 'SIGTERM received, shutting down PID={run.main}' line")
    if run.result is None or run.result.status != 0:
        problems.append(run.ending())
    if problems:
        raise CheckFailed(expected, "; ".join(problems), at=arrival)
