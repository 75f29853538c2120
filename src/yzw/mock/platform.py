"""The state one mock platform shares across its nodes: registrations, tokens, keys, traffic, faults, clock."""

from __future__ import annotations

import json
import secrets
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from yzw.mock.store import Store
from yzw.mock.topology import Topology
from yzw.signing import NonceMemory
from yzw.sm2 import SigningKey

PLATFORM_APP_ID = "yzw-platform"
TOKEN_LIFETIME = 7200  # seconds (SIG-03)
TRAFFIC_KEPT = 20_000  # per node


@dataclass
class TokenRecord:
    app_id: str
    scopes: frozenset[str]
    expires_at: float
    revoked: bool = False


@dataclass
class Fault:
    """A misbehaviour injected at one node's paths (a path prefix; `*` for every path)."""

    fault_id: str
    node: str
    path: str
    status: int | None = None
    share: float = 1.0
    latency_ms: int = 0
    remaining: int | None = None

    def matches(self, node: str, path: str) -> bool:
        return self.node in (node, "*") and (self.path == "*" or path.startswith(self.path))


@dataclass
class Platform:
    """Everything the nodes of one platform share. Nodes are Starlette apps over this object."""

    topology: Topology
    store: Store
    key: SigningKey = field(default_factory=lambda: SigningKey.generate("idp-2026"))
    platform_secret: str = field(default_factory=lambda: secrets.token_hex(24))
    urls: dict[str, str] = field(default_factory=dict)
    secrets: dict[str, tuple[str, str]] = field(default_factory=dict)  # app_id → (secret, kind)
    tokens: dict[str, TokenRecord] = field(default_factory=dict)
    token_requests: dict[str, int] = field(default_factory=dict)
    nonces: dict[str, NonceMemory] = field(default_factory=dict)
    traffic: dict[str, deque[dict[str, Any]]] = field(default_factory=dict)
    faults: list[Fault] = field(default_factory=list)
    flags: dict[str, int] = field(default_factory=dict)  # one-shot misbehaviours: forge_signature …
    clock_offset: float = 0.0
    pending_notices: deque[tuple[str, str, dict[str, Any]]] = field(default_factory=deque)  # (kind, to, body)
    delivered: list[dict[str, Any]] = field(default_factory=list)  # outbound calls to systems, for inspection

    def __post_init__(self) -> None:
        for node in self.topology.nodes:
            self.nonces[node.name] = NonceMemory()
            self.traffic[node.name] = deque(maxlen=TRAFFIC_KEPT)
            self.secrets[self.node_app_id(node.name)] = (self.node_secret(node.name), "node")
        for row in self.store.rows("SELECT app_id, secret, kind FROM systems"):
            self.secrets[row["app_id"]] = (row["secret"], row["kind"])

    # identities -------------------------------------------------------------------------------------------
    @staticmethod
    def node_app_id(node: str) -> str:
        return f"node-{node}"

    def node_secret(self, node: str) -> str:
        return f"{self.platform_secret}-{node}"

    def secret_of(self, app_id: str) -> str | None:
        found = self.secrets.get(app_id)
        return found[0] if found else None

    def kind_of(self, app_id: str | None) -> str | None:
        found = self.secrets.get(app_id or "")
        return found[1] if found else None

    def register(self, record: dict[str, Any]) -> None:
        """A departmental system's registration (its sut.yaml): it may now sign calls to the platform."""
        self.secrets[record["app_id"]] = (record["app_secret"], "system")
        self.store.execute(
            "INSERT INTO systems (app_id, secret, kind, record) VALUES (?, ?, 'system', ?) ON CONFLICT (app_id) "
            "DO UPDATE SET secret = excluded.secret, record = excluded.record",
            record["app_id"],
            record["app_secret"],
            json.dumps(record, ensure_ascii=False),
        )

    def systems(self) -> list[dict[str, Any]]:
        return [
            json.loads(row["record"]) for row in self.store.rows("SELECT record FROM systems WHERE kind = 'system'")
        ]

    def systems_of(self, dept_uscc: str) -> list[dict[str, Any]]:
        return [record for record in self.systems() if record.get("dept_uscc") == dept_uscc]

    # tokens -----------------------------------------------------------------------------------------------
    def issue_token(self, app_id: str, scopes: frozenset[str]) -> str:
        token = secrets.token_urlsafe(24)
        self.tokens[token] = TokenRecord(app_id, scopes, time.time() + TOKEN_LIFETIME)
        self.token_requests[app_id] = self.token_requests.get(app_id, 0) + 1
        return token

    # clock ------------------------------------------------------------------------------------------------
    def now(self) -> float:
        """The supervision engine's notion of now: real time plus the virtual clock's offset."""
        return time.time() + self.clock_offset

    def url(self, node: str) -> str:
        return self.urls.get(node, "")

    def take_flag(self, name: str) -> bool:
        """Consume one occurrence of a one-shot misbehaviour."""
        if self.flags.get(name, 0) > 0:
            self.flags[name] -= 1
            return True
        return False
