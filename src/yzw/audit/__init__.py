"""`yzw audit`: a department's pushed data judged record by record, streaming, with the SUP-03 KPIs."""

import os

# Read by Polars when it is first loaded, so set before any audit module imports it: one process per core
# already (no threads to fight over it). jemalloc keeps freed pages 150 ms, in one arena, before it gives them
# back: given back at once, each batch faulted its pages in again (1.7 million faults, a quarter of the CPU, at
# 1,000,000 events); kept longer, memory grew past 300 MB over the processes.
os.environ.setdefault("POLARS_MAX_THREADS", "1")
os.environ.setdefault("_RJEM_MALLOC_CONF", "dirty_decay_ms:150,muzzy_decay_ms:0,narenas:1")
