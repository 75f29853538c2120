"""The pytest plugin (pytest11 entry point `yzw`): options, the `requirement` marker, fixtures and verdicts.

`pytest conformance/ --sut sut.yaml --platform URL` runs the suites; `yzw run` does the same with progress
and reports. Without `--sut` the plugin only declares the marker and checks its IDs.
"""

from __future__ import annotations

import math
import time
from collections.abc import Generator, Iterator
from contextlib import ExitStack, closing
from pathlib import Path
from typing import Any

import httpx
import pytest

from yzw.client import Credentials, SignedClient, trusted
from yzw.conformance import beside
from yzw.conformance.driver import Driver, HttpDriver, ManualDriver, OperatorDriver
from yzw.conformance.evidence import Evidence
from yzw.conformance.nodes import Clock, Nodes
from yzw.conformance.operator import Operator, capture_of
from yzw.conformance.scenario import Scenario
from yzw.conformance.session import Conformance
from yzw.conformance.violations import Violation, unanswered
from yzw.errors import YzwError
from yzw.register import Requirement, load_register
from yzw.run.options import RunOptions, split_ids
from yzw.run.target import Target
from yzw.spec.limits import limits

RUN = pytest.StashKey[Conformance]()
BESIDE = pytest.StashKey[dict[str, beside.Outcome]]()  # outcomes of side_by_side checks, by node id


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("yzw", "yzw-conform: conformance of a departmental system (YZW-NORM-2026)")
    group.addoption("--sut", type=Path, help="the system's registration record (sut.yaml)")
    group.addoption("--platform", default="http://127.0.0.1:8700", help="the mock platform's province URL")
    group.addoption("--profile", choices=("ci", "acceptance"), default="acceptance", help="ci never prompts")
    group.addoption("--only", default="", help="comma-separated requirement IDs to check")
    group.addoption("--chapter", default="", help="comma-separated chapters to check (areas like APP or numbers)")
    group.addoption("--wait", type=float, default=10.0, help="seconds to wait for the system's pushes")
    group.addoption("--allow-manual", action="store_true", help="manual verdicts do not fail the run")
    group.addoption("--report-dir", type=Path, help="write the JSON and HTML certification reports here")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "requirement(*ids, clauses=()): the norm requirement IDs a conformance test verifies, and the clauses of "
        "specs/requirements.yaml it observes (a system breaking one of them fails the test)",
    )
    config.addinivalue_line(
        "markers",
        "side_by_side: with a driver, the check runs at once with the module's other such checks, so that their "
        "waits overlap; a pass is kept, anything else is run again alone (yzw.conformance.beside)",
    )
    if config.getoption("--sut") is None or RUN in config.stash:
        return
    try:
        config.stash[RUN] = Conformance.start(options_of(config))
    except YzwError as exc:
        raise pytest.UsageError(str(exc)) from None


