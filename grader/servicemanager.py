"""The grader as a service manager: the sd_notify socket, and a reader for unit files.

A service under systemd sends datagrams such as "READY=1" to the socket named by $NOTIFY_SOCKET: a
file system path, or an abstract name written with a leading '@'. The manager learns the sender's PID
from the kernel (SO_PASSCRED makes every datagram carry SCM_CREDENTIALS), never from the message, and
by default believes only the service's main PID. NotifySocket does the same, so a check can say which
process sent what, and in which order.
"""
from __future__ import annotations

import itertools
import os
import re
import select
import shutil
import socket
import struct
import subprocess
import time
from dataclasses import dataclass
from typing import Callable, Optional

_names = itertools.count()


@dataclass(frozen=True)
class Notification:
    """One datagram: its KEY=value lines, and the sender's PID as the kernel gave it."""

    fields: dict[str, str]
    pid: Optional[int]  # 0 if the sender had already gone when it was read
    order: int
    raw: str

    def says(self, key: str, value: str = "1") -> bool:
        return self.fields.get(key) == value

    def __str__(self) -> str:
        return " ".join(self.raw.split("\n")) + f" (from PID {self.pid})"


class NotifySocket:
    """A datagram socket a service can notify. It is read when a check asks, never in the
    background: a datagram sent before a checkpoint call is in the socket's queue by the time
    the grader sees the arrival, so `flush()` there says for certain what the service sent.

    `directory`: bind to DIRECTORY/notify.sock (open to every user: lab programs may run as another
    user); None: an abstract name, passed to the service as '@name'.
    """

    def __init__(self, directory: Optional[str] = None) -> None:
        self._socket = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC | socket.SOCK_NONBLOCK)
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
        self.path: Optional[str] = None
        if directory is None:
            name = f"procgroup-notify-{os.getpid()}-{next(_names)}-{time.monotonic_ns()}"
            self._socket.bind("\0" + name)
            self.address = "@" + name
        else:
            self.path = os.path.join(directory, f"notify{next(_names)}.sock")
            self._socket.bind(self.path)
            os.chmod(self.path, 0o777)
            self.address = self.path
        self.messages: list[Notification] = []
        self._taken: set[int] = set()
        self.closed = False

    @property
    def environment(self) -> dict[str, str]:
        return {"NOTIFY_SOCKET": self.address}

    def flush(self) -> list[Notification]:
        """Reads every datagram already queued; returns all received so far, in order."""
        room = socket.CMSG_SPACE(struct.calcsize("3i"))
        while not self.closed:
            try:
                data, ancillary, _, _ = self._socket.recvmsg(4096, room)
            except (BlockingIOError, InterruptedError):
                break
            pid = None
            for level, kind, payload in ancillary:
                if level == socket.SOL_SOCKET and kind == socket.SCM_CREDENTIALS:
                    pid = struct.unpack("3i", payload[: struct.calcsize("3i")])[0]
            text = data.decode("utf-8", "replace")
            fields = {}
            for line in text.split("\n"):
                key, equals, value = line.partition("=")
                if equals:
                    fields[key.strip()] = value.strip()
            self.messages.append(Notification(fields, pid, len(self.messages), text))
        return list(self.messages)

    def wait(
        self,
        key: str,
        value: str = "1",
        timeout: float = 10.0,
        give_up: Optional[Callable[[], Optional[str]]] = None,
    ) -> Optional[Notification]:
        """The next datagram saying KEY=value that no earlier wait() returned; None at the deadline,
        or as soon as `give_up` gives a reason (the service ended)."""
        deadline = time.monotonic() + timeout
        while True:
            for message in self.flush():
                if message.order not in self._taken and message.says(key, value):
                    self._taken.add(message.order)
                    return message
            remaining = deadline - time.monotonic()
            if remaining <= 0 or (give_up is not None and give_up()):
                return None
            select.select([self._socket], [], [], min(remaining, 0.02))

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        self._socket.close()
        if self.path is not None:
            try:
                os.unlink(self.path)
            except FileNotFoundError:
                pass


# -- unit files -----------------------------------------------------------------------------------


def parse_unit(text: str) -> dict[tuple[str, str], list[str]]:
    """A systemd unit file as (section, key) -> values in order (systemd's syntax: sections,
    Key=Value, '#' and ';' comments, a trailing backslash continues the line)."""
    entries: dict[tuple[str, str], list[str]] = {}
    section = ""
    pending = ""
    for raw in text.splitlines():
        line = pending + raw.strip()
        pending = ""
        if line.endswith("\\"):
            pending = line[:-1] + " "
            continue
        if not line or line[0] in "#;":
            continue
        if line.startswith("[") and line.endswith("]"):
            section = line[1:-1].strip()
            continue
        key, equals, value = line.partition("=")
        if equals:
            entries.setdefault((section, key.strip()), []).append(value.strip())
    return entries


HUP_SIGNAL = re.compile(r"(^|\s)(-HUP|-SIGHUP|-1|-s\s*(SIG)?HUP|--signal[= ](SIG)?HUP)(\s|$)")


def unit_problems(text: str, program: str) -> list[str]:
    """What a lab 07 unit file gets wrong, one entry per key, read from its [Service] section."""
    entries = parse_unit(text)

    def last(key: str) -> Optional[str]:
        values = entries.get(("Service", key))
        return values[-1] if values else None

    problems = []
    kind = last("Type")
    if kind != "notify":
        problems.append(f"Type=notify in [Service] (observed: {'Type=' + kind if kind else 'no Type='})")
    start = last("ExecStart") or ""
    command = start.lstrip("@-:+!").split()
    if not command or not command[0].startswith("/") or os.path.basename(command[0]) != program:
        problems.append(f"ExecStart= an absolute path to {program} (observed: ExecStart={start})")
    reload = last("ExecReload") or ""
    if "$MAINPID" not in reload and "${MAINPID}" not in reload or not HUP_SIGNAL.search(reload):
        problems.append("ExecReload= that sends SIGHUP to $MAINPID, e.g. /bin/kill -HUP $MAINPID "
                        f"(observed: {'ExecReload=' + reload if reload else 'no ExecReload='})")
    restart = last("Restart")
    if restart != "on-failure":
        problems.append(f"Restart=on-failure (observed: {'Restart=' + restart if restart else 'no Restart='})")
    return problems


def systemd_verify(text: str, binary: str, directory: str, name: str) -> Optional[str]:
    """What `systemd-analyze verify` says about the unit, with ExecStart's program replaced by the
    built binary (the unit names where it would be installed); None if the tool is not installed
    or has nothing to say."""
    tool = shutil.which("systemd-analyze")
    if tool is None:
        return None
    copy = os.path.join(directory, name)
    with open(copy, "w", encoding="utf-8") as handle:
        handle.write(re.sub(r"^(\s*ExecStart\s*=\s*[@\-:+!]*)\S+", lambda m: m.group(1) + binary, text,
                            flags=re.M))
    try:
        finished = subprocess.run([tool, "verify", copy], capture_output=True, text=True, timeout=20,
                                  stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        return "systemd-analyze verify did not finish within 20 s"
    said = (finished.stderr + finished.stdout).strip().replace(copy, name)
    if finished.returncode != 0 or finished.stderr.strip():
        return said or f"systemd-analyze verify exited with status {finished.returncode}"
    return None
