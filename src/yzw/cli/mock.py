"""`yzw mock up`: the mock platform (province, city, county nodes) on 127.0.0.1 for a vendor's laptop or CI."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Annotated

import httpx
import typer
from rich.live import Live
from rich.table import Table

from yzw.cli.output import command_group, new_table, out
from yzw.content import content_path
from yzw.errors import YzwError
from yzw.mock.runner import RunningPlatform, start_platform
from yzw.mock.topology import load_topology
from yzw.reference.faults import chosen
from yzw.reference.runner import port_of, start_reference
from yzw.spec.catalogue import load_catalogue
from yzw.sut import PlatformGrant, Registration, load_registration

app = command_group("The mock platform: province, city and county nodes on 127.0.0.1.")


@app.command("up")
def up(
    topology: Annotated[Path | None, typer.Option(help="Topology file (default: mocks/topology.yaml).")] = None,
    db: Annotated[str, typer.Option(help="SQLite file, :memory:, or postgresql://… shared by replicas.")] = ":memory:",
    port_base: Annotated[
        int, typer.Option(min=0, max=65000, help="Node i listens on port-base + i; 0: free ports.")
    ] = 8700,
    sut: Annotated[list[Path] | None, typer.Option(help="Register a system from its sut.yaml (repeatable).")] = None,
    with_reference: Annotated[
        bool, typer.Option(help="Also start the reference system (mocks/reference-sut.yaml).")
    ] = False,
    fault: Annotated[list[str] | None, typer.Option(help="With --with-reference: a seeded fault; repeatable.")] = None,
    duration: Annotated[
        float | None, typer.Option(min=0, help="Stop after this many seconds (default: Ctrl-C).")
    ] = None,
    catalog: Annotated[
        Path | None,
        typer.Option(
            help="A department's own catalogue items (JSON or YAML): the --sut records' (overriding their "
            "catalog:), or without --sut served as they are; kept across resets."
        ),
    ] = None,
) -> None:
    """Start the mock platform and keep it running until Ctrl-C.

    Example: yzw mock up --sut mocks/reference-sut.yaml
    """
    registrations = [load_registration(path, catalog) for path in sut or []]
    own_items = load_catalogue(catalog) if catalog is not None and not registrations else []
    faults = chosen(fault or [])
    if faults and not with_reference:
        raise YzwError("--fault switches on faults of the reference system: add --with-reference")
    running = start_platform(load_topology(topology), db=db, port_base=port_base)
    try:
        grants = [(registration, running.register(registration)) for registration in registrations]
        if own_items:
            running.keep_items(own_items)
        _print_nodes(running)
        for registration, grant in grants:
            _print_grant(registration, grant)
        _watch_with_reference(running, duration, with_reference, free_ports=port_base == 0, faults=faults)
    except KeyboardInterrupt:
        out.print("stopping …")
    finally:
        running.stop()
    out.print("the mock platform stopped")


def _print_nodes(running: RunningPlatform) -> None:
    table = new_table("node", "tier", "division", "URL", "serves", title="Mock platform (YZW-NORM-2026)")
    for node in running.platform.topology.nodes:
        serves = (
            "/idp /catalog /license /exchange /supervision" if node.tier == "province" else "/exchange /supervision"
        )
        table.add_row(node.name, node.tier, node.division_code, running.urls[node.name], serves)
    out.print(table)
    out.print(
        f"Register a system: POST {running.urls['province']}/_mock/systems with its sut record (JSON); "
        f"inspect traffic at /_mock/traffic on each node."
    )


def _print_grant(registration: Registration, grant: PlatformGrant) -> None:
    out.print(
        f"[bold]{registration.app_id}[/]: platform_app_id={grant.app_id} platform_secret={grant.secret} "
        f"province={grant.province_url} exchange={grant.exchange_url}"
    )


def watch(running: RunningPlatform | None, duration: float | None) -> None:
    """A live line of request counts per node (when there is a platform) until the duration ends, or forever."""
    deadline = None if duration is None else time.monotonic() + duration
    if running is None:
        while deadline is None or time.monotonic() < deadline:
            time.sleep(0.2)
        return
    with Live(_counts(running), console=out, refresh_per_second=2, transient=True) as live:
        while deadline is None or time.monotonic() < deadline:
            time.sleep(0.5)
            live.update(_counts(running))


def _counts(running: RunningPlatform) -> Table:
    table = new_table("node", "requests", "errors", "last", box=None)
    for name, log in running.platform.traffic.items():
        entries = list(log)
        errors = sum(1 for e in entries if e.get("status", 200) >= 400)
        last = f"{entries[-1]['method']} {entries[-1]['path']} {entries[-1].get('status')}" if entries else "—"
        table.add_row(name, str(len(entries)), str(errors), last)
    return table


def _watch_with_reference(
    running: RunningPlatform,
    duration: float | None,
    with_reference: bool,
    free_ports: bool,
    faults: frozenset[str] = frozenset(),
) -> None:
    """Watch the platform; with the reference system beside it, on its record's port (or a free one)."""
    if not with_reference:
        watch(running, duration)
        return
    registration = load_registration(content_path("mocks", "reference-sut.yaml"))
    port = 0 if free_ports else port_of(registration)
    reference = start_reference(running, registration, faults=faults, port=port)
    out.print(f"reference system {registration.app_id} at {reference.url} (driver: {reference.url}/_driver)")
    try:
        watch(running, duration)
    finally:
        reference.stop()


@app.command("export")
def export(
    node: Annotated[str, typer.Option(help="The node's URL (an exchange of `yzw mock up`).")] = "http://127.0.0.1:8700",
    out_file: Annotated[Path, typer.Option("--out", help="The JSON Lines dump to write.")] = Path("events.jsonl"),
) -> None:
    """Write the events a node recorded, with arrival and delay, as a JSON Lines dump for `yzw audit`.

    Example: yzw mock export --node http://127.0.0.1:8702 --out county.jsonl
    """
    try:
        answer = httpx.get(node.rstrip("/") + "/_mock/events", timeout=60)
        events = answer.json()["events"]
    except (httpx.HTTPError, ValueError, KeyError) as exc:
        raise YzwError(f"no mock node answers at {node} ({type(exc).__name__}); start one with `yzw mock up`") from None
    try:
        with out_file.open("w", encoding="utf-8") as handle:
            for event in events:
                handle.write(json.dumps(event, ensure_ascii=False) + "\n")
    except OSError as exc:
        raise YzwError(f"cannot write {out_file}: {exc}") from None
    out.print(f"{out_file}: {len(events)} events of {node}")
