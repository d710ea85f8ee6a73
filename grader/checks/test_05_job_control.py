"""Lab 05: a job-control shell. Handout: labs/05-job-control/README.md.

jsh runs directly on a fresh pty, as its session leader, the way a terminal emulator starts a shell;
for the shell's own start (section 3) it is also typed into an interactive bash, as `jsh &` and as
`sh -c 'jsh; ...'`, where it must stop until `fg`, or leave sh's group and take the terminal. The
grader types at it like a person, Ctrl-C and Ctrl-Z included, and judges the kernel's view: the
groups of a job, the terminal's foreground group (read on the grader's side of the pty), process
states, signal dispositions. Each theme is one run on a fresh shell, recorded once and judged by
several checks; Ctrl-C and Ctrl-Z are typed only after every process of the job runs its program
and the terminal has been handed over (or the shell waits for the job without having done so).

With PROCGROUP_JOB_SHELL=bash the same runs use bash with job control instead of jsh (the project's
own tests do that): the checks about kernel state must pass for it, and the checks that read jsh's
own output lines or need its checkpoints are skipped, which leaves them out of the score.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Callable, Optional

import pytest

from grader import containment, procfs
from grader.build import LabBuild
from grader.check import CheckFailed, CheckTimedOut, Grading, check, deadline
from grader.checkpoints import CheckpointNeverReached
from grader.jobcontrol import (PATIENCE, GaveUp, Job, JobShell, ShellStartedByBash, blocked_in_wait_without_stops,
                               cmdline, describe, ended, job_shell_is_bash, state, wait_for)
from grader.report import indent
from grader.terminal import OutputFlood, TerminalTimeout

LAB = "05-job-control"
PROGRAMS = ["jsh.c"]

BASH = job_shell_is_bash()
PIPELINE = (("sleep", "100"), ("sleep", "101"))
PIPELINE_LINE = "sleep 100 | sleep 101"
JOB_CONTROL_SIGNALS = {2: "SIGINT", 20: "SIGTSTP", 21: "SIGTTIN", 22: "SIGTTOU"}
CHILD_DEFAULT_SIGNALS = {2: "SIGINT", 3: "SIGQUIT", 20: "SIGTSTP", 21: "SIGTTIN", 22: "SIGTTOU"}
RUN_LIMIT = 25.0  # seconds for one whole run, whatever goes wrong in it


def jsh_only(reason: str) -> None:
    """Skips a check that relies on jsh itself when the checks are pointed at bash."""
    if BASH:
        pytest.skip(f"relies on jsh's {reason}")


# -- one run of a theme, recorded for the checks that judge it ------------------------------------

@dataclass
class JobRun:
    """What one run on a fresh shell showed. A step that went wrong ends the run: the checks that
    need what came after it report that failure."""

    shell_name: str = "jsh"
    seen: dict[str, Any] = field(default_factory=dict)
    trees: dict[str, str] = field(default_factory=dict)  # the session drawn at moments of the run
    transcript: str = ""
    failure: Optional[CheckFailed] = None

    def __getitem__(self, key: str) -> Any:
        if key in self.seen:
            return self.seen[key]
        if self.failure is not None:
            raise self.failure
        raise CheckFailed(f"the run to get to '{key}'", "it stopped before that")

    def __contains__(self, key: str) -> bool:
        return key in self.seen

    def fail(self, expected: str, observed: str, advice: str = "", moment: str = "") -> CheckFailed:
        """A failure whose feedback shows the terminal and the session as they were at `moment`."""
        parts = [advice] if advice else []
        if self.transcript:
            parts.append("Terminal:\n" + indent(self.transcript, "    | "))
        if moment and self.trees.get(moment):
            parts.append(f"Processes {moment} (session -> groups -> processes):\n" + indent(self.trees[moment]))
        return CheckFailed(expected, observed, "\n".join(parts))


class Recorder:
    """Runs a scenario on a fresh shell in its own Grading, and keeps what the checks need."""

    def __init__(self, grading: Grading, shell: JobShell, run: JobRun) -> None:
        self.grading = grading
        self.shell = shell
        self.run = run

    def note(self, key: str, value: Any) -> Any:
        self.run.seen[key] = value
        return value

    def moment(self, name: str) -> None:
        self.run.trees[name] = self.shell.tree()

    def step(self, expected: str, action: Callable[[], Any], moment: str) -> Any:
        """Does one step; if what it waits for never comes, the run fails there."""
        try:
            return action()
        except GaveUp as error:
            self.moment(moment)
            raise Stopped(expected, str(error), moment) from None


class Stopped(Exception):
    def __init__(self, expected: str, observed: str, moment: str) -> None:
        super().__init__(observed)
        self.expected, self.observed, self.moment = expected, observed, moment


def perform(lab: LabBuild, run_as: containment.RunAs, scenario: Callable[[Recorder], None],
            make_shell: Callable[[Grading], JobShell]) -> JobRun:
    grading = Grading(lab, run_as, containment.Limits())
    run = JobRun("bash" if BASH else "jsh")
    stopped: Optional[Stopped] = None
    trouble: Optional[str] = None
    try:
        with deadline(RUN_LIMIT):
            try:
                shell = make_shell(grading)
            except GaveUp as error:
                raise Stopped("the shell to print its first prompt", str(error), "") from None
            scenario(Recorder(grading, shell, run))
    except Stopped as error:
        stopped = error
    except (TerminalTimeout, CheckpointNeverReached, OutputFlood, CheckTimedOut, procfs.ProcessGone) as error:
        trouble = str(error) if not isinstance(error, procfs.ProcessGone) else f"process {error} ended early"
    finally:
        run.transcript = grading.transcript()
        grading.teardown()
    if stopped is not None:
        run.failure = run.fail(stopped.expected, stopped.observed, moment=stopped.moment)
    elif trouble is not None:
        run.failure = run.fail("the run to go on", trouble)
    return run


def start_foreground_job(r: Recorder, line: str, argvs: tuple[tuple[str, ...], ...], moment: str) -> Job:
    start = r.shell.type_line(line)
    job = r.step(f"'{line}' to run in the foreground",
                 lambda: r.shell.wait_job(start, argvs, foreground=True), moment)
    return job


def press_for_job(r: Recorder, job: Job, key: str) -> tuple[int, str]:
    """Types Ctrl-C or Ctrl-Z at the job. Returns where its effects show in the transcript, and why
    the kernel will not deliver the signal to the job, if its state already says so (the terminal
    signals its foreground group only; an ignored signal is discarded): then no one waits for it."""
    signum, name = {"c": (2, "SIGINT"), "z": (20, "SIGTSTP")}[key]
    group = job.first.pgid
    foreground = r.shell.foreground()
    reason = ""
    if foreground != group:
        reason = (f"when Ctrl-{key.upper()} was typed the terminal's foreground group was {foreground}, not the "
                  f"job's group {group}, and the terminal sends {name} to its foreground group only")
    else:
        ignoring = []
        for process in job.processes:
            try:
                if procfs.status(process.pid).ignores(signum):
                    ignoring.append(str(process.pid))
            except procfs.ProcessGone:
                pass
        if ignoring:
            reason = f"{name} is ignored in process {', '.join(ignoring)} of the job"
        elif key == "z" and orphaned(group, job.now() + [s for s in [r.shell.stat()] if s is not None]):
            reason = (f"the job's group {group} is orphaned (no member has its parent in another group of the "
                      "session), and the kernel does not stop an orphaned group on Ctrl-Z")
    return r.shell.press(key), reason


def orphaned(group: int, candidates: list[procfs.Stat]) -> bool:
    """No member of the group has a parent in another group of the same session (see credentials(7))."""
    members = [s for s in candidates if s.pgid == group]
    for member in members:
        parent = procfs.try_stat(member.ppid)
        if parent is not None and parent.pgid != group and parent.sid == member.sid:
            return False
    return bool(members)


def prompt_after_stop(r: Recorder, job: Job, start: int) -> str:
    """The prompt after Ctrl-Z, once the job has stopped."""

    def never() -> Optional[str]:
        if all(s == "T" for s in job.states().values()) and blocked_in_wait_without_stops(r.shell.pid):
            return ("the job is stopped, and the shell waits for it in waitpid() without WUNTRACED, "
                    "which a stop does not end")
        return None

    return r.step("a prompt after Ctrl-Z", lambda: r.shell.wait_prompt(start, "a prompt after Ctrl-Z", hopeless=never),
                  "after Ctrl-Z")


def wait_all_stopped(r: Recorder, job: Job, moment: str, hopeless: str, start: int) -> dict[int, str]:
    """After Ctrl-Z (typed at `start`): until every process of the job is stopped, or one has ended."""

    def stopped() -> Optional[dict[int, str]]:
        states = job.states()
        return states if all(s == "T" for s in states.values()) else None

    def one_ended() -> Optional[str]:
        gone = [pid for pid in job.pids if ended(pid)]
        return f"process {', '.join(map(str, gone))} of the job ended" if gone else None

    seen: Optional[dict[int, str]] = None
    if not hopeless:
        try:
            seen = wait_for(r.shell.terminal, stopped, "every process of the job stopping", give_up=one_ended)
        except GaveUp:
            pass  # judged by the checks from the states recorded here
    r.moment(moment)
    # The states that showed the stop: the shell may continue the job right after (one that ends on
    # a failed read sends its jobs SIGHUP and SIGCONT), and on a loaded machine before we look again.
    states = r.note("states", seen or job.states())
    if all(s not in ("Z", "") for s in states.values()) and any(s != "T" for s in states.values()) \
            and r.shell.alive() and not r.shell.prompted_since(start):
        # The job still runs: a shell waiting for it rightly does not prompt, so the run ends here.
        r.note("stop problem", hopeless)
        raise Stopped("Ctrl-Z to stop every process of the job (state T)",
                      f"after Ctrl-Z: {describe(job.now())}" + (f"; {hopeless}" if hopeless else ""), moment)
    return states


# -- the runs -------------------------------------------------------------------------------------

def starting(r: Recorder) -> None:
    """The shell at its first prompt; then (jsh only) a few wrong lines."""
    shell = r.shell
    r.note("shell", shell.stat())
    r.note("foreground", shell.foreground())
    r.note("status", procfs.status(shell.pid))
    r.moment("at the first prompt")
    if shell.bash:
        return
    outputs = []
    for line in ("nosuchcmd_pg", "fg %9", "bg %9", "", "ls | | wc"):
        start = shell.type_line(line)
        output = r.step(f"a prompt again after '{line}'",
                        lambda: shell.wait_prompt(start, f"a prompt after '{line}'"), f"after '{line}'")
        outputs.append((line, output))
    r.note("errors", outputs)
    r.note("foreground after errors", shell.foreground())


def foreground_job(r: Recorder) -> None:
    """`sleep 100 | sleep 101` in the foreground, then Ctrl-C."""
    shell = r.shell
    job = r.note("job", start_foreground_job(r, PIPELINE_LINE, PIPELINE, "while the job runs"))
    r.note("foreground", shell.foreground())
    r.note("shell", shell.stat())
    r.note("dispositions", {s.pid: procfs.status(s.pid) for s in job.processes})
    r.note("shell dispositions", procfs.status(shell.pid))
    r.moment("while the job runs")
    start, hopeless = press_for_job(r, job, "c")
    r.note("key problem", hopeless)
    if not hopeless:
        try:
            wait_for(shell.terminal, lambda: all(ended(pid) for pid in job.pids), "every process of the job ending")
        except GaveUp:
            pass
    r.moment("after Ctrl-C")
    survivors = r.note("survivors", job.now())
    if any(s.state != "Z" for s in survivors):
        return
    r.step("a prompt after Ctrl-C", lambda: shell.wait_prompt(start, "a prompt after Ctrl-C"), "after Ctrl-C")
    r.note("foreground at prompt", shell.foreground())
    r.note("shell after", shell.stat())


def stopping(r: Recorder) -> None:
    """`sleep 100 | sleep 101`, Ctrl-Z, an empty line, then `bg %1`."""
    shell = r.shell
    job = r.note("job", start_foreground_job(r, PIPELINE_LINE, PIPELINE, "while the job runs"))
    r.note("shell", shell.stat())
    start, hopeless = press_for_job(r, job, "z")
    wait_all_stopped(r, job, "after Ctrl-Z", hopeless, start)
    prompt_after_stop(r, job, start)
    r.note("foreground at prompt", shell.foreground())
    r.moment("at the prompt after Ctrl-Z")
    r.note("alive at prompt", (shell.alive(), shell.how_it_ended()))
    again = shell.type_line("")
    r.step("a prompt again after an empty line",
           lambda: shell.wait_prompt(again, "a prompt after an empty line"), "at the prompt after Ctrl-Z")
    r.note("reported", shell.since(start))
    start = shell.type_line("bg %1")
    r.step("a prompt after 'bg %1'", lambda: shell.wait_prompt(start, "a prompt after 'bg %1'"), "after 'bg %1'")
    # No wait: SIGCONT takes a process out of state T within kill() itself, and the shell prompts
    # only after it has sent it.
    r.moment("after 'bg %1'")
    r.note("states after bg", job.states())
    r.note("foreground after bg", shell.foreground())


def jobs_and_fg(r: Recorder) -> None:
    """`sleep 100 | sleep 101`, Ctrl-Z, `sleep 102 &`, `jobs`, then `fg %1`."""
    shell = r.shell
    job = r.note("job", start_foreground_job(r, PIPELINE_LINE, PIPELINE, "while the job runs"))
    start, hopeless = press_for_job(r, job, "z")
    states = wait_all_stopped(r, job, "after Ctrl-Z", hopeless, start)
    if any(s != "T" for s in states.values()):
        raise Stopped("Ctrl-Z to stop every process of the job (state T)",
                      f"states after Ctrl-Z: {describe(job.now()) if job.now() else 'every process ended'}",
                      "after Ctrl-Z")
    prompt_after_stop(r, job, start)
    start = shell.type_line("sleep 102 &")
    r.step("a prompt after 'sleep 102 &'", lambda: shell.wait_prompt(start, "a prompt after 'sleep 102 &'"),
           "after 'sleep 102 &'")
    start = shell.type_line("jobs")
    r.note("jobs", r.step("a prompt after 'jobs'", lambda: shell.wait_prompt(start, "a prompt after 'jobs'"),
                          "after 'jobs'"))
    start = shell.type_line("fg %1")
    group = job.first.pgid

    def continued() -> bool:
        return all(s not in ("T", "") for s in job.states().values()) and shell.foreground() == group

    def cannot() -> Optional[str]:
        if shell.prompted_since(start):
            return f"the shell prompted again; it printed: {shell.since(start).strip()!r}"
        if any(ended(pid) for pid in job.pids):
            return "a process of the job ended"
        if shell.waiting_for_children():
            # It waits for the job: it has done all it does for 'fg' (SIGCONT acts within kill()).
            return "the shell waits for the job in waitpid()"
        return shell.gone()

    try:
        wait_for(shell.terminal, continued, "the job continuing in the foreground", give_up=cannot)
        r.note("fg problem", "")
    except GaveUp as error:
        r.note("fg problem", "" if continued() else str(error))
    r.moment("after 'fg %1'")
    r.note("states after fg", job.states())
    r.note("foreground after fg", shell.foreground())


def answer_empty_line(shell: JobShell) -> str:
    """Types an empty line: '' if the shell prompts again, else why not and what the terminal showed."""
    again = shell.type_line("")
    try:
        shell.wait_prompt(again, "a prompt after an empty line")
        return ""
    except GaveUp as error:
        return f"{error}; the terminal showed {shell.since(again).strip()!r}"


def background_job(r: Recorder) -> None:
    """`sleep 100 &`, then an empty line."""
    shell = r.shell
    start = shell.type_line("sleep 100 &")
    job = r.step("'sleep 100 &' to run", lambda: shell.wait_job(start, [("sleep", "100")], foreground=False),
                 "after 'sleep 100 &'")
    r.step("a prompt after 'sleep 100 &'", lambda: shell.wait_prompt(start, "a prompt after 'sleep 100 &'"),
           "after 'sleep 100 &'")
    r.note("job", Job(job.now() or job.processes))
    r.note("foreground", shell.foreground())
    r.note("shell", shell.stat())
    r.moment("after 'sleep 100 &'")
    r.note("prompts again", answer_empty_line(shell))


def background_reader(r: Recorder) -> None:
    """`cat &`: it reads the terminal from the background."""
    shell = r.shell

    problem = ""  # why cat will not stop, once that is known
    in_front = False  # ... because it is in the terminal's foreground group

    def cannot_stop(cat: int) -> Optional[str]:
        nonlocal problem, in_front
        now = procfs.try_stat(cat)
        if ended(cat):
            problem = "cat ended"
        elif now is not None and now.pgid == shell.foreground():
            in_front = True
            own = shell.stat()
            mine = " (the shell's own group)" if own is not None and own.pgid == now.pgid else ""
            problem = (f"cat is in the terminal's foreground group {now.pgid}{mine}, where a read just waits "
                       "for input")
        return problem or None

    start = shell.type_line("cat &")
    try:
        cat: Optional[int] = shell.wait_job(start, [("cat",)], foreground=False).first.pid
    except GaveUp as error:
        if "ended first" not in str(error):
            r.moment("after 'cat &'")
            raise Stopped("'cat &' to run", str(error), "after 'cat &'") from None
        cat = None  # it ran cat and ended before /proc showed it running cat
    status = None
    if cat is not None:
        try:
            status = procfs.status(cat)
        except procfs.ProcessGone:
            pass
    r.note("cat dispositions", status)
    r.step("a prompt after 'cat &'", lambda: shell.wait_prompt(start, "a prompt after 'cat &'"), "after 'cat &'")
    if cat is not None:
        try:
            wait_for(shell.terminal, lambda: state(cat) == "T", "cat stopping", give_up=lambda: cannot_stop(cat))
        except GaveUp as error:
            problem = problem or str(error)
    r.note("cat problem", problem)
    r.note("cat in front", in_front)
    r.moment("after 'cat &'")
    r.note("cat", procfs.try_stat(cat) if cat is not None else None)
    r.note("foreground", shell.foreground())
    r.note("shell", shell.stat())
    again = shell.type_line("")
    r.step("a prompt after an empty line", lambda: shell.wait_prompt(again, "a prompt after an empty line"),
           "after 'cat &'")
    r.note("output", shell.since(start))


def finished_background_job(r: Recorder) -> None:
    """`sleep 0 &`, then an empty line once it has ended."""
    shell = r.shell
    start = shell.type_line("sleep 0 &")
    started = re.compile(rb"\[(\d+)\] (\d+)\r?\n")
    found = r.step("a '[N] PID' line after 'sleep 0 &'",
                   lambda: wait_for(shell.terminal, lambda: started.search(shell.terminal.transcript, start),
                                    "a '[N] PID' line", give_up=shell.gone), "after 'sleep 0 &'")
    pid = r.note("pid", int(found.group(2)))
    r.step("a prompt after 'sleep 0 &'", lambda: shell.wait_prompt(start, "a prompt after 'sleep 0 &'"),
           "after 'sleep 0 &'")
    r.step("'sleep 0' to end", lambda: wait_for(shell.terminal, lambda: ended(pid), "'sleep 0' ending"),
           "after 'sleep 0 &'")
    again = shell.type_line("")
    r.step("a prompt after an empty line", lambda: shell.wait_prompt(again, "a prompt after an empty line"),
           "after 'sleep 0 &'")
    r.moment("at the next prompt")
    r.note("after", procfs.try_stat(pid))
    r.note("output", shell.since(start))


def end_of_input(r: Recorder) -> None:
    """Ctrl-D at an empty prompt."""
    shell = r.shell
    start = shell.press("d")

    def went_on() -> Optional[str]:
        return "it printed a prompt again" if shell.prompted_since(start) else None

    try:
        wait_for(shell.terminal, lambda: not shell.alive(), "the shell ending", give_up=went_on)
    except GaveUp as error:
        r.note("still running", str(error))
    r.moment("after Ctrl-D")
    r.note("ended", shell.how_it_ended())
    r.note("exit status", shell.exit_status)


def on_pty(grading: Grading) -> JobShell:
    """The shell run directly on the pty, as its session leader."""
    return JobShell(grading, BASH)


def from_bash(grading: Grading) -> JobShell:
    """An interactive bash on the pty, into which the scenario types the line that starts the shell."""
    return ShellStartedByBash(grading, BASH)


# -- the shell's own start, typed into bash (section 3) ----------------------------------------------

def background_expectation(name: str, bash_group: int) -> str:
    return (f"'{name} &' typed into bash to stop itself (state T) before it prompts, and to leave the terminal "
            f"with bash's group {bash_group} until 'fg'")


def group_expectation(name: str, sh_group: Optional[int]) -> str:
    return (f"'{name}' started by 'sh -c' inside sh's group{f' {sh_group}' if sh_group else ''} to move to a "
            "group of its own and make it the terminal's foreground group before its first prompt")


def started_in_background(r: Recorder) -> None:
    """From bash: `set -o posix`, `jsh &`, an empty line; `fg`; then `sleep 100` at jsh's prompt."""
    shell = r.shell
    assert isinstance(shell, ShellStartedByBash)
    outer = shell.outer
    bash_group = r.note("bash group", procfs.stat(outer.pid).pgid)
    outer.run("set -o posix")  # bash then names the stop signal in its report: Stopped(SIGTTIN)
    moment = f"after '{shell.name} &'"
    start = shell.start("{shell} &")
    first = r.step(background_expectation(shell.name, bash_group), lambda: shell.find(start), moment)
    group = r.note("group", first.pgid)
    took = False

    def will_not_stop() -> Optional[str]:
        nonlocal took
        if shell.foreground() == group:
            took = True
            return "its group took the terminal"
        if shell.prompted_since(start):
            return "it prompted"
        return shell.gone()

    try:
        wait_for(outer, lambda: state(shell.pid) == "T", f"{shell.name} stopping", give_up=will_not_stop)
    except GaveUp:
        pass  # judged by the check from what is noted here
    if state(shell.pid) == "T" and not outer.shell_gone():
        # bash reports the stop before its next prompt. And once bash has answered a line typed
        # after the stop, whatever the shell printed before it stopped is in the transcript too:
        # a terminal keeps the order in which things were written to it.
        for _ in range(3):
            outer.wait_prompt(outer.type_line(""), "an empty line")
            if "Stopped" in outer.since(start):
                break
    else:
        outer.drain()
    r.moment(moment)
    took = r.note("took", took or shell.foreground() == group)
    prompted = r.note("prompted", shell.prompted_since(start))
    stopped = r.note("state", state(shell.pid)) == "T"
    report = re.search(r"\[\d+\]\+?\s+Stopped\S*", outer.since(start))
    r.note("report", report.group(0) if report else "")
    if took or prompted or not stopped:
        return  # the check says why; 'fg' would show nothing more

    start = outer.type_line("fg")

    def bash_again() -> Optional[str]:
        if outer.prompt.search(outer.transcript, start):
            return f"bash prompted again: {shell.name} stopped or ended once more"
        return None

    r.step(f"after 'fg', {shell.name} to prompt",
           lambda: shell.wait_prompt(start, "a prompt after 'fg'", hopeless=bash_again), "after 'fg'")
    r.note("shell after fg", shell.stat())
    r.note("foreground after fg", shell.foreground())
    r.moment("after 'fg'")
    r.note("job", start_foreground_job(r, "sleep 100", (("sleep", "100"),), "while 'sleep 100' runs"))
    r.note("foreground while job runs", shell.foreground())
    r.moment("while 'sleep 100' runs")


