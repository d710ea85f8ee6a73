"""python -m grader.batch SUBMISSIONS OUT [--lab NN ...] [--jobs N] [--timeout S]: grade a whole class.

SUBMISSIONS holds one submission per student: a folder laid out like labs/, or a .tar.gz/.tgz/.zip of
one. Each is copied or unpacked into a private folder and graded there by its own grader process (its
own build, its own user ID when run as root), as many at once as the machine has cores. OUT gets:

  gradebook.csv          a row per submission: score per lab, total, possible, and any problem
  summary.txt            the class: per-lab means, the checks missed most, every check's pass rate
  check-rates.csv        the pass rates again, for a spreadsheet
  feedback/NAME.txt      what that student would see from `make grade`
  feedback/NAME.json     the same as Gradescope's results.json
  records/NAME.json      what the batch knows of NAME; a batch run again skips what is recorded there
                         for the same submission, labs and grader, so an interrupted batch resumes

A submission that cannot be unpacked, holds no lab folders, or whose grading runs past its time limit
gets its row with the reason, and the batch goes on.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import signal
import sys
import tempfile
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from typing import Optional

from grader import classreport, cli, containment, procfs, submissions
from grader.build import ROOT
from grader.classreport import Record
from grader.gradings import GradingFailed, grade
from grader.report import write_atomically


def grader_digest() -> str:
    """Changes whenever the grader or a lab's check changes: records made by another grader are stale."""
    digest = hashlib.sha256()
    for folder in (os.path.join(ROOT, "grader"), os.path.join(ROOT, "grader", "checks")):
        for name in sorted(os.listdir(folder)):
            if name.endswith(".py"):
                with open(os.path.join(folder, name), "rb") as handle:
                    digest.update(name.encode() + handle.read())
    return digest.hexdigest()[:16]


