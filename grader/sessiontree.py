"""Draws sessions as the labs teach them: session -> process groups -> processes.

    session 3802 (leader 3802 bash), terminal pts/3
    ├── group 3802
    │   └── 3802 bash  [S sleeping]  ppid 3800
    └── group 3803  <- foreground
        ├── 3803 pgid_demo  [S sleeping]  ppid 3802
        └── 3804 pgid_demo  [Z zombie]  ppid 3803
"""
from __future__ import annotations

from typing import Iterable, Optional

from grader import procfs

STATES = {
    "R": "running", "S": "sleeping", "D": "disk wait", "T": "stopped", "t": "traced",
    "Z": "zombie", "X": "dead", "I": "idle",
}


def describe_state(state: str) -> str:
    return f"{state} {STATES.get(state, '?')}"


def draw_session(sid: int, stats: list[procfs.Stat], foreground: Optional[int] = None) -> str:
    members = sorted((s for s in stats if s.sid == sid), key=lambda s: (s.pgid, s.pid))
    if not members:
        return f"session {sid}: no processes left"
    leader = next((s for s in members if s.pid == sid), None)
    with_terminal = [s for s in members if s.has_terminal]
    if foreground is None and with_terminal:
        foreground = with_terminal[0].tpgid
    title = f"session {sid}"
    title += f" (leader {leader.pid} {leader.comm})" if leader else " (its leader has exited)"
    title += f", terminal {with_terminal[0].terminal}" if with_terminal else ", no controlling terminal"
    lines = [title]
    groups = sorted({s.pgid for s in members})
    for group_index, pgid in enumerate(groups):
        last_group = group_index == len(groups) - 1
        mark = "  <- foreground" if with_terminal and pgid == foreground else ""
        lines.append(f"{'└──' if last_group else '├──'} group {pgid}{mark}")
        processes = [s for s in members if s.pgid == pgid]
        for index, process in enumerate(processes):
            branch = "└──" if index == len(processes) - 1 else "├──"
            indent = "    " if last_group else "│   "
            lines.append(
                f"{indent}{branch} {process.pid} {process.comm}  [{describe_state(process.state)}]"
                f"  ppid {process.ppid}"
            )
    return "\n".join(lines)


def draw_sessions(sids: Iterable[int], foreground: Optional[dict[int, int]] = None) -> str:
    stats = procfs.all_stats()
    foreground = foreground or {}
    return "\n".join(draw_session(sid, stats, foreground.get(sid)) for sid in sorted(set(sids)))


def sessions_below(ancestor: int) -> list[int]:
    """The sessions of every process below `ancestor` (for the grader: everything a check started)."""
    return sorted({s.sid for s in procfs.descendants(ancestor)})
