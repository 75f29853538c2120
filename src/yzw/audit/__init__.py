"""`yzw audit`: a department's pushed data judged record by record, streaming, with the SUP-03 KPIs."""

import os

# Read by Polars when it is first loaded, so set before any audit module imports it: one process per core
# already (no threads to fight over it), and jemalloc gives freed memory back at once.
os.environ.setdefault("POLARS_MAX_THREADS", "1")
os.environ.setdefault("_RJEM_MALLOC_CONF", "dirty_decay_ms:0,muzzy_decay_ms:0")
