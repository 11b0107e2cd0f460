"""The `amends` console script: Django's command runner with our settings."""

from __future__ import annotations

import os
import sys


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "amends.settings")
    from django.core.management import execute_from_command_line

    from amends.env import ConfigurationError

    try:
        execute_from_command_line(argv if argv is not None else sys.argv)
    except ConfigurationError as exc:
        # A bad environment variable is the operator's to fix: say which one, no traceback.
        sys.stderr.write(f"amends: configuration error: {exc}\n")
        sys.exit(2)
    except BrokenPipeError:
        # Output piped into `head` and closed early: stop quietly, as Unix tools do.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(141)


if __name__ == "__main__":
    main()
