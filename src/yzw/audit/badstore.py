"""The bad records of an audit, in (source, line) order, without holding them all: ≈ 1 % of a dump's records
are bad, so a list of them grows with the input while the rest of the audit stays flat.

A few thousand are kept in memory; past that they are sorted and spilled as a run to an unnamed temporary file
(marshalled tuples, in chunks read back with pread, so each run is read at its own place). Iterating merges the
runs (heapq.merge). Length, counts per requirement and the first few are what the summary and the HTML read.
"""

from __future__ import annotations

import heapq
import marshal
import os
import tempfile
from collections import Counter
from collections.abc import Iterable, Iterator
from itertools import islice
from typing import IO, Any

from yzw.audit.judge import BadRecord

KEPT = 4096  # bad records held in memory at most before a sorted run is spilled
CHUNK = 512  # records per marshalled chunk of a run: what a run's reader holds at once
RUNS = 32  # runs at most: more are merged into one, so the readers of a merge stay few

Row = tuple[Any, ...]  # (source, line, arrival, requirement, member, reason, event_id, application_no)


class BadStore:
    """Bad records added in any order, iterated in (source, line) order; equal places keep their arrival order."""

    def __init__(self, kept: int | None = None, chunk: int = CHUNK, runs: int = RUNS) -> None:
        self._kept, self._chunk, self._most = kept or KEPT, chunk, runs
        self._fresh: list[Row] = []
        self._runs: list[list[tuple[int, int]]] = []  # per run: (offset, size) of each chunk in the file
        self._file: IO[bytes] | None = None
        self._end = 0
        self._count = 0
        self._requirements: Counter[str] = Counter()

    def add(self, bad: BadRecord) -> None:
        self._fresh.append((bad.source, bad.line, self._count, *_rest(bad)))
        self._count += 1
        self._requirements[bad.requirement] += 1
        if len(self._fresh) >= self._kept:
            self._spill()

    def extend(self, bads: Iterable[BadRecord]) -> None:
        for bad in bads:
            self.add(bad)

    def take(self, found: Found) -> None:
        """What a reader found, in its order: its files (each removed once read), then what it held."""
        for path in found.files:
            with open(path, "rb") as handle:
                rows = marshal.load(handle)
            os.unlink(path)
            self.extend(BadRecord(*row) for row in rows)
        self.extend(found.held)

    def __len__(self) -> int:
        return self._count

    def __bool__(self) -> bool:
        return self._count > 0

    @property
    def spilled(self) -> int:
        """How many sorted runs are on disk (for tests)."""
        return len(self._runs)

    def by_requirement(self) -> Counter[str]:
        """How many bad records break each requirement."""
        return Counter(self._requirements)

    def head(self, count: int) -> list[BadRecord]:
        """The first `count` in order."""
        return list(islice(self, count))

    def __iter__(self) -> Iterator[BadRecord]:
        for row in self.rows():
            yield BadRecord(row[0], row[1], *row[3:])

    def rows(self) -> Iterator[Row]:
        """Every record as a tuple (source, line, arrival, then BadRecord's other fields), in order."""
        self._fresh.sort()
        readers = [_read(self._file, run) for run in self._runs if self._file is not None]
        return heapq.merge(*readers, iter(list(self._fresh)))

    def close(self) -> None:
        """Forget the spilled runs (the file has no name: it goes when closed, or with the process)."""
        if self._file is not None:
            self._file.close()
            self._file = None
        self._runs, self._fresh, self._count, self._end = [], [], 0, 0
        self._requirements.clear()

    def _spill(self) -> None:
        self._fresh.sort()
        self._runs.append(self._write(self._fresh))
        self._fresh = []
        if len(self._runs) > self._most:  # one run of them all, in a new file: the readers of a merge stay few
            old, runs = self._file, self._runs
            self._file, self._end = None, 0
            assert old is not None
            self._runs = [self._write(heapq.merge(*(_read(old, run) for run in runs)))]
            old.close()

    def _write(self, rows: Iterable[Row]) -> list[tuple[int, int]]:
        if self._file is None:
            self._file = tempfile.TemporaryFile(prefix="yzw-bad-")  # noqa: SIM115 (closed by close())
        chunks, iterator = [], iter(rows)
        while block := list(islice(iterator, self._chunk)):
            data = marshal.dumps(block)
            os.pwrite(self._file.fileno(), data, self._end)
            chunks.append((self._end, len(data)))
            self._end += len(data)
        return chunks


class Found:
    """The bad records one reader of pass 1 finds: its unreadable lines, which may be a whole file's. Past
    `KEPT` they go to a file in the audit's folder, so neither the reader nor the result it hands back grows
    with the input; `BadStore.take` reads them in."""

    def __init__(self, folder: str, name: str) -> None:
        self.folder, self.name = folder, name
        self.held: list[BadRecord] = []
        self.files: list[str] = []
        self.count = 0

    def append(self, bad: BadRecord) -> None:
        self.held.append(bad)
        self.count += 1
        if len(self.held) >= KEPT:
            path = os.path.join(self.folder, f"bad-{self.name}-{len(self.files):06d}.marshal")
            with open(path, "wb") as handle:
                marshal.dump([(b.source, b.line, *_rest(b)) for b in self.held], handle)
            self.files.append(path)
            self.held = []


def _read(file: IO[bytes], run: list[tuple[int, int]]) -> Iterator[Row]:
    """A spilled run, a chunk at a time (pread: the runs of a merge share the file, each at its own place)."""
    descriptor = file.fileno()
    for offset, size in run:
        yield from marshal.loads(os.pread(descriptor, size, offset))


def _rest(bad: BadRecord) -> tuple[str, str, str, str, str]:
    return bad.requirement, bad.member, bad.reason, bad.event_id, bad.application_no
