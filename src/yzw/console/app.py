"""The console's web application: server-rendered pages (Starlette + Jinja2), no front-end build step.

Every page needs a signed-in account; a vendor account sees only its own vendor's systems, their runs and
certificates (anything else answers 403). Every form carries the session's CSRF token. The office's public
key and revocation list are published without sign-in, for whoever verifies a certificate.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import jinja2
import yaml
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from yzw.codes.times import today_cn
from yzw.console.auth import SESSION_COOKIE, SESSION_SECONDS, Session, Sessions, check_password
from yzw.console.db import ConsoleDb, new_id, now
from yzw.console.i18n import LANGUAGES, translator
from yzw.console.platform import PlatformUnavailable, PlatformView
from yzw.console.runs import RunManager, RunRequest
from yzw.content import content_path
from yzw.errors import YzwError
from yzw.report.certificate import empty_revocations, issue, revoke
from yzw.report.document import HIDDEN_FIELDS, verify
from yzw.report.office_key import PRIVATE_FILE, PUBLIC_FILE, generate_keys, load_public_key, load_signing_key
from yzw.report.rendering import certificate_html, print_pdf
from yzw.run.waivers import parse_entry
from yzw.sut import Registration

Handler = Callable[[Request], Awaitable[Response]]


class Denied(Exception):
    """The signed-in account may not see or do this (403)."""


@dataclass
class Console:
    """What the pages share: the database, the runs, the sessions, the office's keys and the templates."""

    db: ConsoleDb
    runs: RunManager
    sessions: Sessions
    keys: Path
    templates: jinja2.Environment
    platform: PlatformView

    @classmethod
    def open(cls, db: ConsoleDb, data: Path, platform: str) -> Console:
        keys = data / "office-keys"
        if not (keys / PRIVATE_FILE).exists():
            generate_keys(keys)
        templates = jinja2.Environment(
            loader=jinja2.FileSystemLoader(content_path("reports", "templates", "console")), autoescape=True
        )
        runs = RunManager(db, data, platform)
        runs.close_stale()  # runs a stopped console left behind ended with it
        return cls(db, runs, Sessions(db), keys, templates, PlatformView(platform))

    def page(self, request: Request, session: Session | None, name: str, **values: Any) -> HTMLResponse:
        language = request.cookies.get("lang", "zh")
        html = self.templates.get_template(name).render(
            t=translator(language), lang=language, languages=LANGUAGES, session=session, **values
        )
        return HTMLResponse(html)

    # what an account may see ------------------------------------------------------------------------------
    def system(self, session: Session, app_id: str) -> dict[str, Any]:
        row = self.db.one("SELECT * FROM console_systems WHERE app_id = ?", app_id)
        if row is None:
            raise Denied  # the same answer for a system that does not exist and one that is not yours
        if not session.account.sees(row["vendor"]):
            raise Denied
        row["record"] = json.loads(row["record"])
        return row

    def run(self, session: Session, run_id: str) -> dict[str, Any]:
        row = self.db.one("SELECT * FROM console_runs WHERE id = ?", run_id)
        if row is None:
            raise Denied
        self.system(session, row["app_id"])
        return row

    def certificate(self, session: Session | None, serial: str) -> dict[str, Any]:
        row = self.db.one("SELECT * FROM console_certificates WHERE serial = ?", serial)
        if row is None or session is None:
            raise Denied
        self.system(session, row["app_id"])
        return row

    def waivers_of(self, app_id: str) -> list[dict[str, Any]]:
        rows = self.db.rows("SELECT * FROM console_waivers WHERE app_id = ? ORDER BY created_at", app_id)
        for row in rows:
            row["approvers"] = json.loads(row["approvers"])
        return rows


