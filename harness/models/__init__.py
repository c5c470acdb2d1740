"""Device side: model weights, compression (pruning, fine-tuning, calibration) and one backend per format.

Importing this package configures the process for measurement, before torch or
ultralytics are imported by anything below it. Host-side code (``remote``,
``campaign``, ``provision``, the host's CLI commands) never imports it, so a
host process keeps its own thread settings.
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
