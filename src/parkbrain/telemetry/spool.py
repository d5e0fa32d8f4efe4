"""The spool: an append-only log on disk of every telemetry message received, before it is acknowledged.

A message is acknowledged to the broker only after the batch holding it is written here and
``fsync``-ed, so a ``kill -9`` at any moment loses nothing acknowledged. The writer then takes whole
segments, stores their readings in the database (idempotent on point and time) and deletes the
segment after the commit; a crash between the commit and the delete replays the segment, which adds
nothing. Records are ``<length u32><crc32 u32><topic length u16><topic><payload>``; a torn record at
the end of a segment (a crash mid-write, never acknowledged) is dropped on reading.
"""

from __future__ import annotations

import os
import struct
import threading
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

_HEAD = struct.Struct("<II")
_TOPIC = struct.Struct("<H")
#: A segment is sealed for the writer once it holds this many bytes (or when the writer asks).
SEGMENT_BYTES = 64 * 1024 * 1024


@dataclass(frozen=True)
class Record:
    segment: str
    index: int
    topic: str
    payload: bytes

    @property
    def key(self) -> str:
        """Where the record was spooled: the same on every replay."""
        return f"{self.segment}:{self.index}"


class Spool:
    """Segments ``seg-<n>.log`` in a folder; one appender (the spool thread), one reader (the writer)."""

    def __init__(self, folder: str | Path) -> None:
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        existing = self.segments()
        self._next = (int(existing[-1].stem[4:]) + 1) if existing else 1
        self._file = None
        self._path: Path | None = None

    def segments(self) -> list[Path]:
        """Segments on disk, oldest first (including the one being appended to)."""
        return sorted(self.folder.glob("seg-*.log"))

    def append(self, records: list[tuple[str, bytes]]) -> None:
        """Append records and make them durable (fsync) before returning."""
        if not records:
            return
        buffer = bytearray()
        for topic, payload in records:
            body = _TOPIC.pack(len(topic.encode())) + topic.encode() + payload
            buffer += _HEAD.pack(len(body), zlib.crc32(body)) + body
        with self._lock:
            if self._file is None:
                self._path = self.folder / f"seg-{self._next:012d}.log"
                self._next += 1
                self._file = open(self._path, "ab")  # noqa: SIM115 - kept open across appends
            self._file.write(buffer)
            self._file.flush()
            os.fsync(self._file.fileno())
            if self._file.tell() >= SEGMENT_BYTES:
                self._seal()

    def seal(self) -> None:
        """Close the segment being appended to: it becomes the writer's to apply."""
        with self._lock:
            self._seal()

    def _seal(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file, self._path = None, None

    def sealed(self) -> list[Path]:
        """Segments the writer may apply, oldest first."""
        with self._lock:  # listed under the lock: a segment opened meanwhile is never handed out
            return [p for p in self.segments() if p != self._path]


def read_segment(path: Path) -> Iterator[Record]:
    """The records of a segment; stops at a torn or corrupt record."""
    data = path.read_bytes()
    offset, index = 0, 0
    while offset + _HEAD.size <= len(data):
        length, crc = _HEAD.unpack_from(data, offset)
        body = data[offset + _HEAD.size : offset + _HEAD.size + length]
        if len(body) < length or zlib.crc32(body) != crc:
            return
        (topic_len,) = _TOPIC.unpack_from(body)
        topic = body[_TOPIC.size : _TOPIC.size + topic_len].decode("utf-8", "replace")
        yield Record(path.stem, index, topic, bytes(body[_TOPIC.size + topic_len :]))
        offset += _HEAD.size + length
        index += 1