class Batch:
    def __init__(self, out: str, labs: list[str], timeout: float) -> None:
        self.out = out
        self.labs = labs
        self.timeout = timeout
        self.stopping = threading.Event()
        for folder in ("feedback", "records"):
            os.makedirs(os.path.join(out, folder), exist_ok=True)
        if os.geteuid() == 0:
            containment.shut_out_others(out)  # students' programs run as other users meanwhile

    def path(self, folder: str, name: str, ext: str) -> str:
        return os.path.join(self.out, folder, f"{name}.{ext}")

    def recorded(self, name: str, fingerprint: str) -> Optional[Record]:
        """The record of an earlier run for exactly this submission, labs and grader, if any."""
        try:
            with open(self.path("records", name, "json"), encoding="utf-8") as handle:
                record = classreport.parse(json.load(handle))
        except (OSError, ValueError):
            return None
        if record is None or record.fingerprint != fingerprint or record.labs != self.labs:
            return None
        return record

    def save(self, record: Record) -> None:
        write_atomically(self.path("records", record.submission, "json"),
                         json.dumps(vars(record), indent=1) + "\n")

    def grade_one(self, submission: submissions.Submission, fingerprint: str) -> Optional[Record]:
        """Grades one submission in a private copy; None if the batch was stopped meanwhile."""
        record = Record(submission.name, fingerprint, self.labs)
        feedback = self.path("feedback", submission.name, "txt")
        with tempfile.TemporaryDirectory(prefix="procgroup-submission-") as copy:
            try:
                tree = submissions.prepare(submission, copy)
                result = grade(tree, self.labs, results_copy=self.path("feedback", submission.name, "json"),
                               timeout=self.timeout)
            except (submissions.Unusable, GradingFailed) as error:
                if self.stopping.is_set():
                    return None
                record.problem = f"not graded: {error}".split("\n")[0]
                write_atomically(feedback, f"This submission was not graded: {error}\n")
                return record
        if self.stopping.is_set():
            return None
        write_atomically(feedback, result.stdout.rstrip() + "\n")
        record.tests, record.seconds = result.tests, round(result.seconds, 2)
        if result.exit_status not in (0, 1):
            record.problem = f"the grader ended with status {result.exit_status}; see feedback/{submission.name}.txt"
        else:
            record.problem = build_problems(result.tests)
        return record

    def stop(self) -> None:
        """Stops the gradings under way: each grader, on SIGTERM, kills its lab programs and exits."""
        self.stopping.set()
        for child in (s for s in procfs.all_stats() if s.ppid == os.getpid()):
            try:
                os.kill(child.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass

    def write_reports(self, records: list[Record]) -> None:
        write_atomically(os.path.join(self.out, "gradebook.csv"), classreport.gradebook(records))
        write_atomically(os.path.join(self.out, "summary.txt"), classreport.summary(records))
        write_atomically(os.path.join(self.out, "check-rates.csv"), classreport.rates_csv(records))


def build_problems(tests: list[dict]) -> str:
    """The labs whose programs are missing or do not compile, for the gradebook's problem column."""
    problems = []
    for test in tests:
        if test["tags"][1] == "test_compiles" and test["status"] != "passed":
            why = "does not compile" if "did not compile" in test["output"] else "files missing"
            problems.append(f"{test['tags'][0]}: {why}")
    return "; ".join(problems)


class Progress:
    """One line per finished submission: done/total, time so far and an estimate of what is left."""

    def __init__(self, total: int) -> None:
        self.total = total
        self.done = 0
        self.started = time.monotonic()

    def finished(self, record: Record) -> str:
        self.done += 1
        elapsed = time.monotonic() - self.started
        left = elapsed / self.done * (self.total - self.done)
        scores = record.lab_scores()
        outcome = f"{sum(e for e, _ in scores.values())}/{sum(p for _, p in scores.values())}" if scores else ""
        outcome = "  ".join(part for part in (outcome, record.problem) if part)
        return (f"[{self.done}/{self.total}] {clock(elapsed)} elapsed, about {clock(left)} left  "
                f"{record.submission}: {outcome}")


def clock(seconds: float) -> str:
    minutes, seconds = divmod(int(seconds + 0.5), 60)
    return f"{minutes}m{seconds:02d}s"


def interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def run(batch: Batch, todo: list[tuple[submissions.Submission, str]], jobs: int, records: list[Record]) -> bool:
    """Grades `todo`, `jobs` at a time, adding to `records`; False if it was interrupted."""
    progress = Progress(len(todo))
    pool = ThreadPoolExecutor(max_workers=jobs)
    futures = [pool.submit(batch.grade_one, submission, fingerprint) for submission, fingerprint in todo]
    handled: set[Future[Optional[Record]]] = set()

    def take(future: Future[Optional[Record]]) -> None:
        handled.add(future)
        record = future.result()
        if record is not None:
            batch.save(record)
            records.append(record)
            print(progress.finished(record), flush=True)

    try:
        for future in as_completed(futures):
            take(future)
        return True
    except KeyboardInterrupt:
        batch.stop()
        pool.shutdown(wait=True, cancel_futures=True)
        for future in futures:  # gradings that ended while we stopped the others still count
            if future not in handled and future.done() and not future.cancelled() and future.exception() is None:
                take(future)
        return False
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
        containment.kill_descendants()


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="grader.batch", description="Grade a folder of submissions.")
    parser.add_argument("submissions", help="a folder with one submission per student (folder or archive)")
    parser.add_argument("out", help="where gradebook.csv, summary.txt, feedback/ and records/ go")
    parser.add_argument("--lab", action="append", default=[], help="grade only these labs (repeatable)")
    parser.add_argument("--jobs", type=int, default=len(os.sched_getaffinity(0)),
                        help="gradings at once (default: the number of cores)")
    parser.add_argument("--timeout", type=float, default=900.0,
                        help="seconds one submission's grading may take (default 900)")
    args = parser.parse_args(argv)
    if not os.path.isdir(args.submissions):
        print(f"grader.batch: '{args.submissions}' is not a folder", file=sys.stderr)
        return 2
    try:
        labs = sorted(cli.select_labs(args.lab)) if args.lab else []
    except ValueError as error:
        print(f"grader.batch: {error}", file=sys.stderr)
        return 2
    found, ignored = submissions.find(args.submissions)
    for entry in ignored:
        print(f"grader.batch: ignoring {entry}: not a folder, .tar.gz, .tgz or .zip", file=sys.stderr)
    if not found:
        print(f"grader.batch: no submissions in '{args.submissions}'", file=sys.stderr)
        return 2
    containment.become_subreaper()  # whatever a grading leaves is ours to kill
    signal.signal(signal.SIGTERM, interrupt)
    batch = Batch(args.out, labs, args.timeout)
    version = grader_digest()
    records, todo = [], []
    for submission in found:
        fingerprint = f"{version}:{submissions.fingerprint(submission)}"
        earlier = batch.recorded(submission.name, fingerprint)
        if earlier is None:
            todo.append((submission, fingerprint))
        else:
            records.append(earlier)
    print(f"{len(found)} submissions: {len(records)} already graded, {len(todo)} to grade, "
          f"{max(1, args.jobs)} at a time", flush=True)
    started = time.monotonic()
    complete = run(batch, todo, max(1, args.jobs), records)
    batch.write_reports(records)
    if not complete:
        print(f"\ninterrupted: {len(records)} of {len(found)} submissions are graded. Run the same command "
              "again to grade the rest.", file=sys.stderr)
        return 130
    print(f"graded {len(todo)} in {clock(time.monotonic() - started)}; wrote {args.out}/gradebook.csv, "
          f"summary.txt, check-rates.csv and feedback/")
    return 0


if __name__ == "__main__":
    sys.exit(main())