def started_in_group(r: Recorder) -> None:
    """From bash: `sh -c 'jsh; echo ...'`, then an empty line at jsh's first prompt."""
    shell = r.shell
    assert isinstance(shell, ShellStartedByBash)
    outer = shell.outer
    start = shell.start("sh -c '{shell}; echo \"" + shell.name + " ended with status $?\"'")
    try:
        first = shell.find(start)
    except GaveUp as error:
        # A shell that fails at once can come and go before /proc shows it: its output tells.
        r.note("missed", str(error))
        r.note("sh group", None)
        r.moment("after 'sh -c'")
        r.note("output", shell.since(start))
        return
    r.note("pid", first.pid)
    parent = procfs.try_stat(first.ppid)
    sh_group = r.note("sh group", parent.pgid if parent is not None else None)
    last = first  # the shell as /proc last showed it alive: it may end right after its prompt

    def stopped() -> Optional[str]:
        nonlocal last
        now = shell.stat()
        if now is not None and now.state != "Z":
            last = now
        return "it was stopped (state T) before its first prompt" if state(shell.pid) == "T" else None

    r.step(group_expectation(shell.name, sh_group),
           lambda: shell.wait_prompt(start, f"{shell.name}'s first prompt", hopeless=stopped), "at its first prompt")
    r.note("foreground at prompt", shell.foreground())
    now = shell.stat()
    r.note("at prompt", now if now is not None and now.state != "Z" else last)
    r.moment("at its first prompt")
    r.note("reads", answer_empty_line(shell))
    if not shell.alive():
        # Once bash prompts after sh, everything the shell printed before it ended is on the terminal.
        try:
            outer.wait_prompt(start, "sh -c")
        except TerminalTimeout:
            pass
    r.note("output", shell.since(start))


