"""Real ``planwise`` processes: one helper for every test module that starts the CLI."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

PLANWISE = Path(sys.executable).parent / "planwise"
FIXTURE_DISTS = Path(__file__).resolve().parent.parent / "plugins"
TIMEOUT = 600  # a safety net only: no command of the suite comes near it


def planwise_env(site: Path | None = None, **extra: str) -> dict[str, str]:
    """The test process's environment without the variables that change which plugins load or fault.

    ``site`` goes on PYTHONPATH like a site-packages folder; ``extra`` variables are added last.
    """
    env = {k: v for k, v in os.environ.items()
           if k not in ("PLANWISE_BLOCK_PLUGINS", "PYTHONPATH") and not k.startswith("PLANWISE_FAULT")}
    if site is not None:
        env["PYTHONPATH"] = str(site)
    env.update({k: str(v) for k, v in extra.items()})
    return env


def planwise(*args, cwd: Path | None = None, site: Path | None = None, env: dict | None = None,
             exe: Path | str = PLANWISE, timeout: int = TIMEOUT, **extra: str) -> subprocess.CompletedProcess:
    """Run ``planwise ARGS`` to the end; ``env`` replaces the cleaned environment when given."""
    return subprocess.run([str(exe), *map(str, args)], cwd=cwd, env=env if env is not None else planwise_env(site, **extra),
                          capture_output=True, text=True, timeout=timeout)


def start(*args, cwd: Path | None = None, site: Path | None = None, **extra: str) -> subprocess.Popen:
    """Start ``planwise ARGS`` in the background (text pipes for stdout and stderr)."""
    return subprocess.Popen([str(PLANWISE), *map(str, args)], cwd=cwd, env=planwise_env(site, **extra), text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def finish(proc: subprocess.Popen, timeout: int = TIMEOUT) -> subprocess.CompletedProcess:
    stdout, stderr = proc.communicate(timeout=timeout)
    return subprocess.CompletedProcess(proc.args, proc.returncode, stdout, stderr)


def clean_failure(proc: subprocess.CompletedProcess, code: int, *fragments: str) -> str:
    """Assert a clean failure: the exit code, no traceback anywhere, and every fragment in stderr."""
    assert proc.returncode == code, (proc.returncode, proc.stdout, proc.stderr)
    assert "Traceback" not in proc.stderr + proc.stdout, proc.stderr
    for fragment in fragments:
        assert fragment in proc.stderr, (fragment, proc.stderr)
    return proc.stderr


def copy_dist(name: str, where: Path) -> Path:
    """A copy of the fixture distribution tests/plugins/NAME as a site folder under ``where``."""
    site = where / f"site-{name}"
    shutil.copytree(FIXTURE_DISTS / name, site)
    return site
