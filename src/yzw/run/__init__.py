"""The vocabulary of a certification run, below the packages that speak it (conformance, report, load):
the registered target, the run's options, test results and verdicts, and the choice of a catalogue item."""
