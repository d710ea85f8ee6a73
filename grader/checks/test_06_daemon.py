"""Lab 06: the classic daemon. Handout: labs/06-daemon/README.md.

daemon_classic is launched once, typed into an interactive bash on a fresh pty that gives it
everything a daemon must shed: umask 077, SIGUSR2 ignored (`trap '' USR2`), SIGUSR1 blocked in the
shell's mask, and descriptor 7 open on a file. The daemon is held at 'daemon-ready' until the grader
has seen what the launcher does meanwhile: a correct launcher can only be asleep reading the
readiness pipe then; a launcher that does not wait has returned. Once the launcher is back, the
daemon is read in /proc while it ticks, and each check judges one aspect of that one launch. The
last check hangs the terminal up and sends SIGTERM.
"""
from __future__ import annotations

import os
import re
import signal
from dataclasses import dataclass, field
from typing import Optional

import pytest

from grader import procfs
from grader.check import CheckFailed, Grading, check, deadline
from grader.checkpoints import Arrival, CheckpointNeverReached
from grader.daemons import GLIBC_RESERVED, alive, command_and_its_processes_gone, read_text, reap, signals_in, wait_for
from grader.signals import describe_status
from grader.terminal import Command, Shell, TerminalTimeout

LAB = "06-daemon"
PROGRAMS = ["daemon_classic.c"]

INTERVAL_MS = 50  # the tick interval the grader passes with -i
RETURN_DEADLINE = 5.0  # seconds the launcher may take to return once its daemon is ready
TICK = re.compile(r"^tick=(\d+) PID=(-?\d+)$", re.M)


@dataclass
class Launch:
    grading: Grading
    shell: Shell
    command: str
    ready: Optional[Arrival] = None  # the daemon at 'daemon-ready'
    launcher: Optional[int] = None  # the launcher's PID (the job's group leader)
    launcher_verdict: str = ""  # what the launcher was doing while the daemon was held
    launcher_waited: bool = False
    result: Optional[Command] = None  # None: the command did not return
    daemon: Optional[int] = None
    stat: Optional[procfs.Stat] = None  # the daemon, read once it ticked
    status: Optional[procfs.Status] = None
    fds: dict[int, str] = field(default_factory=dict)
    cwd: str = ""
    pid_file: Optional[str] = None  # its content then
    last_seen: Optional[procfs.Stat] = None  # the daemon as last seen alive, should it die

    @property
    def pid_path(self) -> str:
        return self.grading.path("d.pid")

    @property
    def log_path(self) -> str:
        return self.grading.path("d.log")

    def ticks(self) -> list[tuple[int, int]]:
        return [(int(k), int(p)) for k, p in TICK.findall(read_text(self.log_path) or "")]

    def require_daemon(self) -> procfs.Stat:
        """The daemon as /proc showed it once it ticked."""
        if self.ready is None:
            raise CheckpointNeverReached("daemon-ready", 0, "the daemon never got there")
        if self.stat is None:
            seen = self.last_seen
            last = (f"; last seen with parent PID {seen.ppid}, PGID={seen.pgid} SID={seen.sid}, terminal "
                    f"{seen.terminal}" if seen else "")
            raise CheckFailed(f"the daemon {self.daemon} to keep running after it said it was ready",
                              "it was gone" + last + self.output_note(), at=self.ready)
        return self.stat

    def output_note(self) -> str:
        if self.result is None:
            return ""
        shown = " / ".join(self.result.lines[-3:]) or "nothing"
        return f" (the command printed: {shown}; exit status {self.result.status})"

    def failed(self, expected: str, observed: str, advice: str = "") -> CheckFailed:
        stat = self.stat
        where = (f"; kernel: PID={stat.pid} PPID={stat.ppid} PGID={stat.pgid} SID={stat.sid} "
                 f"terminal {stat.terminal}") if stat else ""
        return CheckFailed(expected, observed + where, advice, at=self.ready)


def launcher_state(launch: Launch, shell_group: int, foreground: Optional[int]) -> Optional[str]:
    """What the launcher does while its daemon is held: '' (blocked on the pipe), a reason it
    failed, or None (cannot tell yet)."""
    checkpoints = launch.grading.checkpoints
    if checkpoints.arrivals("launcher-exit"):
        return "the launcher returned (it reached 'launcher-exit')"
    if foreground is None or foreground == shell_group:
        return "the launcher had already returned: the shell took the terminal back"
    launcher = procfs.try_stat(foreground)
    if launcher is None or launcher.state in ("Z", "X"):
        return "the launcher had already exited"
    launch.launcher = launcher.pid
    channel = procfs.wchan(launcher.pid)
    if launcher.state == "S" and ("pipe_read" in channel or "poll" in channel or "select" in channel):
        return ""
    return None


