"""`yzw report`: check an archived certification report or a certificate."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated

import typer

from yzw.cli.console import PUBLIC_KEY_HELP
from yzw.cli.output import command_group, out
from yzw.codes.times import today_cn
from yzw.errors import YzwError
from yzw.report.certificate import (
    VALID,
    is_certificate,
    read_certificate,
    read_json,
    read_revocations,
    scope_text,
    status,
)
from yzw.report.document import verify as verify_report
from yzw.report.office_key import load_public_key

app = command_group("Certification reports and certificates: check that one is unchanged, and still valid.")


@app.command("verify")
def verify(
    path: Annotated[Path, typer.Argument(help="A report.json (`yzw run`, `yzw demo`) or a certificate.json.")],
    public_key: Annotated[Path | None, typer.Option("--public-key", help=PUBLIC_KEY_HELP)] = None,
    revocations: Annotated[
        Path | None, typer.Option("--revocations", help="The office's revocation list (`yzw console revoke`).")
    ] = None,
    on: Annotated[
        str | None, typer.Option("--on", help="The day to check a certificate for (YYYY-MM-DD; default today).")
    ] = None,
) -> None:
    """A report: recompute its SM3 digest (exit 0 when it matches, 2 with the reason when not). A certificate:
    check the office's SM2 signature, the revocation list and the dates offline; print valid / expired /
    revoked / invalid (exit 0 only when valid, 1 otherwise, 2 when a file cannot be used).

    Examples: yzw report verify yzw-report/report.json;
    yzw report verify certificate.json --public-key office-public.json --revocations revocations.json
    """
    if not is_certificate(read_json(path, "a report or a certificate")):
        document = verify_report(path)
        verdict = "PASSED" if document["summary"]["passed"] else "NOT PASSED"
        digest = document["digest"]["value"][:16]
        out.print(f"{path}: unchanged (SM3 {digest}…); {document['system']['app_id']} {verdict}")
        return
    if public_key is None:
        raise YzwError(f"{path} is a certificate: verify it with the office's public key, --public-key FILE")
    key = load_public_key(public_key)
    certificate = read_certificate(path)
    listing = read_revocations(revocations, key) if revocations else None
    found = status(certificate, key, listing, _day(on))
    out.print(f"{path}: {found.state} — certificate {certificate['serial']} of {certificate['system'].get('app_id')}")
    out.print(f"  {found.reason}; scope {scope_text(certificate)}")
    if found.state != VALID:
        raise typer.Exit(1)


def _day(text: str | None) -> dt.date:
    if text is None:
        return today_cn()
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise YzwError(f"--on {text!r} is not a date: write YYYY-MM-DD") from None
