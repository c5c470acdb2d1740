"""Device-side benchmark code: data, metrics, variants, runner.

Must not import ``harness.remote``: the same code runs locally and inside the
device container.
"""

import os

# ultralytics sets OMP_NUM_THREADS=1 at import when it is unset (a training default); if it is
# imported before torch, CPU inference silently runs on one thread. Pin the choice instead:
# the user's OMP_NUM_THREADS, else every CPU this process may use. Recorded as torch_threads.
os.environ.setdefault("OMP_NUM_THREADS", str(len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1))

# Quiet ultralytics' banners; never let it probe the network when we are offline.
os.environ.setdefault("YOLO_VERBOSE", "False")
if os.environ.get("HARNESS_OFFLINE", "").lower() in ("1", "true", "yes"):
    os.environ.setdefault("YOLO_OFFLINE", "true")
