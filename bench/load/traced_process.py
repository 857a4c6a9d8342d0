"""Runs a Python module (a service) with a call counter that signals switch on and off.

    python -m bench.load.traced_process OUT.json MODULE [ARGS...]

SIGUSR1 starts counting (sys.setprofile on the main thread, where the event loop and every
handler run); SIGUSR2 stops and writes {function: calls} to OUT.json. Python functions are
named file:line:name (the file relative to the repository, <stdlib> or <site-packages>),
builtins `C:name`. Counting slows the process several times over: the figures are calls,
deterministic where CPU time on this machine drifts, never time.
"""

from __future__ import annotations

import collections
import json
import pathlib
import runpy
import signal
import sys
import sysconfig
import types
from typing import Any

# Where a function's file lives, shortened: the repository, the standard library, packages.
# Packages first: the virtualenv may live inside the repository.
_PREFIXES = (
    (sysconfig.get_paths()["purelib"] + "/", "<site-packages>/"),
    (sysconfig.get_paths()["stdlib"] + "/", "<stdlib>/"),
    (str(pathlib.Path(__file__).resolve().parents[2]) + "/", ""),
)


def _short(path: str) -> str:
    for prefix, label in _PREFIXES:
        if path.startswith(prefix):
            return label + path[len(prefix) :]
    return path


class CallCounter:
    def __init__(self, out: pathlib.Path) -> None:
        self._out = out
        self.calls: collections.Counter[str] = collections.Counter()

    def _profile(self, frame: types.FrameType, event: str, arg: Any) -> None:
        if event == "call":
            code = frame.f_code
            self.calls[f"{_short(code.co_filename)}:{code.co_firstlineno}:{code.co_name}"] += 1
        elif event == "c_call":
            self.calls[f"C:{getattr(arg, '__qualname__', repr(arg))}"] += 1

    def start(self, *_: object) -> None:
        self.calls.clear()
        sys.setprofile(self._profile)

    def stop(self, *_: object) -> None:
        sys.setprofile(None)
        self._out.write_text(json.dumps(dict(self.calls)), encoding="utf-8")


def main() -> None:
    if len(sys.argv) < 3:
        raise SystemExit(__doc__)
    out, module, *args = sys.argv[1:]
    counter = CallCounter(pathlib.Path(out))
    signal.signal(signal.SIGUSR1, counter.start)
    signal.signal(signal.SIGUSR2, counter.stop)
    sys.argv = [module, *args]
    runpy.run_module(module, run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main()
