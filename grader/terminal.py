"""A pseudo-terminal that the grader types at, like a person at a keyboard.

pexpect makes the pty and starts the program on its slave side (the program becomes a session leader
with the pty as its controlling terminal). The grader keeps its own transcript of what the terminal
showed, bounded, so a program that floods its output fails cleanly instead of eating memory, and every
wait is for an event (a pattern, the foreground group changing) with a deadline.
"""
from __future__ import annotations

import os
import re
import secrets
import select
import signal
import time
from dataclasses import dataclass
from typing import Callable, Mapping, Optional, Sequence

import pexpect

CONTROL = {"c": b"\x03", "z": b"\x1a", "d": b"\x04", "\\": b"\x1c"}
FLOOD_LIMIT = 1 << 20  # bytes of terminal output a check will read before it calls it a flood


class TerminalTimeout(Exception):
    """What a check waited for did not appear before its deadline."""


class OutputFlood(Exception):
    """The program wrote more than FLOOD_LIMIT bytes to the terminal."""


@dataclass
class Match:
    start: int
    end: int
    groups: tuple[str, ...]


class Terminal:
    """A program running on a fresh pty, with a bounded transcript of everything it printed."""

    def __init__(
        self,
        argv: Sequence[str],
        env: Mapping[str, str],
        cwd: str,
        preexec: Optional[Callable[[], None]] = None,
    ) -> None:
        self.child = pexpect.spawn(
            argv[0],
            list(argv[1:]),
            env=dict(env),
            cwd=cwd,
            echo=False,  # the transcript then holds only what programs print, not what we type
            preexec_fn=preexec,
            dimensions=(24, 200),
            timeout=None,
        )
        self.child.delaybeforesend = None  # pexpect's default 50 ms pause before each send
        self.child.delayafterclose = 0
        self.child.delayafterterminate = 0
        self.child.ptyproc.delayafterclose = 0
        self.child.ptyproc.delayafterterminate = 0
        self.pid: int = self.child.pid
        self.transcript = bytearray()
        self.typed: list[tuple[int, bytes]] = []  # (transcript position, what was typed there)
        self.hung_up = False
        self.eof = False

    # -- typing -------------------------------------------------------------------------------

    def type(self, text: str) -> int:
        """Types text; returns the transcript position from which its effects will show."""
        position = len(self.transcript)
        self.typed.append((position, text.encode()))
        self.child.send(text.encode())
        return position

    def type_line(self, line: str) -> int:
        return self.type(line + "\n")

    def press_control(self, key: str) -> None:
        """Ctrl-C, Ctrl-Z, Ctrl-D or Ctrl-\\: the terminal character, so the line discipline acts on it."""
        self.typed.append((len(self.transcript), b"^" + key.upper().encode()))
        self.child.send(CONTROL[key.lower()])

    # -- reading ------------------------------------------------------------------------------

    @property
    def text(self) -> str:
        return self.transcript.decode("utf-8", "replace")

    def display(self) -> bytes:
        """The transcript with what was typed put back where it was typed (the pty does not echo it)."""
        shown = bytearray()
        previous = 0
        for position, typed in self.typed:
            shown += self.transcript[previous:position] + typed
            previous = position
        return bytes(shown + self.transcript[previous:])

    def since(self, position: int) -> str:
        return self.transcript[position:].decode("utf-8", "replace")

    def pump(self, timeout: float) -> bool:
        """Reads whatever the terminal shows within `timeout` s; False if nothing came."""
        if self.eof or self.hung_up:
            return False
        ready, _, _ = select.select([self.child.child_fd], [], [], max(timeout, 0))
        if not ready:
            return False
        try:
            data = os.read(self.child.child_fd, 65536)
        except OSError:  # EIO: every process holding the slave side has gone
            data = b""
        if not data:
            self.eof = True
            return False
        self.transcript += data
        if len(self.transcript) > FLOOD_LIMIT:
            raise OutputFlood(f"the program printed more than {FLOOD_LIMIT // 1024} KiB to the terminal")
        return True

    def drain(self) -> None:
        """Takes in what the terminal has already shown, without waiting."""
        while self.pump(0):
            pass

    def expect(self, pattern: "str | re.Pattern[bytes]", timeout: float = 10.0, start: int = 0) -> Match:
        """Waits until `pattern` (a regex) shows up in the transcript after `start`."""
        regex = pattern if isinstance(pattern, re.Pattern) else re.compile(pattern.encode())
        deadline = time.monotonic() + timeout
        while True:
            found = regex.search(self.transcript, start)
            if found:
                groups = tuple(g.decode("utf-8", "replace") if g is not None else "" for g in found.groups())
                return Match(found.start(), found.end(), groups)
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TerminalTimeout(f"'{regex.pattern.decode()}' did not appear within {timeout:g} s")
            if self.eof or self.hung_up:
                raise TerminalTimeout(f"'{regex.pattern.decode()}' did not appear before the terminal closed")
            self.pump(remaining)

    def wait_until(self, condition: Callable[[], bool], timeout: float, what: str) -> None:
        """Waits for a condition outside the transcript (a /proc state, the foreground group).

        The terminal is read meanwhile, so a program blocked on a full pty buffer still makes
        progress; the condition is looked at whenever output arrives, and at least every 10 ms.
        """
        deadline = time.monotonic() + timeout
        while not condition():
            if time.monotonic() > deadline:
                raise TerminalTimeout(f"{what} did not happen within {timeout:g} s")
            self.pump(0.01)

    # -- the terminal itself ---------------------------------------------------------------------

    def foreground_group(self) -> Optional[int]:
        """The terminal's foreground process group, read on the master side (tcgetpgrp)."""
        if self.hung_up:
            return None
        try:
            return os.tcgetpgrp(self.child.child_fd)
        except OSError:
            return None

    def slave_name(self) -> Optional[str]:
        """The path of the pty's slave side, e.g. /dev/pts/3."""
        try:
            return os.readlink(f"/proc/{self.pid}/fd/0")
        except OSError:
            return None

    def hang_up(self) -> None:
        """Closes the master side: the kernel hangs up the terminal (SIGHUP to the session leader)."""
        if self.hung_up:
            return
        self.hung_up = True
        # Through ptyprocess's own file object, so that nothing closes the fd number again later.
        self.child.ptyproc.fileobj.close()
        self.child.ptyproc.closed = True
        self.child.closed = True

    def close(self) -> None:
        """Closes the master side and reaps the program (teardown has already killed it)."""
        self.hang_up()
        try:
            if self.child.ptyproc.isalive():
                self.child.ptyproc.wait()
        except Exception:  # reaped already by teardown's waitpid(-1): nothing left to collect
            pass


