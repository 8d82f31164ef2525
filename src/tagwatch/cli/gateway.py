"""``tagwatch gateway``, and the GT06 listener beside the web app in ``tagwatch serve --gt06-port``."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from ..gateway.gt06_server import LOOPBACK, Gt06Gateway, parse_networks
from .common import console, friendly

__all__ = ["Gt06Options", "run_gt06", "gateway", "Gt06PortOpt", "Gt06HostOpt", "AllowOpt", "IdleOpt"]

log = logging.getLogger("tagwatch.gateway")

Gt06PortOpt = Annotated[Optional[int], typer.Option("--gt06-port", help="Listen for GT06 (Concox) trackers on "
                                                    "this TCP port.")]
Gt06HostOpt = Annotated[str, typer.Option("--gt06-host", help="Interface for the GT06 listener.")]
AllowOpt = Annotated[Optional[list[str]], typer.Option(
    "--gt06-allow", help="A network GT06 devices may connect from, as CIDR (repeatable; default: loopback only). "
    "GT06 carries no secret: this is the devices' credential, so name the tracker SIM's private APN network.")]
IdleOpt = Annotated[float, typer.Option("--gt06-idle-s", help="Close a GT06 connection silent this long (s).")]


@dataclass(frozen=True)
class Gt06Options:
    port: int
    host: str = "127.0.0.1"
    allow: tuple[str, ...] = LOOPBACK
    idle_s: float = 600.0
    stats_every_s: float = 60.0
    extra: dict[str, Any] = field(default_factory=dict)


def options(port: int, host: str, allow: Optional[list[str]], idle_s: float) -> Gt06Options:
    nets = tuple(allow) if allow else LOOPBACK
    parse_networks(nets)  # refuse a bad CIDR before anything starts
    return Gt06Options(port, host, nets, idle_s)


def _loop_factory():
    try:
        import uvloop
        return uvloop.new_event_loop
    except ImportError:  # pragma: no cover - Windows
        return None


async def _log_stats(gw: Gt06Gateway, every_s: float) -> None:
    while True:
        await asyncio.sleep(every_s)
        log.info("gt06: %s", gw.stats.as_dict())


async def run_gt06(gw: Gt06Gateway, opts: Gt06Options, beside=None) -> None:
    """Serve GT06 on ``opts`` until ``beside`` (e.g. ``uvicorn.Server.serve()``) ends, or forever."""
    server = await gw.start(opts.host, opts.port)
    log.info("GT06 gateway on %s:%d (devices allowed from %s)", opts.host, opts.port, ", ".join(opts.allow))
    stats = asyncio.create_task(_log_stats(gw, opts.stats_every_s))
    try:
        if beside is None:
            await server.serve_forever()
        else:
            await beside
    finally:
        stats.cancel()
        server.close()
        log.info("gt06: %s", gw.stats.as_dict())


def run(main) -> None:
    """Run a coroutine on uvloop when it is installed (as uvicorn itself would)."""
    with asyncio.Runner(loop_factory=_loop_factory()) as runner:
        runner.run(main)


@friendly
def gateway(gt06_port: Annotated[int, typer.Option("--gt06-port", help="TCP port for GT06 trackers.")],
            api: Annotated[str, typer.Option(help="The web app that stores the fixes, e.g. http://127.0.0.1:8000.")],
            token_file: Annotated[Path, typer.Option(help="A file holding a gateway user's bearer token "
                                                     "(POST /api/auth/token); read again when it expires.")],
            gt06_host: Gt06HostOpt = "127.0.0.1", gt06_allow: AllowOpt = None, gt06_idle_s: IdleOpt = 600.0):
    """Run the GT06 gateway apart from the web app, forwarding fixes to its POST /api/fixes (Ctrl-C stops)."""
    from ..gateway.forward import HttpForwarder

    logging.basicConfig(level=logging.INFO, format="%(message)s")
    opts = options(gt06_port, gt06_host, gt06_allow, gt06_idle_s)
    forward = HttpForwarder(api, token_file)
    gw = Gt06Gateway(forward, opts.allow, opts.idle_s)
    console.print(f"GT06 on {gt06_host}:{gt06_port} -> {forward.url}")
    try:
        run(run_gt06(gw, opts))
    except KeyboardInterrupt:
        pass
