"""Checks: small functions that state one rule of the norm and raise a `Violation` when the system breaks it.

A check knows no requirement ID; the suites in conformance/ carry the IDs.
"""
