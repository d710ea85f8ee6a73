"""A class's submissions as handed in: folders laid out like labs/, or .tar.gz/.tgz/.zip archives of one.

Each is copied or unpacked into a private folder before it is graded, taking only folders and regular
files: an archive member that is a link, a device, an absolute path or a path with '..' is refused, and
so are archives that unpack to more than a class's programs could need. A link inside a folder is left
out (it could point at another student's work or at the solutions).
"""
from __future__ import annotations

import hashlib
import os
import re
import shutil
import tarfile
import zipfile
import zlib
from dataclasses import dataclass
from typing import IO, Callable, Iterator, Optional

ARCHIVES = (".tar.gz", ".tgz", ".zip")
MAX_BYTES = 20 << 20  # a whole submission; the labs' sources are a few hundred kilobytes at most
MAX_FILES = 2000
LAB_FOLDER = re.compile(r"^\d\d-[a-z0-9-]+$")
LAB_FILES = (".c", ".service")  # what the labs name: programs, and lab 07's unit file


class Unusable(Exception):
    """A submission that cannot be graded; the message is the reason shown in the gradebook."""


@dataclass(frozen=True)
class Submission:
    name: str  # the gradebook's row: the folder's name, or the archive's without its extension
    path: str

    @property
    def is_archive(self) -> bool:
        return not os.path.isdir(self.path)


def find(folder: str) -> tuple[list[Submission], list[str]]:
    """The submissions in a class folder, by name, and the names of entries that are not one."""
    found: dict[str, Submission] = {}
    ignored = []
    for entry in sorted(os.listdir(folder)):
        path = os.path.join(folder, entry)
        if entry.startswith("."):
            continue
        if os.path.isdir(path):
            name = entry
        elif entry.endswith(ARCHIVES):
            name = next(entry[: -len(ext)] for ext in ARCHIVES if entry.endswith(ext))
        else:
            ignored.append(entry)
            continue
        if name in found:
            ignored.append(f"{entry} (a second submission named '{name}')")
            continue
        found[name] = Submission(name, path)
    return list(found.values()), ignored


def files_of(folder: str) -> Iterator[tuple[str, str]]:
    """(relative path, absolute path) of every regular file below `folder`, links left out."""
    for directory, subfolders, files in os.walk(folder):
        subfolders[:] = sorted(d for d in subfolders if not os.path.islink(os.path.join(directory, d)))
        for name in sorted(files):
            path = os.path.join(directory, name)
            if os.path.isfile(path) and not os.path.islink(path):
                yield os.path.relpath(path, folder), path


def fingerprint(submission: Submission) -> str:
    """A digest of what was handed in, so a batch that resumes regrades only what has changed."""
    digest = hashlib.sha256()
    if submission.is_archive:
        with open(submission.path, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
        return digest.hexdigest()
    for relative, path in files_of(submission.path):
        digest.update(relative.encode() + b"\0")
        with open(path, "rb") as handle:
            digest.update(hashlib.sha256(handle.read()).digest())
    return digest.hexdigest()


def check_member(name: str) -> None:
    parts = name.replace("\\", "/").split("/")
    if name.startswith("/") or ".." in parts:
        raise Unusable(f"the archive holds '{name}', a path outside its own folder")


def check_totals(sizes: list[int]) -> None:
    if len(sizes) > MAX_FILES:
        raise Unusable(f"the archive holds {len(sizes)} files; a submission has at most {MAX_FILES}")
    if sum(sizes) > MAX_BYTES:
        raise Unusable(f"the archive unpacks to {sum(sizes) >> 20} MiB; a submission is at most "
                       f"{MAX_BYTES >> 20} MiB")


Member = tuple[str, bool, Callable[[], Optional[IO[bytes]]]]  # name, is a folder, how to read it


def write_members(into: str, members: list[Member]) -> None:
    """Writes checked archive members below `into`."""
    for name, is_folder, contents in members:
        target = os.path.join(into, name)
        if is_folder:
            os.makedirs(target, exist_ok=True)
            continue
        os.makedirs(os.path.dirname(target), exist_ok=True)
        source = contents()
        if source is None:
            raise Unusable(f"'{name}' in the archive has no contents")
        with source, open(target, "wb") as handle:
            shutil.copyfileobj(source, handle)


def unpack_tar(path: str, into: str) -> None:
    with tarfile.open(path, "r:gz") as archive:
        members = archive.getmembers()
        for member in members:
            check_member(member.name)
            if not (member.isfile() or member.isdir()):
                raise Unusable(f"the archive holds '{member.name}', which is not a file or a folder "
                               "(links are not accepted)")
        check_totals([m.size for m in members if m.isfile()])
        write_members(into, [(m.name, m.isdir(), lambda m=m: archive.extractfile(m)) for m in members])


def unpack_zip(path: str, into: str) -> None:
    with zipfile.ZipFile(path) as archive:
        members = archive.infolist()
        for member in members:
            check_member(member.filename)
            kind = (member.external_attr >> 16) & 0o170000
            if kind not in (0, 0o100000, 0o040000):
                raise Unusable(f"the archive holds '{member.filename}', which is not a file or a folder "
                               "(links are not accepted)")
        check_totals([m.file_size for m in members if not m.is_dir()])
        write_members(into, [(m.filename, m.is_dir(), lambda m=m: archive.open(m)) for m in members])


def copy_folder(source: str, into: str) -> None:
    found = list(files_of(source))
    check_totals([os.path.getsize(path) for _, path in found])
    for relative, path in found:
        target = os.path.join(into, relative)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        shutil.copyfile(path, target)


def holds_labs(path: str) -> bool:
    """Lab folders (01-process-groups/), or a lab's files loose at the top (pgid_demo.c), which the
    build also accepts."""
    for entry in os.listdir(path):
        full = os.path.join(path, entry)
        if (LAB_FOLDER.match(entry) and os.path.isdir(full)) or (entry.endswith(LAB_FILES) and os.path.isfile(full)):
            return True
    return False


def lab_root(folder: str) -> str:
    """Where the labs are: at the top, or inside the one folder an archive of 'labs/' or 'alice/'
    has at its top."""
    if holds_labs(folder):
        return folder
    entries = [e for e in os.listdir(folder) if not e.startswith(".") and e != "__MACOSX"]
    if len(entries) == 1 and os.path.isdir(os.path.join(folder, entries[0])) \
            and holds_labs(os.path.join(folder, entries[0])):
        return os.path.join(folder, entries[0])
    raise Unusable("no lab folders (such as 01-process-groups/) nor lab files (such as pgid_demo.c) in it")


def prepare(submission: Submission, into: str) -> str:
    """Copies or unpacks `submission` into the empty folder `into`; returns its lab root."""
    try:
        if not submission.is_archive:
            copy_folder(submission.path, into)
        elif submission.path.endswith(".zip"):
            unpack_zip(submission.path, into)
        else:
            unpack_tar(submission.path, into)
    except (tarfile.TarError, zipfile.BadZipFile, zlib.error, EOFError, OSError) as error:
        raise Unusable(f"it cannot be unpacked: {error}") from None
    return lab_root(into)
