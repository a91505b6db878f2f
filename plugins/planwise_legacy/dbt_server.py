"""The legacy engine's dbt launcher: imports dbt's CLI once, then forks one fresh process per dbt command.

Run as a script (``python dbt_server.py``), never imported: it imports dbt and the standard library only, not
PlanWise. Each request is one JSON line on stdin, ``{"argv": [...], "env": {...}, "cwd": ..., "out": ...,
"err": ...}``; the server forks, the child runs exactly what the ``dbt`` console script runs
(``dbt.cli.main.cli`` with ``argv`` as its command line, in ``env`` and ``cwd``, its stdout and stderr written
to the files ``out`` and ``err``) and exits through the interpreter's normal shutdown, and the server answers
``{"returncode": n, "pid": the child's, "cpu_seconds": its user + system time}``. The child is a fork of an interpreter that has only imported dbt and
never run a command, so each command starts from the state of a new ``dbt`` process (its own parse of the
project from the target folder, its own adapter and connections), without the 1.3-1.7 s of importing dbt
(docs/architecture.md, "The two engines"). The server exits when stdin closes (the engine is done, or its
process died).
"""

import json
import os
import signal
import sys
import threading

from dbt.cli.main import cli  # the point of this process: dbt imported once, before any fork

# Not the DuckDB adapter: importing duckdb starts a native thread, and a fork's copy of a process with threads is
# unsafe (the child aborted at exit). The server checks it is still single-threaded before it forks anything.


def _serve():
    """Answer requests until stdin closes; return the request in a forked child, None in the server at the end.

    The first line says whether forking is safe here (one thread, os.fork available); the engine runs `dbt`
    processes the ordinary way when it is not."""
    tasks = f"/proc/{os.getpid()}/task"
    threads = len(os.listdir(tasks)) if os.path.isdir(tasks) else threading.active_count()
    ready = hasattr(os, "fork") and threading.active_count() == 1 and threads == 1
    sys.stdout.write(json.dumps({"ready": ready, "threads": threads}) + "\n")
    sys.stdout.flush()
    if not ready:
        return None
    # Ctrl-C reaches the whole process group: the engine and the running command handle it, the server waits for
    # its command to end, then for stdin to close.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    for line in sys.stdin:
        request = json.loads(line)
        sys.stdout.flush()
        pid = os.fork()
        if pid == 0:
            return request
        _, status, usage = os.wait4(pid, 0)
        sys.stdout.write(json.dumps({"returncode": os.waitstatus_to_exitcode(status), "pid": pid,
                                     "cpu_seconds": round(usage.ru_utime + usage.ru_stime, 3)}) + "\n")
        sys.stdout.flush()
    return None


def _become_dbt(request):
    """In the child: the request's environment, folder, command line and output files, as a new process."""
    signal.signal(signal.SIGINT, signal.default_int_handler)
    os.environ.clear()
    os.environ.update(request["env"])
    os.chdir(request["cwd"])
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)
    for fd, path in ((1, request["out"]), (2, request["err"])):
        target = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.dup2(target, fd)
        os.close(target)
    sys.argv = list(request["argv"])


if __name__ == "__main__":
    request = _serve()
    if request is not None:
        _become_dbt(request)
        sys.exit(cli())