def run_launch(grading: Grading) -> Launch:
    checkpoints = grading.checkpoints
    checkpoints.hold("daemon-ready")
    shell = grading.shell(blocked_signals=[signal.SIGUSR1])
    shell.run("umask 077; trap '' USR2")
    command = (f"daemon_classic -i {INTERVAL_MS} {grading.path('d.pid')} {grading.path('d.log')} "
               f"7>{grading.path('inherited.txt')}")
    launch = Launch(grading, shell, command)
    start = shell.type_line(command)
    try:
        # The launcher may return early (a mistake judged below): wait on while its daemon lives.
        launch.ready = checkpoints.wait("daemon-ready",
                                        give_up=command_and_its_processes_gone(grading, shell, start))
    except CheckpointNeverReached:
        pass
    if launch.ready is not None:
        launch.daemon = launch.ready.pid
        shell_group = procfs.stat(shell.pid).pgid
        seen: list[Optional[str]] = [None]

        def decided() -> bool:
            seen[0] = launcher_state(launch, shell_group, shell.foreground_group())
            return seen[0] is not None

        try:
            shell.wait_until(decided, RETURN_DEADLINE, "the launcher blocking on the readiness pipe")
        except TerminalTimeout:
            launcher = launch.launcher
            state = procfs.try_stat(launcher) if launcher else None
            seen[0] = (f"the launcher (PID {launcher}) was in state {state.state}, waiting in "
                       f"'{procfs.wchan(launcher) or 'nothing'}', not in a read of the pipe"
                       if state else "the launcher could not be found")
        launch.launcher_waited = seen[0] == ""
        launch.launcher_verdict = seen[0] or ""
        launch.ready.release()
    try:
        launch.result = shell.wait_prompt(start, command, RETURN_DEADLINE)
    except TerminalTimeout:
        launch.result = None
    if launch.daemon is not None:
        daemon = launch.daemon
        def ticked() -> bool:
            seen = procfs.try_stat(daemon)
            if seen is not None and seen.state != "Z":
                launch.last_seen = seen
            return len(launch.ticks()) >= 2 or seen is None or seen.state == "Z"

        wait_for(ticked, RETURN_DEADLINE)
        try:
            launch.stat = procfs.stat(daemon)
            launch.status = procfs.status(daemon)
            launch.fds = procfs.open_fds(daemon)
            launch.cwd = procfs.cwd(daemon)
        except procfs.ProcessGone:
            launch.stat = None
        if launch.stat is not None and launch.stat.state == "Z":
            launch.stat = None
        launch.pid_file = read_text(launch.pid_path)
    return launch


@pytest.fixture(scope="module")
def launch(lab_grading: Grading) -> Launch:
    """One launch of daemon_classic, which every check below judges (the last one ends it)."""
    with deadline(25):
        return run_launch(lab_grading)


@check(points=1, hint="section 'Tasks'")
def test_compiles(lab) -> None:
    """daemon_classic.c compiles"""
    if not lab.ok:
        raise CheckFailed("daemon_classic.c to compile", lab.report())


@check(points=2, hint="section 5")
def test_06_launch_status(launch: Launch) -> None:
    """The command returns with status 0 and prints the PID of a daemon that is running"""
    daemon = launch.require_daemon()
    if launch.result is None:
        raise launch.failed("the command to return once its daemon is ready",
                            f"it had not returned {RETURN_DEADLINE:g} s after the daemon said READY")
    if launch.result.status != 0:
        raise launch.failed("exit status 0", f"exit status {launch.result.status}{launch.output_note()}")
    printed = re.findall(r"PID=(\d+)", launch.result.output)
    if not printed:
        raise launch.failed(f"the launcher to print PID={daemon.pid}", "no PID= in its output"
                            + launch.output_note())
    if int(printed[-1]) != daemon.pid:
        raise launch.failed(f"the launcher to print the daemon's PID={daemon.pid}",
                            f"it printed PID={printed[-1]}, which is not the daemon",
                            "Which process knows the daemon's PID? Send it up the pipe.")


@check(points=3, hint="section 5")
def test_06_launcher_waits_for_ready(launch: Launch) -> None:
    """The launcher returns only once the daemon is ready: it blocks reading the readiness pipe"""
    if launch.ready is None:
        raise CheckpointNeverReached("daemon-ready", 0, "the daemon never got there")
    if not launch.launcher_waited:
        raise CheckFailed("the launcher blocked reading the readiness pipe while the daemon was held at "
                          "'daemon-ready'",
                          f"{launch.launcher_verdict}: it returned before the daemon was ready"
                          if "returned" in launch.launcher_verdict or "exited" in launch.launcher_verdict
                          else launch.launcher_verdict,
                          "The launcher must read(2) the pipe until the daemon writes its line.",
                          at=launch.ready)


