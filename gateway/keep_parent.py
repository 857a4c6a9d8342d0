"""Runs a command as the child of a process that lives as long as it does.

Envoy asks the kernel to SIGTERM it when its parent exits (PR_SET_PDEATHSIG), so under `make up`,
whose launcher exits once everything is ready, Envoy would die with it. This small parent stays,
forwards SIGTERM/SIGINT, and exits with the child's status.

    python -m gateway.keep_parent envoy -c build/run/envoy.yaml
"""

from __future__ import annotations

import signal
import subprocess
import sys
import types


def main(argv: list[str]) -> int:
    if not argv:
        raise SystemExit("usage: python -m gateway.keep_parent COMMAND [ARG...]")
    child = subprocess.Popen(argv)

    def forward(signum: int, _frame: types.FrameType | None) -> None:
        child.send_signal(signum)

    signal.signal(signal.SIGTERM, forward)
    signal.signal(signal.SIGINT, forward)
    return child.wait()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
