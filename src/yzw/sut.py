"""A departmental system's registration record (sut.yaml, norm §1), read and checked once, then typed.

Everything downstream takes a `Registration`, never the raw mapping: the record's keys are known here only.
The platform's answer to a registration (its app id, its secret and the URLs the system must call) is the
typed part `PlatformGrant`.

The department's own catalogue (`catalog:`, a file beside the record) is read here too: downstream, and on the
wire to the platform, the record carries the items themselves, so nothing else resolves a path.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import yaml

from yzw.errors import YzwError
from yzw.spec import validate
from yzw.spec.catalogue import BadCatalogue, Department, check_items, load_catalogue


@dataclass(frozen=True)
class PlatformGrant:
    """What the platform gives a registered system (norm §1): its key and the URLs the system calls."""

    app_id: str
    secret: str = field(repr=False)  # never in a log or a traceback
    province_url: str
    exchange_url: str

    @classmethod
    def from_answer(cls, answer: Mapping[str, Any]) -> PlatformGrant:
        """From the platform's answer to a registration (`POST /_mock/systems`)."""
        urls = answer["platform"]
        return cls(
            str(answer["platform_app_id"]),
            str(answer["platform_secret"]),
            str(urls["province"]).rstrip("/"),
            str(urls["exchange"]).rstrip("/"),
        )

    def as_answer(self) -> dict[str, Any]:
        """The answer's JSON form (what `yzw mock up` prints and the platform sends)."""
        return {
            "platform_app_id": self.app_id,
            "platform_secret": self.secret,
            "platform": {"province": self.province_url, "exchange": self.exchange_url},
        }


@dataclass(frozen=True)
class Registration:
    """One system's registration record, checked against specs/schemas/sut.schema.json (REG-01)."""

    app_id: str
    app_secret: str = field(repr=False)  # never in a log or a traceback
    tier: str
    division_code: str
    dept_uscc: str
    dept_seq: str
    base_url: str
    sso_url: str
    items: tuple[str, ...]
    formats: tuple[str, ...]
    driver_url: str | None = None
    platform_app_id: str | None = None  # what the platform issued, when the vendor wrote it into the record
    platform_secret: str | None = field(default=None, repr=False)
    platform_urls: tuple[tuple[str, str], ...] = ()
    catalog: tuple[dict[str, Any], ...] = field(default=(), repr=False)  # the department's own items, if any
    # the record as written: what `as_record` sends; not compared (two records equal in every typed field
    # are one registration, whatever extra members or trailing slashes they were written with)
    _record: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_mapping(cls, record: Mapping[str, Any], source: str = "the registration record") -> Registration:
        """A checked record, or a YzwError naming `source`, each bad field and its reason."""
        problems = validate("sut", dict(record)) if isinstance(record, Mapping) else []
        if not isinstance(record, Mapping) or problems:
            reasons = "; ".join(f"{p.path or '/'} {p.reason}" for p in problems) or "not a mapping"
            raise YzwError(f"[REG-01] {source} is not a valid registration record: {reasons} (see README, sut.yaml)")
        registration = cls.from_checked(record)
        wrong = check_items(list(registration.catalog), f"{source} catalog", department=registration.department(source))
        if wrong:
            raise BadCatalogue(wrong)
        return registration

    @classmethod
    def from_checked(cls, record: Mapping[str, Any]) -> Registration:
        """From a record already checked against the schema (a platform's stored registrations)."""
        driver = record.get("driver") or {}
        return cls(
            app_id=str(record["app_id"]),
            app_secret=str(record["app_secret"]),
            tier=str(record["tier"]),
            division_code=str(record["division_code"]),
            dept_uscc=str(record["dept_uscc"]),
            dept_seq=str(record["dept_seq"]),
            base_url=str(record["base_url"]).rstrip("/"),
            sso_url=str(record["sso_url"]),
            items=tuple(str(code) for code in record["items"]),
            formats=tuple(str(name) for name in record["formats"]),
            driver_url=str(driver["url"]).rstrip("/") if driver.get("url") else None,
            platform_app_id=_text(record.get("platform_app_id")),
            platform_secret=_text(record.get("platform_secret")),
            platform_urls=tuple(sorted((str(k), str(v)) for k, v in (record.get("platform") or {}).items())),
            catalog=tuple(copy.deepcopy(record["catalog"])) if isinstance(record.get("catalog"), list) else (),
            _record=copy.deepcopy(dict(record)),
        )

    def as_record(self) -> dict[str, Any]:
        """The record as written (JSON-ready): what is sent to the platform's registration."""
        return copy.deepcopy(self._record)

    def served_at(self, url: str) -> Registration:
        """The same system served at another base URL (its SSO hand-off and driver move with it)."""
        url = url.rstrip("/")
        sso, driver = url + "/yzw/v1/sso", url + "/_driver"
        record = {**self._record, "base_url": url, "sso_url": sso, "driver": {"url": driver}}
        return replace(self, base_url=url, sso_url=sso, driver_url=driver, _record=record)

    def changed(self, **members: Any) -> Registration:
        """The same record with some members changed (checked again, as any record)."""
        return Registration.from_mapping({**self._record, **members})

    def with_catalog(self, items: list[dict[str, Any]]) -> Registration:
        """The same system with the department's own catalogue items (`catalog:` or `--catalog`), carried in
        the record so that the platform it registers at serves them (and restores them on every reset)."""
        return replace(self, catalog=tuple(copy.deepcopy(items)), _record={**self._record, "catalog": list(items)})

    def department(self, source: str = "the registration record") -> Department:
        """What the own catalogue's items must belong to."""
        return Department(self.dept_uscc, self.dept_seq, source)

    def accepts_xml(self) -> bool:
        return "xml" in self.formats


def _text(value: Any) -> str | None:
    return str(value) if value else None


def load_record(path: Path) -> Registration:
    """The record in `path` as written, its `catalog:` file not read (`yzw catalog check --sut` reads that)."""
    try:
        record = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise YzwError(f"cannot read {path}: {exc}") from None
    return Registration.from_mapping(record, str(path))


def catalogue_path(path: Path, registration: Registration) -> Path | None:
    """The record's `catalog:` file, relative to the record (None when the record names none)."""
    written = registration.as_record().get("catalog")
    return path.parent / written if isinstance(written, str) else None


def load_registration(path: Path, catalog: Path | None = None) -> Registration:
    """The record in `path` with its department's catalogue (`catalog`, else the record's `catalog:` path,
    relative to the record), or a YzwError naming the file, the bad field (or item) and the fix."""
    registration = load_record(path)
    catalog = catalog or catalogue_path(path, registration)
    if catalog is None:
        return registration
    return registration.with_catalog(load_catalogue(catalog, registration.department(str(path))))