@check(points=1, hint="section 2")
def test_06_parent_is_reaper(launch: Launch) -> None:
    """The daemon's parent is PID 1 or a subreaper, not the process that started it"""
    daemon = launch.require_daemon()
    grader = os.getpid()
    if daemon.ppid not in (1, grader):
        parent = procfs.try_stat(daemon.ppid)
        who = f" ({parent.comm})" if parent else ""
        raise launch.failed(f"parent PID 1 or the subreaper that adopted it ({grader})",
                            f"its parent is PID {daemon.ppid}{who}, still waiting for it",
                            "The first child must exit right after the second fork.")


@check(points=3, hint="section 2")
def test_06_not_session_leader(launch: Launch) -> None:
    """The daemon leads neither a session nor a process group (it forked after setsid)"""
    daemon = launch.require_daemon()
    if daemon.is_session_leader or daemon.is_group_leader:
        what = "a session leader" if daemon.is_session_leader else "a process group leader"
        raise launch.failed("not a session leader (SID != PID) and not a group leader (PGID != PID)",
                            f"the daemon is {what}",
                            "A session leader can acquire a controlling terminal by opening one. "
                            "Fork once more after setsid() (glibc's daemon(3) does not).")


@check(points=2, hint="section 2")
def test_06_no_controlling_terminal(launch: Launch) -> None:
    """The daemon has no controlling terminal"""
    daemon = launch.require_daemon()
    if daemon.has_terminal or daemon.tpgid != -1:
        raise launch.failed("no controlling terminal (tty_nr 0, tpgid -1)",
                            f"controlling terminal {daemon.terminal}, tpgid {daemon.tpgid}")


@check(points=1, hint="section 3")
def test_06_cwd_root(launch: Launch) -> None:
    """The daemon's working directory is /"""
    launch.require_daemon()
    if launch.cwd != "/":
        raise launch.failed("cwd / (/proc/PID/cwd)", f"cwd {launch.cwd}")


@check(points=1, hint="section 3")
def test_06_umask_zero(launch: Launch) -> None:
    """The daemon's umask is 0 (the shell's was 077)"""
    launch.require_daemon()
    umask = launch.status.umask if launch.status else None
    if umask != 0:
        raise launch.failed("Umask 0000 in /proc/PID/status",
                            f"Umask {umask:04o}" if umask is not None else "no Umask line")


@check(points=2, hint="section 3")
def test_06_stdio_dev_null(launch: Launch) -> None:
    """The daemon's descriptors 0, 1 and 2 are /dev/null"""
    launch.require_daemon()
    wrong = [f"{fd} -> {launch.fds.get(fd, 'closed')}" for fd in range(3) if launch.fds.get(fd) != "/dev/null"]
    if wrong:
        raise launch.failed("descriptors 0, 1 and 2 on /dev/null", ", ".join(wrong))


@check(points=2, hint="section 3")
def test_06_no_inherited_fds(launch: Launch) -> None:
    """The daemon keeps no inherited descriptor open: only stdio, its log and its PID file"""
    launch.require_daemon()
    allowed = {launch.log_path, launch.pid_path}
    extra = {fd: target for fd, target in launch.fds.items() if fd > 2 and target not in allowed}
    if extra:
        notes = []
        for fd, target in sorted(extra.items()):
            why = " (the descriptor the shell opened with 7>)" if target.endswith("/inherited.txt") else ""
            if target.startswith("pipe:"):
                why = " (the readiness pipe, still open after READY?)"
            notes.append(f"{fd} -> {target}{why}")
        raise launch.failed("nothing open but descriptors 0-2, the log and the PID file",
                            "open descriptor " + ", ".join(notes))


@check(points=1, hint="section 4")
def test_06_sighup_ignored(launch: Launch) -> None:
    """The daemon ignores SIGHUP"""
    launch.require_daemon()
    if launch.status is None or not launch.status.ignores(signal.SIGHUP):
        ignored = launch.status.sig_ignored if launch.status else 0
        raise launch.failed("SIGHUP ignored (bit 1 of SigIgn in /proc/PID/status)",
                            f"SigIgn {ignored:016x}: SIGHUP is not ignored")