def run_fixture(scenario: Callable[[Recorder], None],
                make_shell: Callable[[Grading], JobShell] = on_pty) -> Callable[..., JobRun]:
    @pytest.fixture(scope="module")
    def fixture(lab: LabBuild, run_as: containment.RunAs) -> JobRun:
        return perform(lab, run_as, scenario, make_shell)

    fixture.__doc__ = scenario.__doc__
    return fixture


start_run = run_fixture(starting)
foreground_run = run_fixture(foreground_job)
stop_run = run_fixture(stopping)
fg_run = run_fixture(jobs_and_fg)
background_run = run_fixture(background_job)
reader_run = run_fixture(background_reader)
reaped_run = run_fixture(finished_background_job)
eof_run = run_fixture(end_of_input)
background_start_run = run_fixture(started_in_background, from_bash)
group_start_run = run_fixture(started_in_group, from_bash)


# -- the checks ---------------------------------------------------------------------------------

@check(points=1, hint="section 2")
def test_compiles(lab) -> None:
    """jsh.c compiles"""
    jsh_only("source")  # about jsh.c itself
    if not lab.ok:
        raise CheckFailed("jsh.c to compile", lab.report())


@check(points=1, hint="section 3")
def test_shell_starts_owning_terminal(start_run: JobRun) -> None:
    """The shell prompts, leads its own group, and that group owns the terminal"""
    shell = start_run["shell"]
    foreground = start_run["foreground"]
    if shell is None or shell.pgid != shell.pid:
        raise start_run.fail(f"the shell to lead its own group (PGID == PID {shell.pid if shell else '?'})",
                             f"kernel: {describe([shell]) if shell else 'the shell is gone'}",
                             moment="at the first prompt")
    if foreground != shell.pgid or shell.tpgid != shell.pgid:
        raise start_run.fail(f"the terminal's foreground group to be the shell's group {shell.pgid}",
                             f"the terminal's foreground group is {foreground} (tpgid {shell.tpgid} in /proc)",
                             moment="at the first prompt")


