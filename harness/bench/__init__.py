"""Device-side benchmark code: data, metrics, variants, runner.

Must not import ``harness.remote``: the same code runs locally and inside the
device container.
"""

import os

# Quiet ultralytics' banners; never let it probe the network when we are offline.
os.environ.setdefault("YOLO_VERBOSE", "False")
if os.environ.get("HARNESS_OFFLINE", "").lower() in ("1", "true", "yes"):
    os.environ.setdefault("YOLO_OFFLINE", "true")
