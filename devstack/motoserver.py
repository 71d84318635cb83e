"""`python -m devstack.motoserver [--parent PID] -H HOST -p PORT`: moto server with DynamoDB's conditional
writes atomic, as on AWS (see devstack.localaws.make_moto_dynamodb_atomic), and its EventBridge's
event rendering cached (make_moto_events_fast). LocalAws runs it as its
separate process, in a session of its own; --parent makes it exit when that process is gone (killed
with no chance to stop it), so a fixed port is never left held by an orphan."""

from __future__ import annotations

import os
import sys
import threading
import time

from moto.server import main

from .localaws import make_moto_dynamodb_atomic, make_moto_events_fast


def _exit_with(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(1)
    os._exit(0)


if __name__ == "__main__":
    args = sys.argv[1:]
    if args[:1] == ["--parent"]:
        threading.Thread(target=_exit_with, args=(int(args[1]),), daemon=True).start()
        args = args[2:]
    make_moto_dynamodb_atomic()
    make_moto_events_fast()
    main(args)
