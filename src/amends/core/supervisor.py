"""Run the web server and the task worker as child processes and stop both together.

Ctrl-C (SIGINT) or SIGTERM asks both children to stop (SIGTERM: gunicorn finishes in-flight
requests, the worker finishes its current task), waits, and kills what is left after a grace
period. If either child dies on its own, the other is stopped too and the exit status is 1.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from types import FrameType

GRACE_SECONDS = 20


class Supervisor:
    def __init__(self, commands: Mapping[str, Sequence[str]]) -> None:
        self.commands = commands
        self.children: dict[str, subprocess.Popen[bytes]] = {}
        self.stopping = False

    def run(self) -> int:
        previous = {
            sig: signal.signal(sig, self._on_signal) for sig in (signal.SIGINT, signal.SIGTERM)
        }
        try:
            for name, command in self.commands.items():
                # Own process group: a Ctrl-C in the terminal reaches us, and we pass it on once.
                self.children[name] = subprocess.Popen(command, start_new_session=True)  # noqa: S603
            return self._watch()
        finally:
            self._stop_all()
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        self.stopping = True

    def _watch(self) -> int:
        while not self.stopping:
            for name, child in self.children.items():
                if child.poll() is not None:
                    sys.stderr.write(f"amends: {name} exited with status {child.returncode}\n")
                    return 1
            time.sleep(0.2)
        return 0

    def _stop_all(self) -> None:
        for child in self.children.values():
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + GRACE_SECONDS
        for child in self.children.values():
            try:
                child.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()
