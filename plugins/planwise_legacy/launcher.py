"""The legacy engine's dbt processes, forked from a launcher that imported dbt once (dbt_server.py).

Each dbt command is still its own process running dbt's command line, with its own parse of the project (dbt's
partial parse in the target folder), adapter and connections, as the `dbt` executable would run it; only the
import of dbt (1.3-1.7 s of the 3-3.5 s a command took) happens once per run instead of once per command. Where
the launcher cannot fork safely (not Linux, a thread already started, another interpreter's `dbt`), each command
runs the `dbt` executable as before.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import threading
import weakref
from pathlib import Path

from planwise_core.engine.invokers import SubprocessDbt, dbt_executable

SERVER = Path(__file__).with_name("dbt_server.py")


class Launcher:
    """One dbt_server.py process; ``run`` forks a dbt command from it and waits for it, like subprocess.run."""

    def __init__(self, env: dict[str, str]):
        self._lock = threading.Lock()
        self._proc = subprocess.Popen([sys.executable, str(SERVER)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                      stderr=subprocess.DEVNULL, env=env, text=True)
        try:
            self.ready = json.loads(self._proc.stdout.readline()).get("ready") is True
        except ValueError:  # it died importing dbt, or printed something else
            self.ready = False
        self.served = 0
        self.last_pid: int | None = None  # the last command's process
        self.cpu_seconds = 0.0  # the commands' processes' user + system time
        if not self.ready:
            self.close()

    @property
    def pid(self) -> int:
        return self._proc.pid

    def run(self, argv: list[str], env: dict[str, str]) -> subprocess.CompletedProcess | None:
        """The command's exit code and output, or None when the launcher is gone: then the engine runs the command
        the ordinary way (a legacy command builds its models again from their inputs, so running it twice, should
        the launcher have died after forking it, leaves the same tables)."""
        with self._lock, tempfile.TemporaryDirectory(prefix="planwise-dbt-") as folder:
            out, err = Path(folder) / "stdout", Path(folder) / "stderr"
            request = {"argv": argv, "env": env, "cwd": os.getcwd(), "out": str(out), "err": str(err)}
            try:
                self._proc.stdin.write(json.dumps(request) + "\n")
                self._proc.stdin.flush()
                reply = self._proc.stdout.readline()
            except (BrokenPipeError, ValueError):  # the launcher died or was closed
                reply = ""
            if not reply:
                self.ready = False
                return None
            self.served += 1
            answer = json.loads(reply)
            self.last_pid = answer["pid"]
            self.cpu_seconds += answer["cpu_seconds"]
            return subprocess.CompletedProcess(argv, answer["returncode"],
                                               out.read_text(errors="replace"), err.read_text(errors="replace"))

    def close(self) -> None:
        """Close the launcher's stdin (it exits) and wait for it."""
        self.ready = False
        _stop(self._proc)


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        try:
            proc.stdin.close()
            proc.wait(timeout=30)
        except (OSError, subprocess.TimeoutExpired):
            proc.kill()
            proc.wait()
    for stream in (proc.stdin, proc.stdout):
        if stream and not stream.closed:
            stream.close()


class ForkedDbt(SubprocessDbt):
    """SubprocessDbt whose commands are forked from one launcher per engine session (see the module's docstring)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.launcher: Launcher | None = None

    def _launcher(self, env: dict[str, str]) -> Launcher | None:
        if self.launcher is None:
            executable = dbt_executable()
            # Linux only: on macOS a fork without exec is unsafe once system libraries have started threads.
            if not sys.platform.startswith("linux") or Path(executable) != Path(sys.executable).parent / "dbt":
                return None
            self.launcher = Launcher(env)
            weakref.finalize(self, _stop, self.launcher._proc)
        return self.launcher if self.launcher.ready else None

    def close(self) -> None:
        if self.launcher is not None:
            self.launcher.close()

    def spawn(self, argv: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
        launcher = self._launcher(env)
        proc = launcher.run(argv, env) if launcher is not None else None
        return proc if proc is not None else super().spawn(argv, env)
