"""The node hierarchy of a mock platform (mocks/topology.yaml): county → city → province."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import yaml

from yzw.codes import check_division
from yzw.content import content_path
from yzw.errors import YzwError

TIERS = ("province", "city", "county")
_PREFIX = re.compile(r"(/[A-Za-z0-9._~-]+)+")


@dataclass(frozen=True)
class NodeSpec:
    """One platform node: its name, tier, division and parent."""

    name: str
    tier: str
    division_code: str
    parent: str | None
    port_offset: int
    prefix: str = ""  # the path the node is served under, as behind a gateway (`/gw/zj`); "" at the root

    def covers(self, division_code: str) -> bool:
        """Whether a division lies in this node's area (330106 lies in 330100 and 330000)."""
        if self.tier == "province":
            return division_code[:2] == self.division_code[:2]
        if self.tier == "city":
            return division_code[:4] == self.division_code[:4]
        return division_code == self.division_code


@dataclass(frozen=True)
class Topology:
    nodes: tuple[NodeSpec, ...]

    def node(self, name: str) -> NodeSpec:
        return next(n for n in self.nodes if n.name == name)

    @property
    def province(self) -> NodeSpec:
        return next(n for n in self.nodes if n.tier == "province")

    def children_covering(self, parent: str, division_code: str) -> list[NodeSpec]:
        """Nodes below `parent` whose area holds `division_code` (for forwarding province cases down)."""
        return [n for n in self.nodes if n.parent == parent and n.covers(division_code)]

    def node_for(self, tier: str, division_code: str) -> NodeSpec | None:
        return next((n for n in self.nodes if n.tier == tier and n.covers(division_code)), None)


def load_topology(path: Path | None = None) -> Topology:
    """Read and check a topology file; every problem is one clear error naming the file and the node."""
    source = path or content_path("mocks", "topology.yaml")
    try:
        data = yaml.safe_load(source.read_text(encoding="utf-8"))
        entries = data["nodes"]
    except (OSError, yaml.YAMLError, KeyError, TypeError) as exc:
        raise YzwError(f"cannot read the topology {source}: {exc}") from None
    nodes = tuple(_node(source, entry, index) for index, entry in enumerate(entries))
    _check(source, nodes)
    return Topology(nodes)


def _node(source: Path, entry: object, index: int) -> NodeSpec:
    if not isinstance(entry, dict) or not {"name", "tier", "division_code"} <= set(entry):
        raise YzwError(f"{source}: node {index + 1} needs name, tier and division_code")
    division = str(entry["division_code"])
    if problem := check_division(division):
        raise YzwError(f"{source}: node {entry['name']}: {problem.message}")
    if entry["tier"] not in TIERS:
        raise YzwError(f"{source}: node {entry['name']}: tier must be one of {', '.join(TIERS)}")
    prefix = str(entry.get("prefix") or "")
    if prefix and not _PREFIX.fullmatch(prefix):
        raise YzwError(f"{source}: node {entry['name']}: prefix must be a path like /gw/zj (no trailing /): {prefix!r}")
    return NodeSpec(
        str(entry["name"]), str(entry["tier"]), division, entry.get("parent"), int(entry.get("port", index)), prefix
    )


def _check(source: Path, nodes: tuple[NodeSpec, ...]) -> None:
    names = [n.name for n in nodes]
    if len(set(names)) != len(names):
        raise YzwError(f"{source}: node names must be unique, got {names}")
    if [n.tier for n in nodes].count("province") != 1:
        raise YzwError(f"{source}: exactly one node must have tier province")
    for node in nodes:
        if node.parent is not None and node.parent not in names:
            raise YzwError(f"{source}: node {node.name} names parent {node.parent!r}, which is not a node")
        if (node.parent is None) != (node.tier == "province"):
            raise YzwError(f"{source}: node {node.name}: only the province node has no parent")
