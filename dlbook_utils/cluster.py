"""The addresses of a cluster of worker processes on this machine, and the check that it is gone.

``free_local_ports`` and ``tf_config`` give each worker its ``TF_CONFIG``; every address in it
is 127.0.0.1, so the workers talk over the loopback interface. (TensorFlow's gRPC server itself
listens on the port on every interface while it runs: TF offers no bind-address option.)
``surviving_processes`` reads /proc to show that no process of a finished cluster is left.
"""

from __future__ import annotations

import json
import socket
from pathlib import Path

__all__ = ["HOST", "free_local_ports", "tf_config", "surviving_processes"]

HOST = "127.0.0.1"  # the only address in a TF_CONFIG made here


def free_local_ports(n: int) -> list[int]:
    """``n`` distinct TCP ports that are free on 127.0.0.1 right now.

    All ``n`` sockets are held open together, so the kernel cannot hand out one port twice.
    """
    sockets = [socket.socket(socket.AF_INET, socket.SOCK_STREAM) for _ in range(n)]
    try:
        for s in sockets:
            s.bind((HOST, 0))
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


def tf_config(ports: list[int], index: int) -> str:
    """The ``TF_CONFIG`` JSON of worker ``index`` in a cluster of workers on ``ports``."""
    if not 0 <= index < len(ports):
        raise ValueError(f"tf_config expected index in [0, {len(ports)}), got {index}")
    cluster = {"worker": [f"{HOST}:{port}" for port in ports]}
    return json.dumps({"cluster": cluster, "task": {"type": "worker", "index": index}})


def surviving_processes(pids) -> list[int]:
    """Processes still alive (not zombies) in the process groups of ``pids``, read from /proc.

    After a run, ``surviving_processes(group.pids) == []`` shows that nothing was left behind:
    no worker, and nothing that a worker started. Linux only (it reads /proc).
    """
    groups, alive = set(pids), []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()  # after "pid (command)"
        except (OSError, IndexError):
            continue  # the process ended while we looked
        state, pgid = fields[0], int(fields[2])
        if pgid in groups and state != "Z":
            alive.append(int(stat.parent.name))
    return sorted(alive)
