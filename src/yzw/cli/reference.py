"""`yzw reference up`: the reference departmental system, against a running mock platform."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from yzw.cli.mock import watch
from yzw.cli.output import command_group, out
from yzw.reference import flavours
from yzw.reference.faults import chosen
from yzw.reference.runner import REMEDY, port_of, register_remotely, serve_reference
from yzw.serving.server import bind
from yzw.sut import load_registration

app = command_group("The reference departmental system (a system that does what the norm asks).")


@app.command("up")
def up(
    sut: Annotated[Path, typer.Option(help="Its registration record (e.g. mocks/reference-sut.yaml).")],
    platform: Annotated[str, typer.Option(help="The province node of a running `yzw mock up`.")] = (
        "http://127.0.0.1:8700"
    ),
    db: Annotated[str, typer.Option(help="SQLite file for its state, or :memory:.")] = ":memory:",
    fault: Annotated[
        list[str] | None, typer.Option(help="Switch on a seeded fault (mocks/faults.yaml); repeatable.")
    ] = None,
    duration: Annotated[float | None, typer.Option(min=0, help="Stop after this many seconds.")] = None,
    flavour: Annotated[
        str, typer.Option(help="clean, or alternative: other choices the norm allows (JSON only, other numbering …).")
    ] = "clean",
) -> None:
    """Register the system at the mock platform and serve it where its base_url says, until Ctrl-C.

    Example: yzw mock up &  yzw reference up --sut mocks/reference-sut.yaml
    """
    chosen_flavour = flavours.flavour(flavour)
    registration = chosen_flavour.registers(load_registration(sut))
    faults = chosen(fault or [])
    sock = bind(port_of(registration), REMEDY)
    grant = register_remotely(platform, registration)
    running = serve_reference(registration, grant, sock, faults=faults, db=db, flavour=flavour)
    out.print(
        f"reference system {registration.app_id} at {registration.base_url}, registered at {platform}; "
        f"events go to {grant.exchange_url}"
    )
    try:
        watch(None, duration)
    except KeyboardInterrupt:
        out.print("stopping …")
    finally:
        running.stop()
    out.print("the reference system stopped")
