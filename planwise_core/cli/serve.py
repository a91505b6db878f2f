"""`planwise serve`: the local web application and REST API over a workspace folder (docs/serve.md)."""

from __future__ import annotations

import ipaddress
import logging
import os
from pathlib import Path

import click

from planwise_core.errors import PlanwiseError


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _log_to(folder: Path) -> None:
    """The server's own log (`.serve/serve.log`): request lines without query strings, and tracebacks."""
    handler = logging.FileHandler(folder / "serve.log")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    for name in ("planwise.serve", "planwise.serve.access"):
        logger = logging.getLogger(name)
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
        logger.propagate = False


def _list() -> None:
    from planwise_core.serve import registry

    servers = registry.running()
    if not servers:
        click.echo("No planwise server is running (for this user).")
    for entry in servers:
        click.echo(f"{entry['workspace']}  pid {entry['pid']}  since {entry.get('started_at', '?')}")
        click.echo(f"  Open: {registry.sign_in_url(entry)}")


def _open(url: str) -> None:
    """The browser, in a thread: a browser that keeps its command running must not hold up the server."""
    import threading
    import webbrowser

    threading.Thread(target=webbrowser.open, args=(url,), daemon=True).start()


@click.command()
@click.argument("workspace", default="planwise-workspace", type=click.Path(file_okay=False))
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind (loopback unless --allow-remote).")
@click.option("--port", type=click.IntRange(0, 65535), default=8401, show_default=True,
              help="Port (0: any free port; 8401 busy: 8402-8410 are tried).")
@click.option("--allow-remote", is_flag=True, help="Allow a non-loopback --host (plain HTTP: prefer an SSH tunnel).")
@click.option("--allowed-host", multiple=True, help="Another Host header to accept (repeatable), e.g. a tunnel name.")
@click.option("--new-token", is_flag=True, help="Replace the workspace's token (signs everyone out).")
@click.option("--max-concurrent", type=click.IntRange(1, 64), help="Simulations at once (default: cores and memory).")
@click.option("--max-queued", type=click.IntRange(1, 10_000), default=100, show_default=True, help="Queued jobs at most.")
@click.option("--max-upload-mb", type=click.IntRange(1, 100_000), default=512, show_default=True,
              help="Largest census upload, in MiB.")
@click.option("--cancel-grace", type=click.FloatRange(1, 3600), default=30.0, show_default=True,
              help="Seconds a cancelled run has to stop before it is terminated.")
@click.option("--read-only", is_flag=True, help="Serve results only: no runs, uploads or edits.")
@click.option("--resume-interrupted", is_flag=True, help="Queue again the runs a stopped server interrupted.")
@click.option("--open", "open_browser", is_flag=True, help="Open the sign-in URL in the browser (BROWSER is honoured).")
def serve(workspace, host, port, allow_remote, allowed_host, new_token, max_concurrent, max_queued,
          max_upload_mb, cancel_grace, read_only, resume_interrupted, open_browser):
    """Serve the pages and the REST API of a workspace folder on this machine; prints a sign-in URL.

    `planwise serve list` lists this user's running servers (a workspace folder named list: ./list)."""
    if workspace == "list":
        return _list()
    from planwise_core.serve.jobs import default_concurrency
    from planwise_core.serve.server import serve as run_server
    from planwise_core.serve.settings import TOKEN_ENV, Settings, load_token
    from planwise_core.serve.workspace import Workspace

    if not _loopback(host) and not allow_remote:
        raise click.UsageError(f"--host {host} is not a loopback address: anyone who can reach it could try the "
                               "token over plain HTTP. Add --allow-remote to mean it, or use an SSH tunnel.")
    try:
        ws = Workspace.open(workspace)
        token = load_token(ws.serve_dir, new=new_token)
    except ValueError as exc:
        raise PlanwiseError(str(exc)) from None
    if not _loopback(host):
        click.secho("WARNING: serving on a non-loopback address over plain HTTP (no TLS).", fg="red", err=True)
    _log_to(ws.serve_dir)
    settings = Settings(workspace=ws.root, token=token, host=host, port=port, allowed_hosts=tuple(allowed_host),
                        max_concurrent=max_concurrent or default_concurrency(), max_queued=max_queued,
                        max_upload_bytes=max_upload_mb * 1024 * 1024, cancel_grace=cancel_grace,
                        read_only=read_only)

    def announce(app, url: str) -> None:
        sched = app.state.scheduler
        if resume_interrupted:
            for job_id in sched.interrupted_at_start:
                sched.resume(job_id)
        click.echo(f"PlanWise serving {ws.name} ({len(sched.jobs)} runs)")
        click.echo(f"  Open: {url}/?token={token}")
        where = TOKEN_ENV if os.environ.get(TOKEN_ENV) else f"{ws.name}/.serve/token"
        click.echo(f"  Scripts: Authorization: Bearer <the token in {where}>")
        if sched.interrupted_at_start and not resume_interrupted:
            click.echo(f"  {len(sched.interrupted_at_start)} runs were interrupted when the server last stopped: "
                       "resume them on the Runs page.")
        click.echo("Ctrl-C stops the server; running simulations are interrupted and can be resumed.")
        if open_browser:
            _open(f"{url}/?token={token}")

    try:
        run_server(settings, announce)
    except KeyboardInterrupt:  # uvicorn re-raises the Ctrl-C it handled: the server has stopped cleanly
        pass
    except OSError as exc:
        raise PlanwiseError(f"Cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    click.echo("Stopped. Runs that were running are interrupted: resume them on the Runs page.")
