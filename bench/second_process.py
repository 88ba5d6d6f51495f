"""The second process of the cross-process notification latency (bench/scenarios/
notifications.py): another Python process on the same database and channel layer
(Redis). One command a line on stdin — ``submit <self-evaluation id> <staff id>`` or
``push <user id>`` — one JSON line out with this process's id and the CLOCK_MONOTONIC
instant of the commit (or of the bare push)."""

from __future__ import annotations

import json
import os
import sys

import django


def main() -> None:
    django.setup()
    from bench.scenarios.notifications import push_stamped, submit_stamped

    print(json.dumps({"ready": True, "pid": os.getpid()}), flush=True)
    for line in sys.stdin:
        words = line.split()
        if not words:
            continue
        if words[0] == "submit":
            stamp = submit_stamped(int(words[1]), int(words[2]))
        elif words[0] == "push":
            stamp = push_stamped(int(words[1]))
        else:
            raise SystemExit(f"unknown command {words[0]!r}")
        print(json.dumps({"pid": os.getpid(), "stamp": stamp}), flush=True)


if __name__ == "__main__":
    main()
