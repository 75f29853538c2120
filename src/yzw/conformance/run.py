"""Run the conformance suites in this process: pytest over conformance/ with a connected system."""

from __future__ import annotations

import pytest

from yzw.conformance.plugin import RUN
from yzw.conformance.session import Conformance
from yzw.content import content_path
from yzw.errors import YzwError


class _Connected:
    """Hands the already connected run to the plugin before it configures itself."""

    def __init__(self, conformance: Conformance) -> None:
        self.conformance = conformance

    @pytest.hookimpl(tryfirst=True)
    def pytest_configure(self, config: pytest.Config) -> None:
        config.stash[RUN] = self.conformance


def run_suites(conformance: Conformance, quiet: bool = True) -> Conformance:
    """pytest over the suites; JUnit and Allure next to the reports. The verdicts are in `conformance.results`."""
    suites = content_path("conformance")
    args = [str(suites), "-c", str(suites / "pytest.ini"), "--rootdir", str(suites)]
    # Only the plugins the run needs: whatever else is installed (locust's, hypothesis', a vendor's own) costs
    # seconds to load and may change how tests run. The checks raise violations, so no assertion rewriting.
    args += ["--disable-plugin-autoload", "-p", "yzw.conformance.plugin", "--assert=plain"]
    if quiet:
        args += ["-p", "no:terminal"]
    folder = conformance.options.report_dir
    if folder is not None:
        args += [f"--junitxml={folder / 'junit.xml'}", "-o", "junit_suite_name=yzw-conformance"]
        args += ["-p", "allure_pytest.plugin", f"--alluredir={folder / 'allure-results'}", "--clean-alluredir"]
    code = pytest.main(args, plugins=[_Connected(conformance)])
    if code in (pytest.ExitCode.INTERNAL_ERROR, pytest.ExitCode.USAGE_ERROR, pytest.ExitCode.NO_TESTS_COLLECTED):
        raise YzwError(
            f"the conformance suites could not run (pytest exit {int(code)}); run with --verbose for details"
        )
    return conformance
