"""What a load run's locust processes need to know, written by `yzw load` and read by loadtests/locustfile.py."""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import yaml

from yzw.content import content_path

PLAN_ENV = "YZW_LOAD_PLAN"


def slo_rules() -> dict[str, Any]:
    """specs/rules/slo.yaml: the tiers' targets and the load's shape."""
    return dict(yaml.safe_load(content_path("specs", "rules", "slo.yaml").read_text(encoding="utf-8")))


@dataclass(frozen=True)
class LoadPlan:
    """The system under load, the platform's keys, the item to apply for, and where the ledger goes."""

    base_url: str
    province_url: str
    platform_app_id: str
    platform_secret: str
    app_id: str
    app_secret: str
    driver_url: str | None
    division_code: str  # the system's division: the applications' and the numbers'
    item: dict[str, Any]
    ledger_dir: str

    def save(self, path: Path) -> None:
        path.write_text(json.dumps(asdict(self), ensure_ascii=False), encoding="utf-8")

    @classmethod
    def from_env(cls) -> LoadPlan:
        """The plan `yzw load` exported to the locust processes."""
        return cls(**json.loads(Path(os.environ[PLAN_ENV]).read_text(encoding="utf-8")))
