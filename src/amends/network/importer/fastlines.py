"""Clean CSV lines go to PostgreSQL nearly as they are, checked by one regex each.

Most lines of an operator's export are already in the form we store: ids and codes, dollars with
two decimals, plain decimals for coordinates, enum values in their stored case, E.164 numbers.
Parsing such a line field by field in Python, then formatting every value again for COPY, was
most of an import's time. Instead, one regular expression built from the columns' canonical
patterns (``fields.Field``) checks the whole line, and the line goes into ``COPY … (FORMAT csv)``
with its number in front, the computed columns behind and the dropped characters (an amount's
decimal point) cut out. An empty optional field arrives as NULL, which the merge turns into the
column's default, exactly what RowParser stores for it. A column without a canonical form (a
time zone, a channel order) is still parsed in Python, from the text the regex captured.

A line the regex does not match — a quoted field, spaces around a value, ``89`` without cents,
or anything wrong — goes the slow way, through the csv module and RowParser, which also write
every problem message. So the regex may be as strict as it likes; it must only never let through
a line RowParser would refuse or store differently (tests/network/test_import_fast.py).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from amends.network.importer.specs import Column, Derived, KindSpec
from amends.network.importer.staging import csv_value

_LINE_END = r"(\r\n|\n|\r|)"  # always takes part, if only as the empty end
_ANY_FIELD = r'([^",\r\n]*)'  # an unquoted field


def _reader(column: Column) -> Callable[[str], object]:
    """How a derived column's input is read from the (non-empty) text its group captured. A
    canonical decimal is simply what ``float`` reads: ``fields.coordinate`` would check no more
    than the regex did, at four times the cost, on most lines of a services file."""
    if column.canonical is not None and column.sql_type == "double":
        return float
    parse, default = column.parse, column.default
    return lambda text: default if text.isspace() else parse(text.strip())


class _Computed:
    """A derived column for fast lines, remembering its last inputs: consecutive lines often
    share them (a customer's services share the address, so the H3 cell)."""

    def __init__(self, derived: Derived, spec: KindSpec, groups: dict[str, int]) -> None:
        self.compute = derived.compute
        columns = [spec.column(name) for name in derived.inputs]
        # Per input: its group (None when the file lacks the column), reader and default.
        self.inputs = [(groups.get(c.name), _reader(c), c.default) for c in columns]
        self.key = tuple(group for group, _, _ in self.inputs if group is not None)
        self.last: object = None
        self.text: str | None = None

    def csv(self, match: re.Match[str]) -> str:
        key = match.group(*self.key) if self.key else None
        if self.text is None or key != self.last:
            values = [
                read(text) if group is not None and (text := match.group(group)) else default
                for group, read, default in self.inputs
            ]
            self.last, self.text = key, csv_value(self.compute(*values))
        return self.text


class _LinePattern:
    """Numbers the groups of the line regex as its fields are added."""

    def __init__(self, spec: KindSpec) -> None:
        self.watched = {name for d in spec.derived for name in d.inputs}
        self.watched |= {name for pair in spec.pairs for name in pair}
        self.groups: dict[str, int] = {}  # watched column: its group
        self.edits: list[tuple[int, Column | None]] = []  # group to parse (column) or cut out
        self.count = 0

    def field(self, column: Column) -> str:
        """The regex of one field, captured if its text is parsed, computed from or paired."""
        canonical = column.canonical
        if canonical is None:  # parsed in Python from whatever the field holds
            self.count += 1
            self.groups[column.name] = self.count
            self.edits.append((self.count, column))
            return _ANY_FIELD
        if column.name in self.watched:
            self.count += 1
            self.groups[column.name] = self.count
            pattern = f"({canonical})"
        else:
            pattern = f"(?:{canonical})"
        inner = re.compile(canonical).groups  # each marks text to cut out
        self.edits.extend((group, None) for group in range(self.count + 1, self.count + inner + 1))
        self.count += inner
        return pattern


@dataclass
class FastLines:
    """Turns a canonical CSV line of one file (columns in its header's order) into the line
    COPY reads: ``number,fields…,derived…``; None when the line must be parsed the slow way."""

    regex: re.Pattern[str]
    end: int  # the line ending's group
    edits: list[tuple[int, Column | None]]  # groups whose text is parsed (column) or cut out
    pairs: list[tuple[int | None, int | None]]  # groups given both or neither
    computed: list[_Computed] = field(default_factory=list)

    @classmethod
    def for_header(cls, spec: KindSpec, header: list[str]) -> FastLines:
        """The fast path for a file whose header names these spec columns, in this order."""
        columns = [spec.column(name) for name in header]
        pattern = _LinePattern(spec)
        parts: list[str] = []
        checked: list[tuple[str, str]] = []  # pairs the regex itself keeps together
        position = 0
        while position < len(columns):
            column = columns[position]
            follower = columns[position + 1] if position + 1 < len(columns) else None
            if (
                follower is not None
                and (column.name, follower.name) in spec.pairs
                and column.canonical is not None
                and follower.canonical is not None
            ):
                # Both given or both empty, in the regex: no check per line in Python.
                first, second = pattern.field(column), pattern.field(follower)
                parts.append(f"(?:{first},{second}|,)")
                checked.append((column.name, follower.name))
                position += 2
                continue
            field = pattern.field(column)
            parts.append(field if column.required else f"{field}?")
            position += 1
        return cls(
            regex=re.compile(",".join(parts) + _LINE_END),
            end=pattern.count + 1,
            edits=pattern.edits,
            pairs=[
                (pattern.groups.get(a), pattern.groups.get(b))
                for a, b in spec.pairs
                if (a, b) not in checked
            ],
            computed=[_Computed(derived, spec, pattern.groups) for derived in spec.derived],
        )

    def row(self, number: int, line: str) -> str | None:
        match = self.regex.fullmatch(line)
        if match is None or (self.pairs and not self._pairs_agree(match)):
            return None
        text = self._fields(match, line) if self.edits else line[: match.start(self.end)]
        if text is None:
            return None
        for computed in self.computed:
            text += "," + computed.csv(match)
        return f"{number},{text}\n"

    def _pairs_agree(self, match: re.Match[str]) -> bool:
        return all(_given(match, first) == _given(match, second) for first, second in self.pairs)

    def _fields(self, match: re.Match[str], line: str) -> str | None:
        """The line's fields with the cut groups dropped and the parsed ones in stored form;
        None when a parsed field is refused."""
        text = ""
        start = 0
        for group, column in self.edits:
            at, stop = match.span(group)
            if at < 0:
                continue
            text += line[start:at]
            start = stop
            if column is None:
                continue
            value = line[at:stop].strip()
            if value:
                try:
                    text += csv_value(column.parse(value))
                except ValueError:
                    return None
            elif column.required:
                return None
        return text + line[start : match.start(self.end)]


def _given(match: re.Match[str], group: int | None) -> bool:
    text = match.group(group) if group is not None else None
    return bool(text and not text.isspace())
