"""The grader's service-manager side (lab 07): the notify socket and the unit-file reader, which must
judge the unit the same way whether or not systemd-analyze is installed."""
from __future__ import annotations

import glob
import os
import socket
import tomllib

import pytest

from grader import servicemanager
from grader.build import ROOT
from grader.servicemanager import NotifySocket, systemd_verify, unit_problems

SOLUTION_UNIT = os.path.join(ROOT, "solutions", "07-service", "myservice.service")


def read(path: str) -> str:
    with open(path, encoding="utf-8") as handle:
        return handle.read()


@pytest.mark.parametrize("abstract", [False, True], ids=["file", "abstract"])
def test_notify_socket_learns_the_sender_from_the_kernel(tmp_path, abstract: bool) -> None:
    notify = NotifySocket(None if abstract else str(tmp_path))
    try:
        sender = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        target = "\0" + notify.address[1:] if abstract else notify.address
        sender.sendto(b"RELOADING=1\nMONOTONIC_USEC=12", target)
        sender.sendto(b"READY=1", target)
        ready = notify.wait("READY", timeout=5)
        assert ready is not None and ready.pid == os.getpid()
        assert [m.fields for m in notify.flush()] == [{"RELOADING": "1", "MONOTONIC_USEC": "12"}, {"READY": "1"}]
        assert notify.wait("STOPPING", timeout=0) is None
    finally:
        notify.close()


def test_solution_unit_has_no_problems() -> None:
    assert unit_problems(read(SOLUTION_UNIT), "myservice") == []


@pytest.mark.parametrize("folder", sorted(glob.glob(os.path.join(ROOT, "grader", "mutants", "07-service", "unit-*"))),
                         ids=os.path.basename)
def test_wrong_units_are_caught_without_systemd(folder: str, monkeypatch, tmp_path) -> None:
    with open(os.path.join(folder, "MUTANT.toml"), "rb") as handle:
        message = tomllib.load(handle)["message"]
    text = read(os.path.join(folder, "myservice.service"))
    monkeypatch.setattr(servicemanager.shutil, "which", lambda name: None)
    assert systemd_verify(text, "/bin/true", str(tmp_path), "myservice.service") is None
    assert any(message in problem for problem in unit_problems(text, "myservice"))


def test_unit_reader_follows_systemd_syntax() -> None:
    text = ("[Service]\n; a comment\nType=simple\nType=notify\nExecStart=-/opt/bin/myservice \\\n  -i 5\n"
            "ExecReload=/bin/kill -s HUP ${MAINPID}\nRestart=on-failure\n")
    assert unit_problems(text, "myservice") == []
    assert unit_problems(text.replace("[Service]", "[Unit]"), "myservice")
