"""The checkpoint helper (labs/common/checkpoint.c) and the grader's server for it, end to end."""
from __future__ import annotations

import os
import subprocess

import pytest

from grader.checkpoints import CheckpointNeverReached, CheckpointServer
from grader.build import ROOT

CLIENT = r"""
#include "checkpoint.h"
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
int main(int argc, char **argv)
{
    int fds = 0;
    errno = 42;
    checkpoint(argc > 1 ? argv[1] : "start");
    int kept = errno;
    DIR *dir = opendir("/proc/self/fd");
    while (dir != NULL && readdir(dir) != NULL)
        fds++;
    printf("errno=%d fds=%d\n", kept, fds - 2); /* less "." and ".." */
    return 0;
}
"""


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> str:
    folder = tmp_path_factory.mktemp("client")
    source, binary = folder / "client.c", folder / "client"
    source.write_text(CLIENT)
    subprocess.run(["make", "-s", "-C", ROOT, "program", f"SRC={source}", f"OUT={binary}"], check=True)
    return str(binary)


@pytest.fixture
def server(tmp_path) -> CheckpointServer:
    server = CheckpointServer(str(tmp_path))
    yield server
    server.close()


def run(client: str, name: str, env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen([client, name], env={"PATH": "/usr/bin:/bin", **env}, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def test_learns_the_pid_from_the_kernel_and_holds(client: str, server: CheckpointServer) -> None:
    server.hold("held")
    process = run(client, "held", server.environment)
    arrival = server.wait("held", timeout=10)
    assert arrival.pid == process.pid
    assert arrival.stat is not None and arrival.stat.pid == process.pid and arrival.stat.ppid == os.getpid()
    assert "client" in arrival.tree
    with pytest.raises(subprocess.TimeoutExpired):
        process.wait(timeout=0.2)  # still held: it cannot have exited
    arrival.release()
    out, _ = process.communicate(timeout=10)
    assert process.returncode == 0
    assert out == "errno=42 fds=4\n"  # errno kept; 0-2 and the directory: the socket is closed


def test_tree_leaves_out_the_graders_own_session(client: str, server: CheckpointServer) -> None:
    # A lab program started directly on a pty (lab 05's shell) is the grader's child in a session of
    # its own: its tree shows that session, and not the grader's processes.
    server.hold("held")
    process = subprocess.Popen([client, "held"], env={"PATH": "/usr/bin:/bin", **server.environment}, text=True,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
    arrival = server.wait("held", timeout=10)
    try:
        assert f"session {process.pid}" in arrival.tree and "client" in arrival.tree, arrival.tree
        assert f"session {os.getsid(0)} " not in arrival.tree, arrival.tree
    finally:
        arrival.release()
        process.communicate(timeout=10)


def test_not_held_names_go_on_at_once(client: str, server: CheckpointServer) -> None:
    process = run(client, "passing", server.environment)
    out, _ = process.communicate(timeout=10)
    assert out == "errno=42 fds=4\n"
    assert [a.name for a in server.arrivals()] == ["passing"]


def test_a_checkpoint_that_never_comes(server: CheckpointServer) -> None:
    with pytest.raises(CheckpointNeverReached, match="checkpoint 'after-setpgid' never reached"):
        server.wait("after-setpgid", timeout=0.1)
    with pytest.raises(CheckpointNeverReached, match=r"never reached \(the program had already ended\)"):
        server.wait("after-setpgid", timeout=10, give_up=lambda: "the program had already ended")


def test_each_wait_takes_the_next_arrival(client: str, server: CheckpointServer) -> None:
    first = run(client, "tick", server.environment)
    first.communicate(timeout=10)
    second = run(client, "tick", server.environment)
    second.communicate(timeout=10)
    assert server.wait("tick").pid == first.pid
    assert server.wait("tick").pid == second.pid


def test_outside_the_grader_it_does_nothing(client: str) -> None:
    process = run(client, "quiet", {})
    out, err = process.communicate(timeout=10)
    assert (out, err, process.returncode) == ("errno=42 fds=4\n", "", 0)


def test_grader_gone_changes_nothing(client: str, tmp_path) -> None:
    process = run(client, "alone", {"PROCGROUP_CHECKPOINT_SOCKET": str(tmp_path / "no-such.sock")})
    out, err = process.communicate(timeout=10)
    assert (out, err, process.returncode) == ("errno=42 fds=4\n", "", 0)


def test_grader_dies_while_holding(client: str, tmp_path) -> None:
    server = CheckpointServer(str(tmp_path))
    server.hold("held")
    process = run(client, "held", server.environment)
    server.wait("held", timeout=10)
    server.close()  # closing releases; the helper must return either way
    out, _ = process.communicate(timeout=10)
    assert out == "errno=42 fds=4\n" and process.returncode == 0


def test_trace_mode_prints_the_kernel_view(client: str) -> None:
    process = run(client, "seen", {"PROCGROUP_TRACE": "1"})
    out, err = process.communicate(timeout=10)
    assert out == "errno=42 fds=4\n"
    expected = f"[checkpoint seen] pid={process.pid} ppid={os.getpid()} pgid={os.getpgrp()} sid={os.getsid(0)}"
    assert err.startswith(expected), err
    assert "tty=" in err and "tpgid=" in err