class Pages:
    """The console's pages: each handler gets the request and the signed-in session."""

    def __init__(self, console: Console) -> None:
        self.console = console

    def signed_in(self, handler: Callable[[Request, Session], Awaitable[Response]], staff: bool = False) -> Handler:
        async def endpoint(request: Request) -> Response:
            session = self.console.sessions.session_of(request.cookies.get(SESSION_COOKIE))
            if session is None:
                return RedirectResponse(f"/login?next={request.url.path}", status_code=303)
            if request.method == "POST":
                form = await request.form()
                if form.get("csrf") != session.csrf:
                    return _denied(self.console, request, session, "CSRF token missing or wrong: reload the page")
                if any("\x00" in str(value) for value in form.values()):
                    return _denied(self.console, request, session, "a form field holds a NUL character", status=400)
            if staff and not session.account.staff:
                return _denied(self.console, request, session, "this needs a reviewer or admin account")
            try:
                return await handler(request, session)
            except Denied:
                self.console.db.audit(session.account.name, "refused", request.url.path)
                return _denied(self.console, request, session, "not yours to see")

        return endpoint

    async def login_page(self, request: Request) -> Response:
        return self.console.page(request, None, "login.html.j2", next=request.query_params.get("next", "/"), error="")

    async def login(self, request: Request) -> Response:
        form = await request.form()
        name, password = _field(form, "name"), _field(form, "password")
        account = check_password(self.console.db, name, password) if name is not None and password else None
        target = local_path(str(form.get("next", "/")))
        if account is None:
            self.console.db.audit(name or "?", "login refused", "")
            page = self.console.page(request, None, "login.html.j2", next=target, error="wrong name or password")
            page.status_code = 401
            return page
        self.console.db.audit(account.name, "login", "")
        response = RedirectResponse(target, status_code=303)
        response.set_cookie(
            SESSION_COOKIE,
            self.console.sessions.cookie_for(account),
            max_age=SESSION_SECONDS,
            httponly=True,
            samesite="strict",
        )
        return response

    async def logout(self, request: Request, session: Session) -> Response:
        self.console.db.audit(session.account.name, "logout", "")
        self.console.sessions.end_all(session.account)  # the cookie, or a copy of it, no longer signs anyone in
        response = RedirectResponse("/login", status_code=303)
        response.delete_cookie(SESSION_COOKIE)
        return response

    async def language(self, request: Request) -> Response:
        chosen = request.path_params["lang"]
        referer = urlsplit(request.headers.get("referer", "/"))
        back = referer.path if referer.netloc == request.url.netloc else "/"  # back to the page, on this console
        response = RedirectResponse(local_path(back), status_code=303)
        if chosen in LANGUAGES:
            response.set_cookie("lang", chosen, httponly=True, samesite="strict")
        return response

    async def systems(self, request: Request, session: Session) -> Response:
        rows = [
            row
            for row in self.console.db.rows("SELECT * FROM console_systems ORDER BY app_id")
            if session.account.sees(row["vendor"])
        ]
        for row in rows:
            row["record"] = json.loads(row["record"])
            row["latest"] = self.console.db.one(
                "SELECT * FROM console_runs WHERE app_id = ? ORDER BY started_at DESC, id DESC LIMIT 1", row["app_id"]
            )
            row["certificate"] = self.console.db.one(
                "SELECT * FROM console_certificates WHERE app_id = ? ORDER BY issued_on DESC LIMIT 1", row["app_id"]
            )
        return self.console.page(
            request, session, "systems.html.j2", systems=rows, error=request.query_params.get("error")
        )

    async def register(self, request: Request, session: Session) -> Response:
        form = await request.form()
        vendor = str(form.get("vendor", "")).strip()
        try:
            record = yaml.safe_load(str(form.get("record", "")))
            registration = Registration.from_mapping(record if isinstance(record, dict) else {}, "the record")
        except (yaml.YAMLError, YzwError) as exc:
            return RedirectResponse(f"/systems?error={_quote(str(exc))}", status_code=303)
        if not vendor:
            return RedirectResponse(f"/systems?error={_quote('name the vendor of the system')}", status_code=303)
        if self.console.db.one("SELECT app_id FROM console_systems WHERE app_id = ?", registration.app_id):
            return RedirectResponse(f"/systems?error={_quote(registration.app_id + ' is registered')}", 303)
        self.console.db.store.execute(
            "INSERT INTO console_systems (app_id, vendor, record, created_at) VALUES (?, ?, ?, ?)",
            registration.app_id,
            vendor,
            json.dumps(registration.as_record(), ensure_ascii=False, default=str),
            now(),
        )
        self.console.db.audit(
            session.account.name, "register system", {"app_id": registration.app_id, "vendor": vendor}
        )
        return RedirectResponse(f"/systems/{registration.app_id}", status_code=303)

    async def system(self, request: Request, session: Session) -> Response:
        row = self.console.system(session, request.path_params["app_id"])
        shown = {k: v for k, v in row["record"].items() if k not in HIDDEN_FIELDS}
        runs = self.console.db.rows(
            "SELECT * FROM console_runs WHERE app_id = ? ORDER BY started_at DESC, id DESC", row["app_id"]
        )
        certificates = self.console.db.rows(
            "SELECT * FROM console_certificates WHERE app_id = ? ORDER BY issued_on DESC", row["app_id"]
        )
        return self.console.page(
            request,
            session,
            "system.html.j2",
            system=row,
            record=yaml.safe_dump(shown, allow_unicode=True),
            runs=runs,
            certificates=certificates,
            waivers=self.console.waivers_of(row["app_id"]),
            today=str(today_cn()),
        )

    async def traffic(self, request: Request, session: Session) -> Response:
        row = self.console.system(session, request.path_params["app_id"])
        try:
            nodes = await asyncio.to_thread(self.console.platform.traffic, row["app_id"])
        except PlatformUnavailable as exc:
            return _denied(self.console, request, session, str(exc), status=502)
        live = request.query_params.get("live") == "1"
        return self.console.page(request, session, "traffic.html.j2", system=row, nodes=nodes, live=live)

    async def cases(self, request: Request, session: Session) -> Response:
        row = self.console.system(session, request.path_params["app_id"])
        dept = row["record"]["dept_uscc"]
        neighbours = self.console.db.rows(
            "SELECT vendor, record FROM console_systems WHERE app_id <> ?", row["app_id"]
        )  # another vendor's system of the same department: show only this system's own applications
        own_only = any(
            n["vendor"] != row["vendor"] and json.loads(n["record"])["dept_uscc"] == dept for n in neighbours
        )
        page = int(request.query_params["page"]) if request.query_params.get("page", "").isdigit() else 1
        try:
            found = await asyncio.to_thread(self.console.platform.cases, row["record"], own_only, page)
        except PlatformUnavailable as exc:
            return _denied(self.console, request, session, str(exc), status=502)
        return self.console.page(request, session, "cases.html.j2", system=row, found=found)

    async def start_run(self, request: Request, session: Session) -> Response:
        row = self.console.system(session, request.path_params["app_id"])
        form = await request.form()
        profile = "acceptance" if form.get("profile") == "acceptance" else "ci"
        waivers = [
            {**{k: w[k] for k in ("requirement", "app_id", "reason", "approvers", "expires_on")}}
            for w in self.console.waivers_of(row["app_id"])
        ]
        run_id = self.console.runs.start(
            RunRequest(
                row["app_id"],
                row["record"],
                profile,
                str(form.get("chapters", "")).strip(),
                str(form.get("only", "")).strip(),
                session.account.name,
            ),
            waivers,
        )
        self.console.db.audit(session.account.name, "start run", {"run": run_id, "app_id": row["app_id"]})
        return RedirectResponse(f"/runs/{run_id}", status_code=303)

    async def run_page(self, request: Request, session: Session) -> Response:
        run = self.console.run(session, request.path_params["run_id"])
        return self.console.page(request, session, "run.html.j2", run=run, **_live(self.console, run))

    async def run_live(self, request: Request, session: Session) -> Response:
        run = self.console.run(session, request.path_params["run_id"])
        return self.console.page(request, session, "run_live.html.j2", run=run, **_live(self.console, run))

    async def answer(self, request: Request, session: Session) -> Response:
        run = self.console.run(session, request.path_params["run_id"])
        form = await request.form()
        position = int(request.path_params["position"])
        given = str(form.get("number") or form.get("answer") or "").strip()
        if "\n" in given or "\r" in given:
            return _denied(self.console, request, session, "an answer is one line", status=400)
        if given and self.console.runs.answer(run["id"], position, given):
            self.console.db.audit(
                session.account.name, "answer card", {"run": run["id"], "card": position, "answer": given}
            )
        return RedirectResponse(f"/runs/{run['id']}", status_code=303)

    async def report(self, request: Request, session: Session) -> Response:
        run = self.console.run(session, request.path_params["run_id"])
        name = "report.json" if request.url.path.endswith(".json") else "report.html"
        path = Path(run["folder"]) / "report" / name
        if not path.is_file():
            return PlainNotFound("the run has written no report (yet)")
        return FileResponse(path)

    async def certify(self, request: Request, session: Session) -> Response:
        run = self.console.run(session, request.path_params["run_id"])
        try:
            document = verify(Path(run["folder"]) / "report" / "report.json")
            certificate = issue(document, load_signing_key(self.console.keys / PRIVATE_FILE), today_cn(), 365)
        except YzwError as exc:
            return _denied(self.console, request, session, str(exc), status=409)
        self.console.db.store.execute(
            "INSERT INTO console_certificates (serial, app_id, run_id, document, issued_on, expires_on) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            certificate["serial"],
            run["app_id"],
            run["id"],
            json.dumps(certificate, ensure_ascii=False),
            certificate["issued_on"],
            certificate["expires_on"],
        )
        self.console.db.audit(session.account.name, "issue certificate", {"serial": certificate["serial"]})
        return RedirectResponse(f"/certificates/{certificate['serial']}", status_code=303)

    async def certificates(self, request: Request, session: Session) -> Response:
        rows = self.console.db.rows(
            "SELECT c.*, s.vendor FROM console_certificates c JOIN console_systems s ON s.app_id = c.app_id "
            "ORDER BY issued_on DESC"
        )
        shown = [row for row in rows if session.account.sees(row["vendor"])]
        return self.console.page(request, session, "certificates.html.j2", certificates=shown)

    async def certificate(self, request: Request, session: Session) -> Response:
        serial = request.path_params["serial"]
        row = self.console.certificate(session, serial.removesuffix(".json").removesuffix(".pdf"))
        document = json.loads(row["document"])
        if serial.endswith(".json"):
            return JSONResponse(document, headers={"Content-Disposition": "attachment; filename=certificate.json"})
        if serial.endswith(".pdf"):
            return await self._pdf(request, session, document)
        return self.console.page(request, session, "certificate.html.j2", row=row, body=certificate_html(document))

    async def _pdf(self, request: Request, session: Session, document: dict[str, Any]) -> Response:
        folder = self.console.keys.parent / "certificates"
        folder.mkdir(exist_ok=True)
        html, pdf = folder / f"{document['serial']}.html", folder / f"{document['serial']}.pdf"
        if not pdf.is_file():
            html.write_text(certificate_html(document), encoding="utf-8")
            printing = pdf.with_name(f"{pdf.stem}.{new_id()}.pdf")  # two requests at once never serve half a file
            try:
                await asyncio.to_thread(print_pdf, html, printing)
            except YzwError as exc:
                return _denied(self.console, request, session, str(exc), status=501)
            printing.replace(pdf)
        return FileResponse(pdf, filename="certificate.pdf", media_type="application/pdf")

    async def revoke_certificate(self, request: Request, session: Session) -> Response:
        row = self.console.certificate(session, request.path_params["serial"])
        reason = str((await request.form()).get("reason", "")).strip()
        key = load_signing_key(self.console.keys / PRIVATE_FILE)
        try:
            with self.console.db.store.transaction() as db:  # one revocation at a time, across consoles
                self.console.db.store.lock(db, "console-revocations")
                found = db.execute("SELECT value FROM console_settings WHERE key = 'revocations'").fetchone()
                current = json.loads(found[0]) if found else None
                listing = revoke(current, json.loads(row["document"]), reason, key, today_cn())
                db.execute(
                    "INSERT INTO console_settings (key, value) VALUES ('revocations', ?) "
                    "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                    (json.dumps(listing, ensure_ascii=False),),
                )
                db.execute(
                    "UPDATE console_certificates SET revoked_on = ?, revoke_reason = ? WHERE serial = ?",
                    (str(today_cn()), reason, row["serial"]),
                )
        except YzwError as exc:
            return _denied(self.console, request, session, str(exc), status=409)
        self.console.db.audit(session.account.name, "revoke certificate", {"serial": row["serial"], "reason": reason})
        return RedirectResponse(f"/certificates/{row['serial']}", status_code=303)

    async def public_key(self, request: Request) -> Response:
        return JSONResponse(
            load_public_key(self.console.keys / PUBLIC_FILE).as_record(),
            headers={"Content-Disposition": f"attachment; filename={PUBLIC_FILE}"},
        )

    async def revocations(self, request: Request) -> Response:
        listing = _revocations(self.console)
        if listing is None:  # nothing revoked yet: an empty list, signed like any other
            listing = empty_revocations(load_signing_key(self.console.keys / PRIVATE_FILE), today_cn())
        return JSONResponse(listing, headers={"Content-Disposition": "attachment; filename=revocations.json"})

    async def record_waiver(self, request: Request, session: Session) -> Response:
        row = self.console.system(session, request.path_params["app_id"])
        form = await request.form()
        entry = {
            "requirement": str(form.get("requirement", "")).strip().upper(),
            "app_id": row["app_id"],
            "reason": str(form.get("reason", "")).strip(),
            "approvers": [session.account.name],
            "expires_on": str(form.get("expires_on", "")).strip(),
        }
        try:
            parse_entry("the form", 1, entry)  # the rules of `yzw run --waivers`
        except YzwError as exc:
            return _denied(self.console, request, session, str(exc), status=422)
        self.console.db.store.execute(
            "INSERT INTO console_waivers (id, app_id, requirement, reason, approvers, expires_on, created_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            new_id(),
            row["app_id"],
            entry["requirement"],
            entry["reason"],
            json.dumps(entry["approvers"]),
            entry["expires_on"],
            now(),
        )
        self.console.db.audit(session.account.name, "record waiver", entry)
        return RedirectResponse(f"/systems/{row['app_id']}", status_code=303)

    async def waivers(self, request: Request, session: Session) -> Response:
        rows = self.console.db.rows(
            "SELECT w.*, s.vendor FROM console_waivers w JOIN console_systems s ON s.app_id = w.app_id "
            "ORDER BY w.created_at DESC"
        )
        shown = [row for row in rows if session.account.sees(row["vendor"])]
        for row in shown:
            row["approvers"] = json.loads(row["approvers"])
            try:
                row["not_in_force"] = parse_entry("the console", 1, row).not_in_force(today_cn())
            except YzwError as exc:  # e.g. a requirement a later norm no longer has
                row["not_in_force"] = str(exc)
        return self.console.page(request, session, "waivers.html.j2", waivers=shown)

    async def approve_waiver(self, request: Request, session: Session) -> Response:
        waiver = self.console.db.one("SELECT * FROM console_waivers WHERE id = ?", request.path_params["waiver_id"])
        if waiver is None:
            raise Denied
        self.console.system(session, waiver["app_id"])
        approvers = json.loads(waiver["approvers"])
        if session.account.name in approvers:
            return _denied(self.console, request, session, "a second approver must be another person", status=409)
        approvers.append(session.account.name)
        self.console.db.store.execute(
            "UPDATE console_waivers SET approvers = ? WHERE id = ?", json.dumps(approvers), waiver["id"]
        )
        self.console.db.audit(session.account.name, "approve waiver", {"waiver": waiver["id"]})
        return RedirectResponse(f"/systems/{waiver['app_id']}", status_code=303)

    async def audit(self, request: Request, session: Session) -> Response:
        if session.account.role != "admin":
            raise Denied
        rows = self.console.db.rows("SELECT * FROM console_audit_log ORDER BY at DESC LIMIT 500")
        return self.console.page(request, session, "audit.html.j2", entries=rows)

    async def home(self, request: Request) -> Response:
        return RedirectResponse("/systems", status_code=303)