@check(points=2, hint="section 4")
def test_06_signals_reset(launch: Launch) -> None:
    """The daemon's signal mask is empty and no signal but SIGHUP is ignored"""
    launch.require_daemon()
    status = launch.status
    assert status is not None
    blocked = status.sig_blocked & ~GLIBC_RESERVED
    if blocked:
        raise launch.failed("an empty signal mask (SigBlk 0)",
                            f"SigBlk {status.sig_blocked:016x}: {', '.join(signals_in(blocked))} "
                            "still blocked (the shell's mask, inherited)")
    others = status.sig_ignored & ~(1 << (signal.SIGHUP - 1)) & ~GLIBC_RESERVED
    if others:
        raise launch.failed("only SIGHUP ignored",
                            f"SigIgn {status.sig_ignored:016x}: {', '.join(signals_in(others))} still ignored "
                            "(inherited from the shell)")


@check(points=2, hint="section 5")
def test_06_pid_file(launch: Launch) -> None:
    """The PID file holds the daemon's PID"""
    daemon = launch.require_daemon()
    if launch.pid_file is None or launch.pid_file.strip() != str(daemon.pid):
        observed = "no PID file" if launch.pid_file is None else f"the PID file holds {launch.pid_file.strip()!r}"
        raise launch.failed(f"the PID file to hold {daemon.pid}, the daemon's PID", observed,
                            "Write it after the last fork.")


@check(points=1, hint="section 5")
def test_06_ticks_real_pid(launch: Launch) -> None:
    """The daemon logs ticks, each with its real PID"""
    daemon = launch.require_daemon()
    ticks = launch.ticks()
    wrong = [pid for _, pid in ticks if pid != daemon.pid]
    if len(ticks) < 2 or wrong:
        observed = (f"a tick line with PID={wrong[0]}" if wrong else
                    f"{len(ticks)} tick line(s) in the log within {RETURN_DEADLINE:g} s")
        raise launch.failed(f"tick lines 'tick=N PID={daemon.pid}' in the log", observed)


@check(points=2, hint="section 4")
def test_06_hangup_then_sigterm(launch: Launch) -> None:
    """The daemon survives the terminal's hangup; SIGTERM makes it exit 0 and remove its PID file"""
    daemon = launch.require_daemon()
    if not alive(daemon.pid):
        raise launch.failed("the daemon still running", "it was gone before the terminal was closed")
    shell = launch.shell
    shell.hang_up()
    wait_for(lambda: not alive(shell.pid), RETURN_DEADLINE)
    before = len(launch.ticks())
    wait_for(lambda: len(launch.ticks()) >= before + 2 or not alive(daemon.pid), RETURN_DEADLINE)
    if not alive(daemon.pid):
        raise launch.failed("the daemon to keep running after the terminal was closed", "it died")
    if len(launch.ticks()) < before + 2:
        raise launch.failed("the daemon to keep ticking after the terminal was closed",
                            f"no new tick within {RETURN_DEADLINE:g} s")
    try:
        os.kill(daemon.pid, signal.SIGTERM)
    except ProcessLookupError:  # it died (and was reaped) since it was last seen ticking
        raise launch.failed("the daemon to exit on SIGTERM", "the daemon had already exited when SIGTERM "
                            "was to be sent, after the terminal was closed") from None
    status: list[Optional[int]] = [None]

    def ended() -> bool:
        status[0] = reap(daemon.pid)
        return status[0] is not None or not os.path.exists(f"/proc/{daemon.pid}")

    if not wait_for(ended, RETURN_DEADLINE):
        raise launch.failed("the daemon to exit on SIGTERM", f"still running {RETURN_DEADLINE:g} s later")
    left = os.path.exists(launch.pid_path)
    if (status[0] is not None and status[0] != 0) or left:
        how = describe_status(status[0]) if status[0] is not None else "exited"
        raise launch.failed("exit status 0 and the PID file removed on SIGTERM",
                            f"{how}, PID file {'still there' if left else 'removed'}")


@check(points=2, hint="section 5")
def test_06_setup_failure_reported(lab_grading: Grading, launch: Launch) -> None:
    """A setup error in the daemon makes the command exit non-zero with the daemon's message"""
    # In the launch's context (a check with its own would kill the daemon when it ends), after it.
    grading = lab_grading
    shell = grading.shell()
    command = f"daemon_classic -i {INTERVAL_MS} {grading.path('nodir/d.pid')} {grading.path('d2.log')}"
    result = shell.run(command, timeout=RETURN_DEADLINE)
    shown = " / ".join(result.lines[-3:]) or "nothing"
    if result.status == 0 or "PID file" not in result.output or "No such file or directory" not in result.output:
        raise CheckFailed("with a PID file in a folder that does not exist: a non-zero exit status and the "
                          "daemon's error (open PID file: No such file or directory)",
                          f"exit status {result.status}, output: {shown}",
                          "The daemon sends 'ERROR what: why' up the pipe; the launcher prints it.")
