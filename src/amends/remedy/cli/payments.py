from __future__ import annotations

from argparse import _SubParsersAction
from typing import Any


def add_commands(sub: _SubParsersAction[Any]) -> None:
    """Register this area's subcommands; each sets ``handler=fn(command, options)``."""
