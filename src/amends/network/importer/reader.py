"""Stream records out of a CSV or JSON Lines file, one at a time, with their line numbers.

Memory does not grow with the file: nothing is kept but the current record.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from itertools import chain
from pathlib import Path
from typing import cast

from amends.network.importer.fastlines import FastLines
from amends.network.importer.specs import KindSpec

FORMATS = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl"}
_NOT_UTF8 = "is not UTF-8 text from here on"
_BLOCK = 1000  # fast lines sent to COPY at a time


@dataclass(frozen=True)
class Problem:
    line: int
    field: str
    message: str

    def format(self, file_name: str) -> str:
        return f"{file_name}:{self.line}: {self.field}: {self.message}"


class FileRejected(Exception):
    """The file cannot be read at all (missing, wrong format, bad header)."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__(f"{len(problems)} problem(s)")
        self.problems = problems


Record = tuple[int, list[str]]


def file_format(path: Path) -> str:
    try:
        return FORMATS[path.suffix.lower()]
    except KeyError:
        raise FileRejected(
            [Problem(0, "file", f"unknown format {path.suffix!r}: use .csv or .jsonl")]
        ) from None


@dataclass
class Source:
    """An open import file: the spec columns it has, in its order, and its items.

    An item is a Problem, a record ``(line, values in spec column order)`` to parse, or — only
    when fast lines were asked for — a block of lines ready for ``COPY`` (see ``fastlines``).
    """

    columns: list[str]
    items: Iterator[str | Record | Problem]


@contextmanager
def open_source(path: Path, spec: KindSpec, *, fast: bool = False) -> Iterator[Source]:
    if not path.is_file():
        raise FileRejected([Problem(0, "file", "no such file")])
    fmt = file_format(path)
    # utf-8-sig drops a byte-order mark; newline="" lets csv handle CRLF and LF alike.
    with path.open(encoding="utf-8-sig", newline="") as handle:
        if fmt == "jsonl":
            yield Source([column.name for column in spec.columns], _jsonl_records(handle, spec))
            return
        header = _read_header(handle)
        index = _header_index(header, spec)
        names = [spec.columns[i].name for i in _file_order(index)]
        lines = FastLines.for_header(spec, names) if fast else None
        yield Source(names, _csv_records(handle, index, len(header), lines))


def read_records(path: Path, spec: KindSpec) -> Iterator[Record | Problem]:
    """Yield ``(line, values in spec column order)`` for each record, or a Problem."""
    with open_source(path, spec) as source:
        yield from cast(Iterator[Record | Problem], source.items)  # no fast lines asked for


def _read_header(handle: Iterator[str]) -> list[str]:
    try:
        return next(csv.reader(handle))
    except StopIteration:
        raise FileRejected([Problem(1, "file", "is empty: expected a header row")]) from None
    except csv.Error as exc:
        raise FileRejected([Problem(1, "file", f"is not valid CSV: {exc}")]) from None
    except UnicodeDecodeError:
        raise FileRejected([Problem(1, "file", _NOT_UTF8)]) from None


def _file_order(index: list[int | None]) -> list[int]:
    """The spec positions of the file's columns, in the file's order."""
    present = sorted((at, spec_index) for spec_index, at in enumerate(index) if at is not None)
    return [spec_index for _, spec_index in present]


def _header_index(header: list[str], spec: KindSpec) -> list[int | None]:
    names = [name.strip().lower() for name in header]
    known = {column.name for column in spec.columns}
    problems = [
        Problem(1, name or "(blank)", f"unknown column; expected {', '.join(sorted(known))}")
        for name in names
        if name not in known
    ]
    problems += [
        Problem(1, name, "appears twice in the header")
        for index, name in enumerate(names)
        if name in names[:index]
    ]
    problems += [
        Problem(1, column.name, "required column is missing")
        for column in spec.columns
        if column.required and column.name not in names
    ]
    if problems:
        raise FileRejected(problems)
    return [names.index(column.name) if column.name in names else None for column in spec.columns]


def _csv_records(
    handle: Iterator[str], index: list[int | None], width: int, fast: FastLines | None
) -> Iterator[str | Record | Problem]:
    """Records after the header (line 1). Lines the fast path takes are yielded in blocks;
    any other line is read by the csv module, which pulls more lines for a quoted line break."""
    block: list[str] = []
    offset = 2  # line number = position in the loop + offset (+ lines a quoted field spanned)
    number = 1
    try:
        for position, line in enumerate(handle):
            number = position + offset
            if fast is not None:
                ready = fast.row(number, line)
                if ready is not None:
                    block.append(ready)
                    if len(block) == _BLOCK:
                        yield "".join(block)
                        block.clear()
                    continue
            if block:
                yield "".join(block)
                block.clear()
            reader = csv.reader(chain([line], handle))
            try:
                row = next(reader)
            except csv.Error as exc:
                yield Problem(number + reader.line_num - 1, "file", f"is not valid CSV: {exc}")
                return
            offset += reader.line_num - 1
            if not row:
                continue
            if len(row) != width:
                yield Problem(number, "row", f"has {len(row)} fields; the header has {width}")
                continue
            yield number, [row[i].strip() if i is not None else "" for i in index]
    except UnicodeDecodeError:
        yield from _flush(block)
        yield Problem(number + 1, "file", _NOT_UTF8)
        return
    yield from _flush(block)


def _flush(block: list[str]) -> Iterator[str]:
    if block:
        yield "".join(block)


def _json_text(value: object) -> str | None:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, int | float):
        return str(value)
    return None


def _jsonl_records(handle: Iterator[str], spec: KindSpec) -> Iterator[Record | Problem]:
    names = [column.name for column in spec.columns]
    line = 0
    try:
        for line, raw in enumerate(handle, start=1):
            if raw.strip():
                yield _jsonl_record(line, raw, names)
    except UnicodeDecodeError:
        yield Problem(line + 1, "file", _NOT_UTF8)


def _jsonl_record(line: int, raw: str, names: list[str]) -> Record | Problem:
    try:
        obj = json.loads(raw)
    except json.JSONDecodeError as exc:
        return Problem(line, "line", f"is not valid JSON: {exc.msg}")
    if not isinstance(obj, dict):
        return Problem(line, "line", "is not a JSON object")
    unknown = [key for key in obj if key not in names]
    if unknown:
        return Problem(line, unknown[0], "unknown field")
    values = [_json_text(obj.get(name)) for name in names]
    bad = next((n for n, v in zip(names, values, strict=True) if v is None), None)
    if bad is not None:
        return Problem(line, bad, "must be a string, number, boolean or null")
    return line, [v or "" for v in values]