@check(points=1, hint="section 3")
def test_shell_ignores_job_control_signals(start_run: JobRun) -> None:
    """SIGINT, SIGTSTP, SIGTTIN, SIGTTOU are not at their default action in the shell"""
    status = start_run["status"]
    default = [name for number, name in JOB_CONTROL_SIGNALS.items()
               if not (status.ignores(number) or status.catches(number))]
    if default:
        raise start_run.fail(
            "the shell to ignore SIGINT, SIGTSTP, SIGTTIN and SIGTTOU",
            f"{', '.join(default)} at the default action (SigIgn {status.sig_ignored:016x}, "
            f"SigCgt {status.sig_caught:016x})",
            "At their default action, a Ctrl-C at the prompt kills the shell, and taking the terminal back "
            "from the background fails.")


@check(points=2, hint="section 3")
def test_shell_started_in_background_waits(background_start_run: JobRun) -> None:
    """Started with `jsh &` from bash, the shell stops itself until `fg`, then owns the terminal and runs a job"""
    run = background_start_run
    name = run.shell_name
    expected = background_expectation(name, run["bash group"])
    moment = f"after '{name} &'"
    group, found = run["group"], run["state"]
    if run["took"] or run["prompted"] or found != "T":
        seen = []
        if run["took"]:
            seen.append(f"its group {group} took the terminal from bash while it was a background job")
        if run["prompted"]:
            seen.append("it printed its prompt while it was a background job")
        if found == "T":
            seen.append("then the kernel stopped it (state T) when it read the terminal")
        else:
            seen.append("it has ended" if found in ("", "Z") else f"it is in state {found}, not stopped")
        raise run.fail(
            expected, "; ".join(seen),
            "A shell started with '&' is a background job. Before it prompts, reads or takes the terminal, it "
            "compares tcgetpgrp() with its own group and, if they differ, stops its own group with SIGTTIN; "
            "'fg' then gives it the terminal and continues it. (Ignoring SIGTTOU, it could take the terminal "
            "from the background: that steals it from bash.)", moment=moment)
    if "Stopped(SIGTTIN)" not in run["report"]:
        raise run.fail(
            f"{expected}, stopped by SIGTTIN: bash (in POSIX mode) reports 'Stopped(SIGTTIN)'",
            f"bash reported {run['report']!r}" if run["report"] else "bash reported no stop",
            "Stop your group with SIGTTIN, as the kernel stops a background reader. For an orphaned group "
            "the kernel discards SIGTTIN, so the shell can notice and give up; SIGSTOP would stop such a group "
            "for good.", moment=moment)
    after: Optional[procfs.Stat] = run["shell after fg"]
    foreground = run["foreground after fg"]
    if after is None or after.pgid != after.pid or foreground != after.pgid:
        raise run.fail(f"after 'fg', {name} to lead its own group and own the terminal at its prompt",
                       f"kernel: {describe([after]) if after else f'{name} has ended'}; the terminal's "
                       f"foreground group is {foreground}", moment="after 'fg'")
    job: Job = run["job"]
    job_group = run["foreground while job runs"]
    if job.first.pgid != job.first.pid or job.first.pgid == after.pgid or job_group != job.first.pgid:
        raise run.fail(f"'sleep 100' typed at {name}'s prompt to run in a group of its own that owns the terminal",
                       f"kernel: {describe(job.processes)}; {name}'s group is {after.pgid}; the terminal's "
                       f"foreground group is {job_group}", moment="while 'sleep 100' runs")


