"""`yzw demo`: the main job with no setup — the mock platform and the reference system on loopback, certified.

It starts the three mock nodes and the reference departmental system on free 127.0.0.1 ports, registers
the system as mocks/reference-sut.yaml describes it, runs every conformance suite against it and writes
the reports. `--fault NAME` seeds one of the reference system's faults (mocks/faults.yaml) to show a failure.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Annotated

import typer
import yaml

from yzw.cli.output import out
from yzw.cli.run import DEFAULT_REPORTS, certify
from yzw.content import content_path
from yzw.mock.runner import start_platform
from yzw.reference.faults import chosen
from yzw.reference.runner import start_reference
from yzw.run.options import RunOptions
from yzw.sut import load_registration

DEMO_WAIT_SECONDS = 5.0


def demo(
    report_dir: Annotated[Path, typer.Option(help="Where the reports go.")] = DEFAULT_REPORTS,
    fault: Annotated[list[str] | None, typer.Option(help="Seed a fault of the reference system (repeatable).")] = None,
) -> None:
    """Certify the embedded reference system against the mock platform, with no configuration.

    Example: yzw demo            (yzw demo --fault no-idempotency shows a failing requirement)
    """
    faults = chosen(fault or [])
    registration = load_registration(content_path("mocks", "reference-sut.yaml"))
    out.print("Starting the mock platform (province, city, county) and the reference system on 127.0.0.1 …")
    platform = start_platform()
    try:
        reference = start_reference(platform, registration, faults=faults)
        try:
            with tempfile.TemporaryDirectory(prefix="yzw-demo-") as folder:
                sut = Path(folder) / "sut.yaml"
                pointed = reference.registration.as_record()
                sut.write_text(yaml.safe_dump(pointed, allow_unicode=True), encoding="utf-8")
                options = RunOptions.checked(
                    sut=sut,
                    platform=platform.urls["province"],
                    profile="ci",
                    wait=DEMO_WAIT_SECONDS,
                    report_dir=report_dir,
                )
                code = certify(options, reference.registration)
        finally:
            reference.stop()
    finally:
        platform.stop()
    raise typer.Exit(code)
