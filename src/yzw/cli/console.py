"""`yzw console`: the e-government office's acceptance desk — its signing keys, certificates, revocations."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Annotated, Any

import typer

from yzw.cli.attach import platform_at
from yzw.cli.output import command_group, out
from yzw.codes.times import today_cn
from yzw.console.app import Console, build_app
from yzw.console.auth import add_account
from yzw.console.db import ConsoleDb
from yzw.errors import YzwError
from yzw.report.certificate import DEFAULT_VALID_DAYS, issue, read_certificate, read_revocations, revoke, scope_text
from yzw.report.document import verify as verify_report
from yzw.report.office_key import PUBLIC_FILE, generate_keys, load_public_key, load_signing_key
from yzw.report.rendering import certificate_html, print_pdf
from yzw.serving.server import HOST, bind, serve

app = command_group(
    "The office's acceptance desk: the web console, its accounts, the SM2 key pair, certificates and revocations."
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
    out.print(f"valid {certificate['issued_on']} to {certificate['expires_on']} (exclusive); {scope_text(certificate)}")


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


DbOption = Annotated[str, typer.Option("--db", help="The console's database: a SQLite file, or a postgresql:// URL.")]
DEFAULT_DATA = Path("console-data")
DEFAULT_DB = str(DEFAULT_DATA / "console.db")


@app.command("serve")
def serve_console(
    db: DbOption = DEFAULT_DB,
    data: Annotated[
        Path, typer.Option("--data", help="Folder for runs, their reports, and the office's keys.")
    ] = DEFAULT_DATA,
    platform: Annotated[
        str,
        typer.Option(
            "--platform",
            help="The mock platform's province URL the runs use (`yzw mock up`); when nothing listens there, the "
            "console starts one there itself.",
        ),
    ] = "http://127.0.0.1:8700",
    port: Annotated[int, typer.Option("--port", help="Port on 127.0.0.1 (0: a free one).")] = 8800,
    duration: Annotated[
        float | None, typer.Option("--duration", help="Stop after this many seconds (default: until Ctrl-C).")
    ] = None,
) -> None:
    """Serve the web console on 127.0.0.1: systems, runs watched live, operator cards, waivers, certificates.

    Example: yzw console user add admin --role admin; yzw console serve --platform http://127.0.0.1:8700
    """
    data.mkdir(parents=True, exist_ok=True)
    if "://" not in db:
        Path(db).parent.mkdir(parents=True, exist_ok=True)
    console = Console.open(ConsoleDb(db), data, platform)
    if console.db.one("SELECT name FROM console_accounts LIMIT 1") is None:
        raise YzwError(
            f"the console has no account yet: add one with `yzw console user add NAME --role admin --db {db}`"
        )
    sock = bind(port, "choose another --port")
    running = platform_at(platform)  # next to a running `yzw mock up`, or with one of its own
    if running is not None:
        out.print(
            f"no mock platform at {platform}: started one ({', '.join(f'{n} {u}' for n, u in running.urls.items())})"
        )
    server, thread = serve(build_app(console), sock, "console")
    out.print(f"console at http://{HOST}:{sock.getsockname()[1]}/ (database {db}, runs in {data}, platform {platform})")
    out.print(f"office public key: http://{HOST}:{sock.getsockname()[1]}/office-public.json")
    try:
        deadline = None if duration is None else time.monotonic() + duration
        while thread.is_alive() and (deadline is None or time.monotonic() < deadline):
            time.sleep(0.2)
    finally:
        console.runs.stop_all()
        server.should_exit = True
        thread.join(timeout=5)
        if running is not None:
            running.stop()


users = command_group("Staff and vendor accounts of the console.")
app.add_typer(users, name="user")


@users.command("add")
def add_user(
    name: Annotated[str, typer.Argument(help="The account's name.")],
    role: Annotated[str, typer.Option("--role", help="admin, reviewer or vendor.")],
    vendor: Annotated[str, typer.Option("--vendor", help="For a vendor account: the vendor of its systems.")] = "",
    db: DbOption = DEFAULT_DB,
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from standard input (for scripts).")
    ] = False,
) -> None:
    """Add an account; the password is asked twice (hidden), or read from stdin with --password-stdin.

    Example: yzw console user add wang --role reviewer
    """
    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = typer.prompt("password", hide_input=True, confirmation_prompt=True)
    if "://" not in db:
        Path(db).parent.mkdir(parents=True, exist_ok=True)
    account = add_account(ConsoleDb(db), name, password, role, vendor)
    out.print(f"account {account.name} ({account.role}{', ' + account.vendor if account.vendor else ''}) added to {db}")
