"""Stream records out of a CSV or JSON Lines file, one at a time, with their line numbers.

Memory does not grow with the file: nothing is kept but the current record.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from amends.network.importer.specs import KindSpec

FORMATS = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl"}


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


def read_records(path: Path, spec: KindSpec) -> Iterator[Record | Problem]:
    """Yield ``(line, values in spec column order)`` for each record, or a Problem."""
    if not path.is_file():
        raise FileRejected([Problem(0, "file", "no such file")])
    fmt = file_format(path)
    # utf-8-sig drops a byte-order mark; newline="" lets csv handle CRLF and LF alike.
    with path.open(encoding="utf-8-sig", newline="") as handle:
        records = _csv_records(handle, spec) if fmt == "csv" else _jsonl_records(handle, spec)
        line = 0
        try:
            for item in records:
                line = item.line if isinstance(item, Problem) else item[0]
                yield item
        except UnicodeDecodeError:
            yield Problem(line + 1, "file", "is not UTF-8 text from here on")


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


def _csv_records(handle: Iterator[str], spec: KindSpec) -> Iterator[Record | Problem]:
    reader = csv.reader(handle)
    try:
        header = next(reader)
    except StopIteration:
        raise FileRejected([Problem(1, "file", "is empty: expected a header row")]) from None
    except csv.Error as exc:
        raise FileRejected([Problem(1, "file", f"is not valid CSV: {exc}")]) from None
    index = _header_index(header, spec)
    width = len(header)
    line = reader.line_num
    while True:
        start = line + 1
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            yield Problem(reader.line_num, "file", f"is not valid CSV: {exc}")
            return
        line = reader.line_num
        if not row:
            continue
        if len(row) != width:
            yield Problem(start, "row", f"has {len(row)} fields; the header has {width}")
            continue
        yield start, [row[i].strip() if i is not None else "" for i in index]


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
    known = set(names)
    for line, raw in enumerate(handle, start=1):
        if not raw.strip():
            continue
        try:
            obj = json.loads(raw)
        except json.JSONDecodeError as exc:
            yield Problem(line, "line", f"is not valid JSON: {exc.msg}")
            continue
        if not isinstance(obj, dict):
            yield Problem(line, "line", "is not a JSON object")
            continue
        unknown = [key for key in obj if key not in known]
        if unknown:
            yield Problem(line, unknown[0], "unknown field")
            continue
        values = [_json_text(obj.get(name)) for name in names]
        bad = next((n for n, v in zip(names, values, strict=True) if v is None), None)
        if bad is not None:
            yield Problem(line, bad, "must be a string, number, boolean or null")
            continue
        yield line, [v or "" for v in values]
