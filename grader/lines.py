"""Reading the NAME=value lines lab programs print (`Parent: PID=5000  PGID=5000  SID=4900`)."""
from __future__ import annotations

import re
from typing import Optional

PAIR = re.compile(r"\b([A-Za-z_]+)=(-?\d+)")


def values(line: str) -> dict[str, int]:
    """{'PID': 5000, 'PGID': 5000, 'SID': 4900} for the line above (names upper-cased)."""
    return {name.upper(): int(number) for name, number in PAIR.findall(line)}


def labelled(lines: list[str], label: str) -> list[str]:
    """The lines that start with `label` (after leading spaces), in order."""
    return [line for line in lines if line.lstrip().startswith(label)]


def first_labelled(lines: list[str], label: str) -> Optional[str]:
    found = labelled(lines, label)
    return found[0] if found else None


def mismatches(line: str, truth: dict[str, int]) -> list[str]:
    """What a printed line got wrong, compared with the kernel's values ('PGID=5000, kernel: 5001')."""
    printed = values(line)
    wrong = []
    for name, real in truth.items():
        if name not in printed:
            wrong.append(f"{name} missing")
        elif printed[name] != real:
            wrong.append(f"{name}={printed[name]} but the kernel says {real}")
    return wrong
