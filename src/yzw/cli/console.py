"""`yzw console`: the e-government office's acceptance desk — its signing keys, certificates, revocations."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from yzw.cli.output import command_group, out
from yzw.codes.times import today_cn
from yzw.errors import YzwError
from yzw.report.certificate import DEFAULT_VALID_DAYS, issue, read_certificate, read_revocations, revoke
from yzw.report.document import verify as verify_report
from yzw.report.office_key import PUBLIC_FILE, generate_keys, load_public_key, load_signing_key
from yzw.report.rendering import certificate_html, print_pdf

app = command_group(
    "The office's acceptance desk: its SM2 key pair, certificates for passing runs, and their revocation."
)

KeyOption = Annotated[
    Path, typer.Option("--key", help="The office's private key (office-key.json from `yzw console keys`).")
]


def write_json(path: Path, document: dict[str, Any]) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(document, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    except OSError as exc:
        raise YzwError(f"cannot write {path}: {exc}") from None


@app.command("keys")
def keys(
    out_dir: Annotated[Path, typer.Option("--out", help="Folder for office-key.json and office-public.json.")] = Path(
        "office-keys"
    ),
    kid: Annotated[str | None, typer.Option("--kid", help="The key's name (default: office-<UTC time>).")] = None,
    force: Annotated[bool, typer.Option("--force", help="Replace an existing key pair.")] = False,
) -> None:
    """Generate the office's SM2 key pair: keep office-key.json private, publish office-public.json.

    Example: yzw console keys --out office-keys
    """
    private_path, public_path = generate_keys(out_dir, kid, replace=force)
    out.print(f"private key {private_path} (mode 0600: keep it private)")
    out.print(f"public key  {public_path} (publish it: `yzw report verify` checks certificates with it)")


@app.command("issue")
def issue_certificate(
    report: Annotated[Path, typer.Argument(help="The report.json of a passing run (`yzw run`, `yzw demo`).")],
    key: KeyOption,
    out_file: Annotated[Path, typer.Option("--out", help="Where to write the certificate (JSON).")] = Path(
        "certificate.json"
    ),
    valid_days: Annotated[int, typer.Option("--valid-days", help="Days the certificate is valid.")] = (
        DEFAULT_VALID_DAYS
    ),
    pdf: Annotated[bool, typer.Option("--pdf", help="Also print a PDF (needs Debian's chromium).")] = False,
) -> None:
    """Issue a signed certificate for a passing run; writes the JSON, an HTML rendering and, with --pdf, a PDF.

    Example: yzw console issue yzw-report/report.json --key office-keys/office-key.json --pdf
    """
    certificate = issue(verify_report(report), load_signing_key(key), today_cn(), valid_days)
    write_json(out_file, certificate)
    html = out_file.with_suffix(".html")
    html.write_text(certificate_html(certificate), encoding="utf-8")
    out.print(f"certificate {certificate['serial']} for {certificate['system']['app_id']}: {out_file}, {html}")
    if pdf:
        print_pdf(html, out_file.with_suffix(".pdf"))
        out.print(f"PDF {out_file.with_suffix('.pdf')}")
    out.print(f"valid {certificate['issued_on']} to {certificate['expires_on']} (exclusive)")


@app.command("revoke")
def revoke_certificate(
    certificate: Annotated[Path, typer.Argument(help="The certificate to revoke (JSON).")],
    key: KeyOption,
    reason: Annotated[str, typer.Option("--reason", help="Why: kept in the list for whoever verifies.")],
    listing: Annotated[Path, typer.Option("--list", help="The revocation list to add to (created if absent).")] = (
        Path("revocations.json")
    ),
) -> None:
    """Revoke a certificate: add it to the office's signed revocation list, which the office publishes.

    Example: yzw console revoke certificate.json --key office-keys/office-key.json --reason "system changed"
    """
    signing_key = load_signing_key(key)
    public = load_public_key(key)
    current = read_revocations(listing, public) if listing.exists() else None
    updated = revoke(current, read_certificate(certificate), reason, signing_key, today_cn())
    write_json(listing, updated)
    out.print(f"revoked {updated['revoked'][-1]['serial']}; {listing} lists {len(updated['revoked'])}")


PUBLIC_KEY_HELP = f"The office's public key ({PUBLIC_FILE}); needed to verify a certificate."