def build_app(console: Console) -> Starlette:
    """The console's routes."""
    pages = Pages(console)
    routes = [
        Route("/", pages.home),
        Route("/login", pages.login_page, methods=["GET"]),
        Route("/login", pages.login, methods=["POST"]),
        Route("/logout", pages.signed_in(pages.logout), methods=["POST"]),
        Route("/lang/{lang}", pages.language),
        Route("/systems", pages.signed_in(pages.systems), methods=["GET"]),
        Route("/systems", pages.signed_in(pages.register, staff=True), methods=["POST"]),
        Route("/systems/{app_id}", pages.signed_in(pages.system)),
        Route("/systems/{app_id}/runs", pages.signed_in(pages.start_run, staff=True), methods=["POST"]),
        Route("/systems/{app_id}/traffic", pages.signed_in(pages.traffic)),
        Route("/systems/{app_id}/cases", pages.signed_in(pages.cases)),
        Route("/systems/{app_id}/waivers", pages.signed_in(pages.record_waiver, staff=True), methods=["POST"]),
        Route("/waivers", pages.signed_in(pages.waivers)),
        Route("/waivers/{waiver_id}/approve", pages.signed_in(pages.approve_waiver, staff=True), methods=["POST"]),
        Route("/runs/{run_id}", pages.signed_in(pages.run_page)),
        Route("/runs/{run_id}/live", pages.signed_in(pages.run_live)),
        Route("/runs/{run_id}/cards/{position:int}", pages.signed_in(pages.answer, staff=True), methods=["POST"]),
        Route("/runs/{run_id}/report.html", pages.signed_in(pages.report)),
        Route("/runs/{run_id}/report.json", pages.signed_in(pages.report)),
        Route("/runs/{run_id}/certificate", pages.signed_in(pages.certify, staff=True), methods=["POST"]),
        Route("/certificates", pages.signed_in(pages.certificates)),
        Route("/certificates/{serial}", pages.signed_in(pages.certificate)),
        Route("/certificates/{serial}/revoke", pages.signed_in(pages.revoke_certificate, staff=True), methods=["POST"]),
        Route("/audit", pages.signed_in(pages.audit)),
        Route("/office-public.json", pages.public_key),
        Route("/revocations.json", pages.revocations),
    ]
    return Starlette(routes=routes)