class Shell(Terminal):
    """An interactive bash with job control on a fresh pty: the session a student's programs run in.

    The prompt carries a random token, the command number and the last exit status, so the grader
    can never mistake program output for it and always knows how the last command ended.
    """

    def __init__(self, env: Mapping[str, str], cwd: str, preexec: Optional[Callable[[], None]] = None) -> None:
        token = secrets.token_hex(4)
        self.prompt = re.compile(rb"\[pg-" + token.encode() + rb" (\d+) (\d+)\]\$ ")
        shell_env = dict(env)
        shell_env.update(PS1=f"[pg-{token} \\# $?]$ ", PS2="", HISTFILE="", PROMPT_COMMAND="")
        super().__init__(["/bin/bash", "--norc", "--noprofile", "--noediting", "-i"], shell_env, cwd, preexec)
        self.expect(self.prompt, timeout=10)

    def run(self, command: str, timeout: float = 5.0) -> "Command":
        """Types a command and waits for the next prompt; returns what it printed and its status."""
        start = self.type_line(command)
        return self.wait_prompt(start, command, timeout)

    def ended_since(self, start: int) -> Optional[str]:
        """A reason to stop waiting for a program typed at `start`: the shell prompted again."""
        self.drain()
        if self.prompt.search(self.transcript, start):
            return "the program had already ended"
        return None

    def shell_gone(self) -> Optional[str]:
        """Why the shell can prompt no more (it ended, or its terminal closed), or None. (A program
        can kill its shell, with kill(-1, SIGKILL) say; lab 08 hangs the shell up on purpose.)"""
        if self.child.isalive() and not self.eof:
            return None
        killed = self.child.signalstatus
        how = f", killed by {signal.Signals(killed).name}" if killed else ""
        return f"the shell itself had ended{how}"

    def wait_prompt(self, start: int, command: str = "", timeout: float = 5.0) -> "Command":
        try:
            found = self.expect(self.prompt, timeout, start)
        except TerminalTimeout:
            typed = f"'{command}'" if command else "the command"
            gone = self.shell_gone()
            if gone:
                raise TerminalTimeout(f"the shell never prompted again after {typed}: {gone}") from None
            raise TerminalTimeout(f"the shell did not prompt again within {timeout:g} s after {typed}: "
                                  "it was still running") from None
        return Command(command, self.since(start)[: found.start - start], int(found.groups[1]))


@dataclass
class Command:
    command: str
    output: str
    status: int

    @property
    def lines(self) -> list[str]:
        return [line.rstrip("\r") for line in self.output.split("\n") if line.strip()]
