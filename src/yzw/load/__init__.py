"""Load tests (PERF-01, PERF-02): the plan locust's users read, the gate on the tier's SLO, the ledger check."""