def options_of(config: pytest.Config) -> RunOptions:
    """The run's options from pytest's command line, checked like `yzw run`'s."""
    return RunOptions.checked(
        sut=config.getoption("--sut"),
        platform=config.getoption("--platform"),
        profile=config.getoption("--profile"),
        only=split_ids(config.getoption("--only")),
        chapters=split_ids(config.getoption("--chapter")),
        wait=config.getoption("--wait"),
        allow_manual=config.getoption("--allow-manual"),
        report_dir=config.getoption("--report-dir"),
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Unknown IDs fail the run; --only and --chapter deselect the rest."""
    register = load_register()
    for item in items:
        _check_marker(item, register)
    run = config.stash.get(RUN, None)
    if run is None:
        return
    keep = [item for item in items if run.options.selects(requirement_ids(item), register)]
    config.hook.pytest_deselected(items=[item for item in items if item not in keep])
    order = {req_id: index for index, req_id in enumerate(register)}
    run.total = len(keep)
    items[:] = sorted(keep, key=lambda item: min((order[i] for i in requirement_ids(item)), default=len(order)))


def _check_marker(item: pytest.Item, register: dict[str, Requirement]) -> None:
    """A marker naming an unknown requirement or clause stops the run. A check may observe clauses of another
    requirement: the norm's attribution rule gives the finding the ID of the answer it judges (a received code's
    clause CODE-01.5 is observed through APP-03's intake answer)."""
    for req_id in requirement_ids(item):
        if req_id not in register:
            raise pytest.UsageError(f"{item.nodeid}: requirement({req_id!r}) is not in specs/requirements.yaml")
    known = {c.id for req in register.values() for c in req.clauses}
    for clause in clause_ids(item):
        if clause not in known:
            raise pytest.UsageError(f"{item.nodeid}: clause {clause!r} is not in specs/requirements.yaml")


def requirement_ids(item: pytest.Item) -> tuple[str, ...]:
    return tuple(str(arg) for mark in item.iter_markers("requirement") for arg in mark.args)


def clause_ids(item: pytest.Item) -> tuple[str, ...]:
    """The clauses the test observes (`clauses=` of its requirement marker)."""
    return tuple(str(c) for mark in item.iter_markers("requirement") for c in mark.kwargs.get("clauses", ()))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report: pytest.TestReport = yield
    run = item.config.stash.get(RUN, None)
    if run is not None:
        violation = call.excinfo.value if call.excinfo is not None else None
        if violation is not None and not isinstance(violation, Violation) and call.when == "call":
            violation = unanswered(violation, (run.target.base_url, run.target.driver_url or ""))
        if isinstance(violation, Violation):
            report.longrepr = violation.render(requirement_ids(item))
        run.phase(item, report, requirement_ids(item), _evidence(item), clause_ids(item))
    return report


def _evidence(item: pytest.Item) -> Evidence | None:
    funcargs = getattr(item, "funcargs", {})
    found = funcargs.get("evidence")
    return found if isinstance(found, Evidence) else None


@pytest.hookimpl(tryfirst=True)
def pytest_pyfunc_call(pyfuncitem: pytest.Function) -> bool | None:
    """A `side_by_side` check reports its pass beside the module's others (run at the first of them); None runs
    the check here, alone: no driver, or it did not pass there."""
    run = pyfuncitem.config.stash.get(RUN, None)
    if run is None or not run.target.driver_url or not beside.wants(pyfuncitem):
        return None
    if hasattr(pyfuncitem.config, "workerinput"):  # an xdist worker: another worker's reset would undo the faults
        return None
    outcomes = pyfuncitem.config.stash.setdefault(BESIDE, {})
    first = pyfuncitem.nodeid not in outcomes
    if first:
        group = [
            item
            for item in pyfuncitem.session.items
            if isinstance(item, pytest.Function)
            and item.parent is pyfuncitem.parent
            and item.nodeid not in outcomes
            and beside.wants(item)
        ]
        if len(group) < 2:
            return None
        outcomes.update(_together(run, pyfuncitem, group))
    outcome, own = outcomes[pyfuncitem.nodeid], pyfuncitem.funcargs.get("evidence")
    if outcome.passed and isinstance(own, Evidence):
        own.take(outcome.evidence)
        return True
    if isinstance(own, Evidence) and outcome.why:
        own.note(f"beside the others: {outcome.why}; run again alone, and judged on that run")
    platform = pyfuncitem.funcargs.get("platform")
    if isinstance(platform, Nodes):
        if first:  # its fixtures were set up before the others ran: the platform back to the start, as for any check
            platform.reset()
        platform.beside = True  # the system may still retry the others' applications: its faults stay scoped
    return None


def _together(run: Conformance, first: pytest.Function, group: list[pytest.Function]) -> dict[str, beside.Outcome]:
    """The group's outcomes, beside each other, the system's queue probed meanwhile; every check alone (no
    outcome kept) when the probe cannot even be prepared."""
    with ExitStack() as stack:
        try:
            probe = _queue_probe(_kit(run, first, stack, "#probe"))
        except Exception as error:  # a probe that cannot start proves nothing: every check is judged alone
            why = f"the probe of the system's outbox could not start ({type(error).__name__})"
            return {item.nodeid: beside.Outcome(False, Evidence(), why) for item in group}
        return beside.run_together(group, lambda item, kits: _kit(run, item, kits, "#beside"), probe)


def _queue_probe(kit: dict[str, Any]) -> beside.Probe:
    """One application applied and accepted: the seconds from the accept's answer until the kit saw its SL at the
    own exchange (inf: not within a few times QUEUED_SECONDS), on the kit's own clock (the platform's may be
    another machine's)."""
    scenario, platform = kit["scenario"], kit["platform"]

    def probe() -> float:
        number = scenario.submitted()["application_no"]
        scenario.driver.act("accept", number)
        accepted = time.monotonic()  # from the answer: how long the accept itself takes is the system's affair
        found = platform.wait_for(
            lambda: [p for p in platform.pushes(number) if p.event.get("step") == "SL"],
            bool,
            4 * beside.QUEUED_SECONDS,
        )
        return time.monotonic() - accepted if found else math.inf

    return probe


def _kit(run: Conformance, item: pytest.Function, stack: ExitStack, seeded: str) -> dict[str, Any]:
    """A check's own fixtures, as the fixtures below make them, for a run beside others (faults scoped). Its seed
    is its own (`seeded`): a run alone afterwards must not send the same notice or evaluation ids again."""
    evidence = Evidence()
    platform = stack.enter_context(closing(Nodes(run.target, evidence, run.options.wait, beside=True)))
    sut = stack.enter_context(closing(signed_client(run.target, evidence)))
    raw = stack.enter_context(raw_client(evidence))
    driver = stack.enter_context(closing(HttpDriver(run.target, evidence, platform.promised_days)))
    scenario = Scenario(run.target, platform, sut, driver, seed=run.seed(item.nodeid + seeded))
    return {
        "target": run.target,
        "evidence": evidence,
        "platform": platform,
        "sut": sut,
        "raw": raw,
        "driver": driver,
        "scenario": scenario,
    }


def pytest_runtest_setup(item: pytest.Item) -> None:
    for req_id in requirement_ids(item):
        item.user_properties.append(("requirement", req_id))


def pytest_sessionfinish(session: pytest.Session) -> None:
    run = session.config.stash.get(RUN, None)
    if run is not None:
        run.finish()


# fixtures ------------------------------------------------------------------------------------------------
def _run(request: pytest.FixtureRequest) -> Conformance:
    run = request.config.stash.get(RUN, None)
    if run is None:
        pytest.skip("not-applicable: a conformance test needs --sut (the system's registration record)")
    return run


@pytest.fixture(scope="session")
def target(request: pytest.FixtureRequest) -> Target:
    """The registered system: its record and what the platform gave it."""
    return _run(request).target


@pytest.fixture(scope="session")
def fuzz_memo() -> dict[str, Any]:
    """The run's one fuzz, shared by the checks whose findings it holds (ROB-01, MSG-02): yzw.conformance.fuzz."""
    return {}


@pytest.fixture
def evidence() -> Evidence:
    """The requests and answers of this test, kept for the report."""
    return Evidence()


@pytest.fixture
def operator(request: pytest.FixtureRequest, target: Target) -> Operator | None:
    """The person who acts in the system when it has no driver (`--profile acceptance`); None otherwise."""
    run = _run(request)
    if target.driver_url or run.options.profile == "ci":
        return None
    return Operator(run.say, run.ask, run.options.operator_wait, capture_of(request.config))


@pytest.fixture
def platform(
    request: pytest.FixtureRequest, target: Target, evidence: Evidence, operator: Operator | None
) -> Iterator[Nodes]:
    """The mock nodes, reset before the test (registrations stay)."""
    nodes = Nodes(target, evidence, _run(request).options.wait, operator)
    nodes.reset()
    yield nodes
    nodes.close()


@pytest.fixture
def sut(target: Target, evidence: Evidence) -> Iterator[SignedClient]:
    """A client to the system signed as the platform (the unified application system, supervision …)."""
    client = signed_client(target, evidence)
    yield client
    client.close()


def signed_client(target: Target, evidence: Evidence) -> SignedClient:
    return SignedClient(
        Credentials(target.grant.app_id, target.grant.secret),
        timeout=limits().answer_seconds,  # ROB-01: a slower answer is a hang
        hooks=evidence.hooks(),
    )


@pytest.fixture
def raw(evidence: Evidence) -> Iterator[httpx.Client]:
    """An unsigned client: a browser, or a caller that does not follow the norm."""
    with raw_client(evidence) as client:
        yield client


def raw_client(evidence: Evidence) -> httpx.Client:
    return httpx.Client(timeout=10, event_hooks=evidence.hooks(), verify=trusted())


@pytest.fixture
def driver(target: Target, evidence: Evidence, operator: Operator | None, platform: Nodes) -> Iterator[Driver]:
    """The system's §11 driver; without one an operator prompt, or `manual` under --profile ci."""
    chosen: Driver
    if target.driver_url:
        chosen = HttpDriver(target, evidence, platform.promised_days)
    elif operator is None:
        chosen = ManualDriver()
    else:
        chosen = OperatorDriver(operator)
    yield chosen
    chosen.close()


@pytest.fixture
def scenario(
    target: Target, platform: Nodes, sut: SignedClient, driver: Driver, request: pytest.FixtureRequest
) -> Scenario:
    """Applications for the system's own catalogue items, and the steps they produce."""
    return Scenario(target, platform, sut, driver, seed=_run(request).seed(request.node.nodeid))


@pytest.fixture
def clock(platform: Nodes) -> Clock:
    """The platform's virtual clock (supervision cards), reset with the platform before each test."""
    return Clock(platform)