@check(points=2, hint="section 3")
def test_shell_takes_own_group_and_terminal(group_start_run: JobRun) -> None:
    """Started inside sh's group (`sh -c 'jsh; ...'`), the shell leads a group of its own and takes the terminal"""
    run = group_start_run
    name = run.shell_name
    sh_group = run["sh group"]
    expected = group_expectation(name, sh_group)
    advice = ("A shell started inside another program's group must leave it: setpgid(0, 0) makes a group whose "
              "PGID is its PID. That group starts in the background, so the shell then gives it the terminal "
              "with tcsetpgrp (which works because it ignores SIGTTOU by then); without the terminal its first "
              "read fails with EIO.")
    output = run["output"]
    # A read of the terminal fails with EIO (SIGTTIN being ignored) only outside its foreground group.
    eio = (f"; then its read of the terminal failed with EIO: {name}'s group was not the terminal's foreground "
           "group" if "Input/output error" in output else "")
    if "missed" in run:
        raise run.fail(expected, f"{name} came and went before /proc showed it running{eio}; the terminal "
                       f"showed {output.strip()!r}", advice, moment="after 'sh -c'")
    pid = run["pid"]
    foreground = run["foreground at prompt"]
    at_prompt: procfs.Stat = run["at prompt"]  # or as /proc last showed it, if it ended right after
    where = f"kernel: {describe([at_prompt])}" + (" (still in sh's group)" if at_prompt.pgid == sh_group else "")
    if foreground != pid:
        who = " (sh's group)" if foreground == sh_group else ""
        raise run.fail(expected, f"at its first prompt the terminal's foreground group was {foreground}{who}, not "
                       f"{pid}, the group {name} should lead; {where}{eio}", advice, moment="at its first prompt")
    if at_prompt.pgid != pid:
        raise run.fail(expected, f"at its first prompt, {where}{eio}", advice, moment="at its first prompt")
    if run["reads"]:
        raise run.fail(f"{name} to read an empty line and prompt again", run["reads"] + eio,
                       moment="at its first prompt")


