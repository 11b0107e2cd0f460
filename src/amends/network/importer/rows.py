"""Turn one record's text values into the typed tuple that goes into the staging table."""

from __future__ import annotations

from amends.network.importer.reader import Problem
from amends.network.importer.specs import KindSpec


class RowParser:
    """Parses records of one kind; built once per import so the per-row loop stays small."""

    def __init__(self, spec: KindSpec) -> None:
        self.columns = [(c.name, c.parse, c.required, c.default) for c in spec.columns]
        position = {c.name: i for i, c in enumerate(spec.columns)}
        self.pairs = [(position[a], position[b], a, b) for a, b in spec.pairs]
        self.derived = [(d.compute, [position[name] for name in d.inputs]) for d in spec.derived]

    def parse(self, line: int, values: list[str]) -> tuple[object, ...] | list[Problem]:
        parsed: list[object] = [line]
        problems: list[Problem] = []
        for (name, parse, required, default), value in zip(self.columns, values, strict=True):
            if not value:
                if required:
                    problems.append(Problem(line, name, "is required"))
                parsed.append(default)
                continue
            try:
                parsed.append(parse(value))
            except ValueError as exc:
                problems.append(Problem(line, name, str(exc)))
                parsed.append(default)
        for first, second, first_name, second_name in self.pairs:
            if bool(values[first]) != bool(values[second]):
                missing = second_name if values[first] else first_name
                problems.append(
                    Problem(line, missing, f"is required with {first_name}/{second_name}")
                )
        if problems:
            return problems
        named = parsed[1:]
        parsed.extend(compute(*(named[i] for i in inputs)) for compute, inputs in self.derived)
        return tuple(parsed)
