"""Staff accounts, sessions and CSRF: who may see and do what in the console.

Passwords are hashed with Argon2 (argon2-cffi). A session is a signed cookie (itsdangerous) holding the
account name and a CSRF token, HttpOnly and SameSite=Strict; every form posts the token back. Roles: `admin`
(everything, accounts too), `reviewer` (systems, runs, waivers, certificates), `vendor` (read-only, and only
the systems registered to its own vendor name).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from itsdangerous import BadSignature, URLSafeTimedSerializer

from yzw.console.db import ConsoleDb, now
from yzw.errors import YzwError

ROLES = ("admin", "reviewer", "vendor")
SESSION_COOKIE = "yzw_console"
SESSION_SECONDS = 8 * 3600  # a working day
MIN_PASSWORD = 10
_hasher = PasswordHasher()


@dataclass(frozen=True)
class Account:
    name: str
    role: str
    vendor: str  # the vendor a `vendor` account belongs to ("" for office staff)

    @property
    def staff(self) -> bool:
        return self.role in ("admin", "reviewer")

    def sees(self, vendor: str) -> bool:
        """May this account see a system registered to `vendor`?"""
        return self.staff or (bool(self.vendor) and self.vendor == vendor)


@dataclass(frozen=True)
class Session:
    account: Account
    csrf: str


def add_account(db: ConsoleDb, name: str, password: str, role: str, vendor: str = "") -> Account:
    """A new account; a YzwError names what is wrong (role, vendor, password length, a name taken)."""
    if role not in ROLES:
        raise YzwError(f"--role {role!r}: choose one of {', '.join(ROLES)}")
    if (role == "vendor") != bool(vendor):
        raise YzwError("a vendor account needs --vendor NAME (the vendor of its systems); staff accounts take none")
    if len(password) < MIN_PASSWORD:
        raise YzwError(f"the password is too short: at least {MIN_PASSWORD} characters")
    if not name.strip() or db.one("SELECT name FROM console_accounts WHERE name = ?", name):
        raise YzwError(f"account name {name!r} is empty or taken")
    db.store.execute(
        "INSERT INTO console_accounts (name, password_hash, role, vendor, created_at) VALUES (?, ?, ?, ?, ?)",
        name,
        _hasher.hash(password),
        role,
        vendor,
        now(),
    )
    return Account(name, role, vendor)


def check_password(db: ConsoleDb, name: str, password: str) -> Account | None:
    """The account when the password is its own; None otherwise (the same answer for an unknown name)."""
    row = db.one("SELECT name, password_hash, role, vendor FROM console_accounts WHERE name = ?", name)
    stored = row["password_hash"] if row else _hasher.hash(secrets.token_hex(8))  # equal work either way
    try:
        _hasher.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return None
    return Account(row["name"], row["role"], row["vendor"]) if row else None


class Sessions:
    """Signed session cookies: the account name and the session's CSRF token."""

    def __init__(self, db: ConsoleDb) -> None:
        self._db = db
        self._serializer = URLSafeTimedSerializer(db.secret("session-key"), salt="yzw-console-session")

    def cookie_for(self, account: Account) -> str:
        epoch = self._epoch(account.name)
        return self._serializer.dumps({"name": account.name, "csrf": secrets.token_urlsafe(24), "epoch": epoch})

    def session_of(self, cookie: str | None) -> Session | None:
        """The session a cookie signs, if it is unaltered, younger than a working day and of the account's
        current epoch (signing out ends every earlier cookie)."""
        if not cookie:
            return None
        try:
            data = self._serializer.loads(cookie, max_age=SESSION_SECONDS)
        except BadSignature:
            return None
        row = self._db.one(
            "SELECT name, role, vendor, session_epoch FROM console_accounts WHERE name = ?", data.get("name")
        )
        if row is None or row["session_epoch"] != data.get("epoch"):
            return None
        return Session(Account(row["name"], row["role"], row["vendor"]), str(data["csrf"]))

    def end_all(self, account: Account) -> None:
        """Sign the account out everywhere: every cookie issued so far stops working."""
        self._db.store.execute(
            "UPDATE console_accounts SET session_epoch = session_epoch + 1 WHERE name = ?", account.name
        )

    def _epoch(self, name: str) -> int:
        row = self._db.one("SELECT session_epoch FROM console_accounts WHERE name = ?", name)
        return int(row["session_epoch"]) if row else 0
