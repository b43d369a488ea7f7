"""`onshi terminal`: the folder terminal, and a card read at its reader."""

from __future__ import annotations

import logging
import signal
import threading
from pathlib import Path
from typing import Annotated, Optional

import typer

from ..cli_common import DatabaseOpt, TodayOpt

terminal_app = typer.Typer(
    help="The eligibility terminal for レセコン: answers PATH/req/*.xml in PATH/res/ (OQS XML files).",
    invoke_without_command=True,
    no_args_is_help=False,
)

DirOpt = Annotated[Optional[Path], typer.Option("--dir", help="the terminal's folder (req/, res/, face/ inside)")]
FacilityOpt = Annotated[Optional[str], typer.Option("--facility", "-f", help="医療機関コード of the facility this terminal serves")]
EncodingOpt = Annotated[str, typer.Option("--encoding", help="answers in: same (as the request) | utf-8 | shift_jis")]


def _terminal(directory: Path | None, facility: str | None, database: str | None, today: str | None, encoding: str = "same"):  # noqa: ANN202
    from ...registry.service import Registry
    from ..cli_common import engine as _engine, err, setup as _setup
    from .service import ENCODINGS, OqsService
    from .terminal import Terminal

    if directory is None or facility is None:
        err.print("[red]error:[/red] --dir and --facility are required")
        raise typer.Exit(2)
    if encoding not in ENCODINGS:
        err.print(f"[red]error:[/red] --encoding must be one of {', '.join(ENCODINGS)}")
        raise typer.Exit(2)
    _setup(database, today)
    registry = Registry(_engine(), buffered_log=True)  # the verification log in batches, like the server
    if registry.facility(facility) is None:
        registry.close()
        err.print(f"[red]error:[/red] --facility: unknown facility {facility}")
        raise typer.Exit(2)
    return Terminal(OqsService(registry, encoding=encoding), directory, facility)


@terminal_app.callback()
def terminal(
    ctx: typer.Context,
    directory: DirOpt = None,
    facility: FacilityOpt = None,
    once: Annotated[bool, typer.Option(help="answer what is in req/ (bulk requests included) and exit")] = False,
    encoding: EncodingOpt = "same",
    interval: Annotated[float, typer.Option(help="seconds between two looks at req/")] = 0.2,
    database: DatabaseOpt = None,
    today: TodayOpt = None,
) -> None:
    """Watch PATH/req and answer each request in PATH/res (Ctrl-C stops)."""
    ctx.obj = {"dir": directory, "facility": facility, "database": database, "today": today, "encoding": encoding}
    if ctx.invoked_subcommand is not None:
        return
    from ..cli_common import err

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    term = _terminal(directory, facility, database, today, encoding)
    term.interval = interval
    try:
        if once:
            n = term.run_once()
            err.print(f"{n} request(s) answered in {term.res}")
            return
        stop = threading.Event()
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: stop.set())
        err.print(f"watching {term.req} for facility {facility} (answers in {term.res}); Ctrl-C stops")
        term.run(stop)
    finally:
        term.service.registry.close()


@terminal_app.command("read-card")
def read_card(
    ctx: typer.Context,
    serial: Annotated[str, typer.Argument(help="card serial")],
    identity: Annotated[str, typer.Option(help="face | pin | visual | none")] = "face",
    smartphone: Annotated[bool, typer.Option(help="a スマホ保険証 rather than the card")] = False,
    limit_consent: Annotated[bool, typer.Option(help="the patient consents to 限度額 data")] = False,
    directory: DirOpt = None,
    facility: FacilityOpt = None,
    database: DatabaseOpt = None,
    today: TodayOpt = None,
) -> None:
    """A マイナ保険証 at the reader: verify it (logged) and write PATH/face/OQSsiquc01res_face_….xml."""
    from ...domain.errors import InputError
    from ..cli_common import err

    group = ctx.obj or {}
    term = _terminal(directory or group.get("dir"), facility or group.get("facility"), database or group.get("database"),
                     today or group.get("today"), group.get("encoding", "same"))
    try:
        result, path = term.read_card(serial, identity=identity, limit_consent=limit_consent, method="smartphone" if smartphone else "my_number_card")
    except InputError as exc:
        err.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from None
    finally:
        term.service.registry.close()
    print(path)
    err.print(result.validity_label or f"カードを利用できません: {result.error_message}")
