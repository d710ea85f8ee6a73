"""The grader's side of labs/common/checkpoint.c.

A lab program calls checkpoint("name"); the helper connects to this server's Unix socket, sends the name
and blocks until it reads one byte back. The server learns the caller's PID from the kernel
(SO_PEERCRED), reads /proc while the caller is blocked, and then releases it, at once or, for the names a
check asked to hold, when the check says so.
"""
from __future__ import annotations

import os
import selectors
import socket
import struct
import threading
import time
from dataclasses import dataclass, field
from typing import Callable, Optional

from grader import procfs, sessiontree

SOCKET_VARIABLE = "PROCGROUP_CHECKPOINT_SOCKET"
MAX_NAME = 64


class CheckpointNeverReached(Exception):
    """A checkpoint a check waited for did not come before its deadline."""

    def __init__(self, name: str, timeout: float, why: str = "") -> None:
        self.name = name
        detail = f" ({why})" if why else f" within {timeout:g} s"
        super().__init__(f"checkpoint '{name}' never reached{detail}")


@dataclass
class Arrival:
    """One call of checkpoint(): who called, and what /proc said while it was held."""

    name: str
    pid: int
    stat: Optional[procfs.Stat]
    status: Optional[procfs.Status]
    order: int
    fds: dict[int, str] = field(default_factory=dict)  # open descriptors at the checkpoint
    terminals: dict[str, int] = field(default_factory=dict)  # terminals open then: path -> tty_nr
    tree: str = ""  # the caller's session (and its parent's) drawn while the caller was held
    _connection: Optional[socket.socket] = field(default=None, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def held(self) -> bool:
        return self._connection is not None

    def release(self) -> None:
        """Lets the process go on (a no-op once released, or if it has died meanwhile)."""
        with self._lock:
            connection, self._connection = self._connection, None
        if connection is not None:
            try:
                connection.send(b"!", socket.MSG_NOSIGNAL)
            except OSError:
                pass
            connection.close()


def peer_pid(connection: socket.socket) -> int:
    """The PID of the process on the other end, as the kernel recorded it at connect()."""
    credentials = connection.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
    pid, _uid, _gid = struct.unpack("3i", credentials)
    return pid


def parent_session(stat: procfs.Stat) -> set[int]:
    """The session of a checkpoint caller's parent, worth drawing next to the caller's (a child that
    called setsid() left its parent's session): empty when that parent is the grader itself, as for
    a lab program run directly on a pty, or one adopted by the grader as a subreaper."""
    parent = procfs.try_stat(stat.ppid)
    if parent is None or parent.sid <= 0 or parent.sid == os.getsid(0):
        return set()
    return {parent.sid}


class CheckpointServer:
    """Listens on a Unix socket in `directory`; a background thread serves the lab programs."""

    def __init__(self, directory: str) -> None:
        self.path = os.path.join(directory, "checkpoint.sock")
        self._listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM | socket.SOCK_CLOEXEC)
        self._listener.bind(self.path)
        os.chmod(self.path, 0o777)  # lab programs may run as another user than the grader
        self._listener.listen(64)
        self._listener.setblocking(False)
        self._hold: set[str] = set()
        self._arrivals: list[Arrival] = []
        self._taken: set[int] = set()
        self._changed = threading.Condition()
        self._wake_reader, self._wake_writer = os.pipe2(os.O_CLOEXEC | os.O_NONBLOCK)
        self._closing = False
        self._thread = threading.Thread(target=self._serve, name="checkpoint-server", daemon=True)
        self._thread.start()

    # -- what checks call -------------------------------------------------------------------------

    @property
    def environment(self) -> dict[str, str]:
        return {SOCKET_VARIABLE: self.path}

    def hold(self, *names: str) -> None:
        """From now on, processes arriving at these checkpoints wait until their Arrival is released."""
        with self._changed:
            self._hold.update(names)

    def arrivals(self, name: Optional[str] = None) -> list[Arrival]:
        with self._changed:
            return [a for a in self._arrivals if name is None or a.name == name]

    def wait(
        self,
        name: str,
        timeout: float = 10.0,
        pid: Optional[int] = None,
        give_up: Optional[Callable[[], Optional[str]]] = None,
    ) -> Arrival:
        """The next arrival at `name` (from `pid`, if given) that no earlier wait() returned.

        `give_up` is asked now and then; when it returns a reason (say, "the program exited"), the
        wait ends at once with CheckpointNeverReached carrying that reason instead of running out
        its deadline.
        """
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                for arrival in self._arrivals:
                    if arrival.order in self._taken or arrival.name != name:
                        continue
                    if pid is not None and arrival.pid != pid:
                        continue
                    self._taken.add(arrival.order)
                    return arrival
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise CheckpointNeverReached(name, timeout)
                if give_up is not None:
                    reason = give_up()
                    if reason:
                        raise CheckpointNeverReached(name, timeout, reason)
                    remaining = min(remaining, 0.02)
                self._changed.wait(remaining)

    def close(self) -> None:
        """Releases every held process and stops serving."""
        self._closing = True
        os.write(self._wake_writer, b"x")
        self._thread.join(timeout=5)
        with self._changed:
            for arrival in self._arrivals:
                arrival.release()
        self._listener.close()
        os.close(self._wake_reader)
        os.close(self._wake_writer)
        try:
            os.unlink(self.path)
        except FileNotFoundError:
            pass

    # -- the serving thread -----------------------------------------------------------------------

    def _serve(self) -> None:
        selector = selectors.DefaultSelector()
        selector.register(self._listener, selectors.EVENT_READ, None)
        selector.register(self._wake_reader, selectors.EVENT_READ, "wake")
        pending: dict[socket.socket, bytes] = {}
        while not self._closing:
            for key, _ in selector.select():
                if key.data == "wake":
                    continue
                if key.fileobj is self._listener:
                    self._accept(selector, pending)
                else:
                    self._read_name(selector, pending, key.fileobj)  # type: ignore[arg-type]
        for connection in pending:
            connection.close()
        selector.close()

    def _accept(self, selector: selectors.BaseSelector, pending: dict[socket.socket, bytes]) -> None:
        while True:
            try:
                connection, _ = self._listener.accept()
            except BlockingIOError:
                return
            connection.setblocking(False)
            pending[connection] = b""
            selector.register(connection, selectors.EVENT_READ, "client")

    def _read_name(
        self, selector: selectors.BaseSelector, pending: dict[socket.socket, bytes], connection: socket.socket
    ) -> None:
        try:
            chunk = connection.recv(256)
        except BlockingIOError:
            return
        except OSError:
            chunk = b""
        buffered = pending[connection] + chunk
        if chunk and b"\n" not in buffered and len(buffered) <= MAX_NAME:
            pending[connection] = buffered
            return
        selector.unregister(connection)
        del pending[connection]
        if not chunk and not buffered:
            connection.close()  # connected and went away without a name
            return
        name = buffered.split(b"\n", 1)[0][:MAX_NAME].decode("utf-8", "replace")
        self._arrive(name, connection)

    def _arrive(self, name: str, connection: socket.socket) -> None:
        connection.setblocking(True)
        pid = peer_pid(connection)
        # The caller is blocked in read() now: what /proc says is the state at the checkpoint.
        try:
            stat: Optional[procfs.Stat] = procfs.stat(pid)
            status: Optional[procfs.Status] = procfs.status(pid)
            fds = procfs.open_fds(pid)
            terminals = procfs.open_terminals(pid)
        except procfs.ProcessGone:
            stat, status, fds, terminals = None, None, {}, {}
        tree = ""
        if stat is not None:
            tree = sessiontree.draw_sessions({stat.sid} | parent_session(stat))
        with self._changed:
            arrival = Arrival(name, pid, stat, status, order=len(self._arrivals), fds=fds,
                              terminals=terminals, tree=tree,
                              _connection=connection)
            self._arrivals.append(arrival)
            held = name in self._hold
            self._changed.notify_all()
        if not held:
            arrival.release()