def require_job_group(run: JobRun, moment: str) -> tuple[Job, int]:
    job: Job = run["job"]
    shell: procfs.Stat = run["shell"]
    leader = job.first
    groups = {p.pgid for p in job.processes}
    if groups == {shell.pgid}:
        raise run.fail(f"the job's processes in their own process group {leader.pid} (the first process's PID)",
                       f"kernel: they are in the shell's own group {shell.pgid}: {describe(job.processes)}",
                       moment=moment)
    if groups != {leader.pid} or leader.pid == shell.pgid:
        raise run.fail(f"the job's processes in their own process group {leader.pid} (the first process's PID)",
                       f"kernel: {describe(job.processes)}; the shell's group is {shell.pgid}", moment=moment)
    if any(p.sid != shell.sid for p in job.processes):
        raise run.fail(f"the job in the shell's session {shell.sid}", f"kernel: {describe(job.processes)}",
                       moment=moment)
    return job, leader.pid


@check(points=2, hint="section 4")
def test_foreground_job_own_group(foreground_run: JobRun) -> None:
    """`sleep 100 | sleep 101`: both in one group, the first's PID, not the shell's"""
    require_job_group(foreground_run, "while the job runs")


@check(points=2, hint="section 4")
def test_foreground_job_owns_terminal(foreground_run: JobRun) -> None:
    """While a foreground job runs, the terminal's foreground group is the job's"""
    job: Job = foreground_run["job"]
    shell: procfs.Stat = foreground_run["shell"]
    foreground = foreground_run["foreground"]
    group = job.first.pgid
    if group == shell.pgid:
        raise foreground_run.fail(
            f"the terminal's foreground group to be the job's own group, not the shell's {shell.pgid}",
            f"the job's processes are in the shell's own group {shell.pgid}: {describe(job.processes)}; "
            f"the terminal's foreground group is {foreground}", moment="while the job runs")
    if foreground != group or shell.tpgid != group:
        raise foreground_run.fail(
            f"the terminal's foreground group to be the job's group {job.first.pid}, not the shell's {shell.pgid}",
            f"while '{PIPELINE_LINE}' runs, the terminal's foreground group is {foreground}; "
            f"the job's processes: {describe(job.processes)}",
            "Only the foreground group gets what is typed, and Ctrl-C and Ctrl-Z.", moment="while the job runs")


@check(points=2, hint="section 5")
def test_children_signals_default(foreground_run: JobRun) -> None:
    """A running job's process ignores none of SIGINT, SIGQUIT, SIGTSTP, SIGTTIN, SIGTTOU"""
    dispositions: dict[int, procfs.Status] = foreground_run["dispositions"]
    for pid, status in dispositions.items():
        ignored = [name for number, name in CHILD_DEFAULT_SIGNALS.items() if status.ignores(number)]
        if ignored:
            raise foreground_run.fail(
                "none of SIGINT, SIGQUIT, SIGTSTP, SIGTTIN, SIGTTOU ignored in the job's processes",
                f"process {pid} ({' '.join(cmdline(pid) or ('sleep',))}) runs with {', '.join(ignored)} ignored "
                f"(SigIgn {status.sig_ignored:016x})",
                "The shell's ignored dispositions survived fork and exec.", moment="while the job runs")
    # Putting the signals back is only needed, and only shows, once the shell ignores them itself.
    shell: procfs.Status = foreground_run["shell dispositions"]
    if not any(shell.ignores(number) for number in CHILD_DEFAULT_SIGNALS):
        raise foreground_run.fail(
            "the job's processes to have SIGINT, SIGQUIT, SIGTSTP, SIGTTIN, SIGTTOU back at their default action "
            "although the shell ignores them; this check is judged once the shell ignores them (section 3)",
            f"the shell itself ignores none of them (SigIgn {shell.sig_ignored:016x}), so its children had "
            "nothing to put back", moment="while the job runs")


@check(points=2, hint="section 4")
def test_ctrl_c_ends_whole_job(foreground_run: JobRun) -> None:
    """Ctrl-C ends every process of the foreground job; the shell lives and has the terminal"""
    job: Job = foreground_run["job"]
    survivors = [s for s in foreground_run["survivors"] if s.state != "Z"]
    if survivors:
        raise foreground_run.fail(
            "every process of the job to end on Ctrl-C",
            f"still running after Ctrl-C: {describe(survivors)}"
            + (f"; {foreground_run['key problem']}" if foreground_run["key problem"] else ""),
            "The terminal sends SIGINT to every process of its foreground group.", moment="after Ctrl-C")
    shell: procfs.Stat = foreground_run["shell after"]
    foreground = foreground_run["foreground at prompt"]
    if shell is None or shell.state == "Z":
        raise foreground_run.fail("the shell to prompt again after Ctrl-C", "the shell is gone", moment="after Ctrl-C")
    if foreground != shell.pgid:
        raise foreground_run.fail(
            f"the terminal back with the shell's group {shell.pgid} at the prompt",
            f"the terminal's foreground group is {foreground} (the job's was {job.first.pid})", moment="after Ctrl-C")


@check(points=2, hint="section 4")
def test_ctrl_z_stops_whole_job(stop_run: JobRun) -> None:
    """Ctrl-Z stops every process of the foreground job (state T)"""
    job: Job = stop_run["job"]
    states: dict[int, str] = stop_run["states"]
    running = {pid: s for pid, s in states.items() if s != "T"}
    if running:
        shown = ", ".join(f"{pid} in state {s or 'gone'}" for pid, s in running.items())
        problem = stop_run["stop problem"] if "stop problem" in stop_run else ""
        raise stop_run.fail("every process of the job stopped (state T) after Ctrl-Z",
                            f"{shown} (the job's group is {job.first.pgid})" + (f"; {problem}" if problem else ""),
                            "The terminal sends SIGTSTP to every process of its foreground group.",
                            moment="after Ctrl-Z")


