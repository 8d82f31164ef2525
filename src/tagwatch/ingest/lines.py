"""Input files read one physical line at a time, so one bad line costs that line only.

Two faults would otherwise cost a whole file or swallow its rest:

- a byte that is not UTF-8 (a decoder raises mid-file): that line is rejected as
  ``bad_encoding`` and reading goes on;
- a quote that never closes (a CSV reader runs on into the following lines looking for
  its end): fix and reading files never hold a line break inside a value, so a line with
  an unbalanced quote is rejected as ``unparsable`` on its own.

:func:`text_lines` serves the per-row readers (JSON Lines, the csv module); :class:`CleanCsv`
serves Arrow's block reader, handing it the file with each such line blanked (so Arrow's line
numbers still count it) and keeping the rejects for the caller.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator
from pathlib import Path

__all__ = ["text_lines", "split_line", "CleanCsv", "Line", "line_fault"]

Line = tuple[int, str, str | None]  # (line number, text without its line break, reason or None)


def _undecodable(raw: bytes, e: UnicodeDecodeError) -> str:
    return f"bad_encoding: byte 0x{raw[e.start]:02x} at column {e.start + 1} is not UTF-8"


def line_fault(raw: bytes, csv_quotes: bool) -> tuple[str, str | None]:
    """The text of one line (without its break) and why it cannot be read, if it cannot."""
    raw = raw.rstrip(b"\r\n")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        return raw.decode("utf-8", "replace"), _undecodable(raw, e)
    if csv_quotes and text.count('"') % 2:
        return text, "unparsable: a quote opened on this line is never closed"
    return text, None


def text_lines(path: Path, on_read: Callable[[int], None] | None = None, csv_quotes: bool = False) -> Iterator[Line]:
    """Every line of ``path`` from line 1 (the header of a CSV file included), decoded on its own."""
    with open(path, "rb") as f:
        for line_no, raw in enumerate(f, start=1):
            if on_read:
                on_read(len(raw))
            text, fault = line_fault(raw, csv_quotes)
            yield line_no, text, fault


def split_line(text: str) -> list[str]:
    """The fields of one CSV line (``csv.Error`` for a quote that never closes)."""
    return next(csv.reader([text], strict=True), [])


class CleanCsv(io.RawIOBase):
    """A CSV file as a byte stream in which every undecodable or unbalanced-quote line after the
    header is blanked; ``rejects`` collects ``(line number, text, reason)`` for each, as read."""

    BLOCK = 1 << 20

    def __init__(self, path: Path) -> None:
        self._f = open(path, "rb")
        self._buf = b""
        self._tail = b""
        self._line_no = 0
        self.rejects: list[Line] = []

    def readable(self) -> bool:
        return True

    def close(self) -> None:
        self._f.close()
        super().close()

    def readinto(self, b) -> int:
        while not self._buf:
            block = self._f.read(self.BLOCK)
            if not block:
                self._buf, self._tail = self._tail, b""
                if not self._buf:
                    return 0
                self._buf = self._clean(self._buf)
                break
            block = self._tail + block
            cut = block.rfind(b"\n") + 1
            self._tail = block[cut:]
            if cut:
                self._buf = self._clean(block[:cut])
        n = min(len(b), len(self._buf))
        b[:n] = self._buf[:n]
        self._buf = self._buf[n:]
        return n

    def _clean(self, block: bytes) -> bytes:
        """Whole lines; the usual block (all UTF-8, no quotes) passes through untouched."""
        first = self._line_no + 1
        self._line_no += block.count(b"\n") + (not block.endswith(b"\n"))
        if b'"' not in block:
            try:
                block.decode("utf-8")
                return block
            except UnicodeDecodeError:
                pass
        lines = block.split(b"\n")
        for i, raw in enumerate(lines):
            if first + i == 1:
                continue  # the header was read on its own; a bad one refuses the file
            text, fault = line_fault(raw, csv_quotes=True)
            if fault:
                self.rejects.append((first + i, text, fault))
                lines[i] = b""
        return b"\n".join(lines)
