"""The /proc reader: the grader's only source of truth about processes."""
from __future__ import annotations

import os
import subprocess

from grader import procfs


def test_comm_with_spaces_and_parentheses() -> None:
    text = "4242 (my (odd) prog) ) S 4241 4240 4239 34817 4240 4194560 0 0 0 0 0 0 0 0 20 0 1 0"
    stat = procfs.parse_stat(text)
    assert stat.comm == "my (odd) prog) "
    assert (stat.pid, stat.state, stat.ppid, stat.pgid, stat.sid) == (4242, "S", 4241, 4240, 4239)
    assert (stat.tty_nr, stat.tpgid) == (34817, 4240)
    assert stat.terminal == "pts/1"


def test_no_controlling_terminal() -> None:
    stat = procfs.parse_stat("7 (daemon) S 1 7 7 0 -1 0")
    assert not stat.has_terminal and stat.tpgid == -1 and stat.terminal == "none"
    assert stat.is_group_leader and stat.is_session_leader


def test_terminal_names() -> None:
    assert procfs.terminal_name(0) == "none"
    assert procfs.terminal_name((136 << 8) | 3) == "pts/3"
    assert procfs.terminal_name((137 << 8) | 4) == "pts/260"  # second pts major
    assert procfs.terminal_name((4 << 8) | 1) == "dev 4:1"
    assert procfs.terminal_name((136 << 8) | (300 & 0xFF) | ((300 & ~0xFF) << 12)) == "pts/300"


def test_status_fields() -> None:
    text = "Name:\tx\nUmask:\t0022\nPPid:\t1\nSigBlk:\t0000000000010000\nSigIgn:\t0000000000000001\n" \
           "SigCgt:\t0000000000004002\n"
    status = procfs.parse_status(text)
    assert status.umask == 0o22 and status.ppid == 1
    assert status.ignores(1) and not status.ignores(2)  # SIGHUP is bit 0
    assert status.blocks(17) and status.catches(2) and status.catches(15)


def test_reads_a_real_process_with_an_odd_name(tmp_path) -> None:
    odd = tmp_path / "a b) c"
    os.symlink("/bin/sleep", odd)
    process = subprocess.Popen([str(odd), "30"])
    try:
        stat = procfs.stat(process.pid)
        assert stat.comm == "a b) c" and stat.ppid == os.getpid()
        assert procfs.status(process.pid).ppid == os.getpid()
        assert process.pid in {s.pid for s in procfs.descendants(os.getpid())}
        assert procfs.cwd(process.pid) == os.getcwd()
        assert 0 in procfs.open_fds(process.pid)
    finally:
        process.kill()
        process.wait()


def test_gone_process() -> None:
    process = subprocess.Popen(["/bin/true"])
    process.wait()
    assert procfs.try_stat(process.pid) is None


def test_locks_held_and_waiting() -> None:
    text = ("1: POSIX  ADVISORY  WRITE 4242 fe:00:1234 0 EOF\n"
            "1: -> POSIX  ADVISORY  WRITE 4243 fe:00:1234 0 EOF\n"
            "2: FLOCK  ADVISORY  WRITE 4244 00:2b:99 0 EOF\n")
    locks = procfs.parse_locks(text)
    assert [(lock.kind, lock.pid, lock.inode, lock.device) for lock in locks] == [
        ("POSIX", 4242, 1234, "fe:00"), ("FLOCK", 4244, 99, "00:2b")]


def test_a_real_lock_is_seen_on_its_file(tmp_path) -> None:
    import fcntl

    path = tmp_path / "pidfile"
    with open(path, "w") as handle:
        fcntl.lockf(handle, fcntl.LOCK_EX)
        mine = [lock for lock in procfs.locks() if lock.pid == os.getpid() and lock.is_on(str(path))]
        assert [(lock.kind, lock.access) for lock in mine] == [("POSIX", "WRITE")]