@check(points=2, hint="section 4")
def test_shell_takes_terminal_back_after_stop(stop_run: JobRun) -> None:
    """After Ctrl-Z the shell prompts and owns the terminal again"""
    job: Job = stop_run["job"]
    shell_pgid = stop_run["shell"].pgid
    foreground = stop_run["foreground at prompt"]
    alive, ended_how = stop_run["alive at prompt"]
    if foreground != shell_pgid:
        raise stop_run.fail(
            f"the terminal's foreground group to be the shell's {shell_pgid} once the job has stopped",
            f"at the prompt after Ctrl-Z it is {foreground} (the stopped job's group is {job.first.pid})"
            + ("" if alive else f"; then {ended_how}"),
            "The shell must take the terminal back (tcsetpgrp) when the job stops, not only when it ends; "
            "otherwise its own read from the terminal fails.", moment="at the prompt after Ctrl-Z")
    stop_run["reported"]  # the shell read an empty line and prompted again


@check(points=1, hint="section 6")
def test_stopped_job_reported(stop_run: JobRun) -> None:
    """After Ctrl-Z jsh prints `[1] Stopped  sleep 100 | sleep 101`"""
    jsh_only("output format")  # reads jsh's own report line (section 1)
    expected = f"[1] Stopped  {PIPELINE_LINE}"
    output = stop_run["reported"]
    if expected not in output:
        raise stop_run.fail(f"jsh to print '{expected}' once the job has stopped (state T) after Ctrl-Z",
                            f"it printed {output.strip()!r}",
                            moment="at the prompt after Ctrl-Z")


@check(points=2, hint="section 8")
def test_bg_continues_job_in_background(stop_run: JobRun) -> None:
    """`bg %1`: every process of the stopped job continues; the shell keeps the terminal"""
    states: dict[int, str] = stop_run["states after bg"]
    stopped = [f"{pid} in state {s or 'gone'}" for pid, s in states.items() if s in ("T", "")]
    if stopped:
        raise stop_run.fail("every process of the job running again (state S or R) after 'bg %1'",
                            f"{', '.join(stopped)}: still stopped (state T) or gone",
                            "bg continues the whole group: kill with a negative PGID.", moment="after 'bg %1'")
    foreground = stop_run["foreground after bg"]
    shell_pgid = stop_run["shell"].pgid
    if foreground != shell_pgid:
        raise stop_run.fail(f"the terminal to stay with the shell's group {shell_pgid}",
                            f"after 'bg %1' the terminal's foreground group is {foreground}", moment="after 'bg %1'")


@check(points=1, hint="section 8")
def test_jobs_lists_jobs(fg_run: JobRun) -> None:
    """`jobs` lists a stopped and a running job with their states"""
    jsh_only("output format")  # reads jsh's own 'jobs' lines (section 1)
    output = fg_run["jobs"]
    wanted = [f"[1] Stopped  {PIPELINE_LINE}", "[2] Running  sleep 102"]
    missing = [line for line in wanted if line not in output]
    if missing:
        raise fg_run.fail(f"'jobs' to print {' and '.join(repr(w) for w in wanted)}",
                          f"it printed {output.strip()!r}; missing: {', '.join(repr(m) for m in missing)}",
                          moment="after 'jobs'")


@check(points=2, hint="section 8")
def test_fg_continues_job(fg_run: JobRun) -> None:
    """`fg %1`: every process of the stopped job continues, and the job owns the terminal"""
    job: Job = fg_run["job"]
    problem = fg_run["fg problem"]
    states: dict[int, str] = fg_run["states after fg"]
    foreground = fg_run["foreground after fg"]
    if problem:
        stopped = [str(pid) for pid, s in states.items() if s == "T"]
        raise fg_run.fail(
            f"every process of the job running again, in the foreground (group {job.first.pid})",
            problem + (f"; process {', '.join(stopped)} still stopped (state T)" if stopped else "")
            + f"; the terminal's foreground group is {foreground}",
            "fg gives the terminal to the job's group, then continues the whole group: kill with a negative PGID.",
            moment="after 'fg %1'")


@check(points=1, hint="section 4")
def test_background_job_started(background_run: JobRun) -> None:
    """`sleep 100 &`: its own group; the shell keeps the terminal and prompts again"""
    job: Job = background_run["job"]
    shell: procfs.Stat = background_run["shell"]
    process = job.first
    if process.pgid != process.pid or process.pgid == shell.pgid:
        raise background_run.fail(f"'sleep 100' in its own process group {process.pid}",
                                  f"kernel: {describe([process])}; the shell's group is {shell.pgid}",
                                  moment="after 'sleep 100 &'")
    foreground = background_run["foreground"]
    if foreground != shell.pgid:
        raise background_run.fail(
            f"the terminal's foreground group to stay the shell's {shell.pgid}",
            f"after 'sleep 100 &' it is {foreground} (the background job's group is {process.pgid})",
            "A background job never gets the terminal.", moment="after 'sleep 100 &'")
    if background_run["prompts again"]:
        raise background_run.fail("the shell to read the next line and prompt again",
                                  background_run["prompts again"], moment="after 'sleep 100 &'")


@check(points=2, hint="section 5")
def test_background_read_stopped_by_sigttin(reader_run: JobRun) -> None:
    """`cat &` is stopped (state T) when it reads the terminal"""
    cat: Optional[procfs.Stat] = reader_run["cat"]
    shell: procfs.Stat = reader_run["shell"]
    if cat is None or cat.state != "T":
        problem = reader_run["cat problem"]
        observed = problem or ("cat ended" if cat is None or cat.state == "Z" else f"cat is in state {cat.state}")
        if reader_run["cat in front"]:
            advice = ("A background job runs in a process group of its own, which is not the terminal's foreground "
                      "group (section 4): only then is its read from the terminal stopped with SIGTTIN.")
        else:
            status = reader_run["cat dispositions"]
            ignored = status is not None and status.ignores(21)
            advice = ("A background reader ends instead of stopping when its read fails with EIO: that is what "
                      "happens when SIGTTIN is ignored" + (" (and here it was ignored in cat: "
                                                           f"SigIgn {status.sig_ignored:016x})" if ignored else "")
                      + ".")
        raise reader_run.fail("the kernel to stop 'cat &' with SIGTTIN when it reads the terminal (state T)",
                              observed, advice, moment="after 'cat &'")
    foreground = reader_run["foreground"]
    if foreground != shell.pgid:
        raise reader_run.fail(f"the terminal's foreground group to be the shell's {shell.pgid}",
                              f"it is {foreground}", moment="after 'cat &'")


@check(points=1, hint="section 7")
def test_background_stop_reported(reader_run: JobRun) -> None:
    """That stop is reported at the next prompt: `[1] Stopped  cat`"""
    jsh_only("output format")  # reads jsh's own report line (section 1)
    output = reader_run["output"]
    if "[1] Stopped  cat" not in output:
        raise reader_run.fail("jsh to report '[1] Stopped  cat' before a prompt once cat has stopped",
                              f"it printed {output.strip()!r}", moment="after 'cat &'")