def _revocations(console: Console) -> dict[str, Any] | None:
    text = console.db.setting("revocations")
    return dict(json.loads(text)) if text else None


def _live(console: Console, run: dict[str, Any]) -> dict[str, Any]:
    tests = console.db.rows("SELECT * FROM console_run_tests WHERE run_id = ? ORDER BY position", run["id"])
    cards = console.db.rows("SELECT * FROM console_cards WHERE run_id = ? ORDER BY position", run["id"])
    return {"tests": tests, "cards": cards, "total": tests[-1]["total"] if tests else 0}


def _denied(console: Console, request: Request, session: Session, reason: str, status: int = 403) -> HTMLResponse:
    page = console.page(request, session, "denied.html.j2", reason=reason)
    page.status_code = status
    return page


def local_path(target: str) -> str:
    """`target` when it is a path on this console ("/systems"), else "/": no redirect leaves the console."""
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not parts.path.startswith("/") or parts.path.startswith(("//", "/\\")):
        return "/"
    return parts.path + (f"?{parts.query}" if parts.query else "")


def _field(form: Any, name: str) -> str | None:
    """A text field of a form; None when it holds a NUL character (no account name or password does)."""
    value = str(form.get(name, ""))
    return None if "\x00" in value else value


def _quote(text: str) -> str:
    return quote(text[:300])


class PlainNotFound(HTMLResponse):
    def __init__(self, text: str) -> None:
        super().__init__(f"<p>{text}</p>", status_code=404)