@check(points=2, hint="section 7")
def test_background_job_reaped(reaped_run: JobRun) -> None:
    """A finished background job is gone from /proc after the next prompt (no zombie)"""
    pid = reaped_run["pid"]
    after: Optional[procfs.Stat] = reaped_run["after"]
    if after is not None:
        raise reaped_run.fail(f"the finished 'sleep 0' ({pid}) reaped by the next prompt",
                              f"it is still there: {describe([after])} (Z: a zombie, ended but never waited for)",
                              moment="at the next prompt")


@check(points=1, hint="section 7")
def test_finished_job_announced(reaped_run: JobRun) -> None:
    """`[1] Done  sleep 0` before that prompt"""
    jsh_only("output format")  # reads jsh's own report line (section 1)
    output = reaped_run["output"]
    if "[1] Done  sleep 0" not in output:
        raise reaped_run.fail("jsh to print '[1] Done  sleep 0' by the next prompt", f"it printed {output.strip()!r}",
                              moment="at the next prompt")


@check(points=1, hint="section 9")
def test_errors_shell_goes_on(start_run: JobRun) -> None:
    """Unknown command, `fg %9`, `bg %9`, empty line, `ls | | wc`: a message, and the shell goes on"""
    jsh_only("messages")  # reads jsh's own error messages (section 1)
    wanted = {"nosuchcmd_pg": "nosuchcmd_pg: command not found", "fg %9": "no such job", "bg %9": "no such job",
              "": "", "ls | | wc": "empty command"}
    for line, output in start_run["errors"]:
        message = wanted[line]
        if message and message not in output:
            raise start_run.fail(f"after '{line}' a message with '{message}'", f"it printed {output.strip()!r}",
                                 moment=f"after '{line}'")
        if not message and output.strip():
            raise start_run.fail("an empty line to just prompt again", f"it printed {output.strip()!r}",
                                 moment="after ''")
    shell = start_run["shell"]
    if start_run["foreground after errors"] != shell.pgid:
        raise start_run.fail(f"the terminal still with the shell's group {shell.pgid}",
                             f"it is {start_run['foreground after errors']}")


@check(points=1, hint="section 9")
def test_end_of_input_exits_cleanly(eof_run: JobRun) -> None:
    """Ctrl-D at an empty prompt: the shell exits with status 0"""
    if "still running" in eof_run:
        raise eof_run.fail("the shell to exit after Ctrl-D at an empty prompt",
                           f"the shell is still running: {eof_run['still running']}", moment="after Ctrl-D")
    if eof_run["exit status"] != 0:
        raise eof_run.fail("the shell to exit with status 0 at end of input", eof_run["ended"], moment="after Ctrl-D")


# -- the setpgid race, forced both ways (jsh's checkpoints) -------------------------------------

@check(points=2, hint="section 4")
def test_job_group_set_by_both_sides(grading: Grading) -> None:
    """The job gets its group with either side held right after fork"""
    jsh_only("checkpoints")  # holds jsh at its 'parent-forked' and 'child-forked' checkpoints
    checkpoints = grading.checkpoints

    # The shell held right after fork: the child must join its group and take the terminal itself.
    checkpoints.hold("parent-forked")
    shell = JobShell(grading, bash=False)
    start = shell.type_line("sleep 100")
    held = checkpoints.wait("parent-forked", timeout=PATIENCE, pid=shell.pid, give_up=shell.gone)
    try:
        job = shell.wait_job(start, [("sleep", "100")], foreground=False)
        child = job.first
        foreground = shell.foreground()
    except GaveUp as error:
        raise CheckFailed("the child to exec 'sleep 100' while the shell is held right after fork", str(error),
                          at=held)
    finally:
        held.release()
    if child.pgid != child.pid:
        raise CheckFailed(
            f"the child {child.pid} in its own process group before it execs 'sleep', even when the shell "
            "has not run yet",
            f"with the shell held right after fork, kernel: {describe([child])}, the shell's group is {shell.pid}",
            "The child must call setpgid itself: the shell may run only after the child has exec'd.", at=held)
    if foreground != child.pid:
        raise CheckFailed(
            f"the terminal handed to the new group {child.pid} by the child, before it execs",
            f"with the shell held right after fork, the terminal's foreground group is {foreground}", at=held)

    # The first process held before it can call setpgid: the shell must found the group itself, or
    # the second process of the pipeline has no group to join.
    checkpoints.hold("child-forked")
    shell = JobShell(grading, bash=False)
    start = shell.type_line(PIPELINE_LINE)
    parent = checkpoints.wait("parent-forked", timeout=PATIENCE, pid=shell.pid, give_up=shell.gone)
    kids = shell.children()
    first = kids[0].pid if len(kids) == 1 else None
    parent.release()
    if first is None:
        raise CheckFailed("one child at the shell's first 'parent-forked'", f"children: {describe(kids)}", at=parent)
    seen: set[int] = set()

    def second_runs() -> Optional[procfs.Stat]:
        for arrival in checkpoints.arrivals():
            if arrival.held and arrival.pid != first:
                arrival.release()
        for kid in shell.children():
            seen.add(kid.pid)
            if kid.pid != first and cmdline(kid.pid) == PIPELINE[1]:
                return kid
        return None

    def second_ended() -> Optional[str]:
        living = {k.pid for k in shell.children() if k.state != "Z"}
        gone = [pid for pid in seen if pid != first and pid not in living]
        if gone:
            return f"the second process ({', '.join(map(str, gone))}) has already ended"
        if living <= {first} and shell.waiting_for_children():
            # The shell forks every process of a job before it waits: the second one has come and gone.
            return "the shell waits for the job, and its second process has already ended"
        return shell.gone()

    try:
        second = wait_for(shell.terminal, second_runs, "the second process running 'sleep 101'",
                          give_up=second_ended)
    except GaveUp as error:
        raise CheckFailed(
            f"the second process of '{PIPELINE_LINE}' to run, in group {first}, while the first process is held "
            "before its own setpgid",
            f"it never ran 'sleep 101': {error}",
            "If only the child calls setpgid and the shell runs ahead, the second process tries to join a group "
            "that does not exist yet (EPERM). The shell must make the group itself too.", at=parent)
    finally:
        for arrival in checkpoints.arrivals():
            arrival.release()
    if second.pgid != first:
        raise CheckFailed(f"the second process in the first one's group {first}",
                          f"kernel: {describe([second])}", at=parent)
