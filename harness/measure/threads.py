"""How many threads inference may use: chosen once per run, applied to torch and ONNX Runtime, recorded per cell.

More threads than free cores makes an OpenMP runtime's threads wait for each other behind whatever else runs
(a 2-thread PyTorch cell on 2 busy cores ran 10x slower than with 1 thread in the issue that led here), while
ONNX Runtime (spinning off) barely notices: the ratio between them then measures the host, not the formats.
``auto`` (the default) is the CPUs this process may run on (``os.sched_getaffinity``), never more, and no more
than ``OMP_NUM_THREADS`` when the user set it (a shared host's way of giving each job its share); a suite's
``threads:`` wins over the profile's ``measure.threads``. Each record's ``threads`` block holds the torch
intra/inter-op counts, ONNX Runtime's (intra = the same number, inter-op 1: its sequential executor), and
``over_idle`` when the threads outnumbered the cores other processes left free during the timed window.
"""

from __future__ import annotations

import os

from harness.measure.host import Thresholds, cpus_available, quiet_check


def _omp_cap() -> int | None:
    """``OMP_NUM_THREADS`` as a positive whole number, else None (unset, a list such as ``4,2``, or nonsense)."""
    try:
        n = int(os.environ.get("OMP_NUM_THREADS", ""))
    except ValueError:
        return None
    return n if n >= 1 else None


def choose_threads(requested: int | str | None) -> int:
    """The thread count for ``requested`` (an int, ``auto`` or None = auto): at least 1."""
    if isinstance(requested, int) and not isinstance(requested, bool):
        return max(1, requested)
    cpus = cpus_available()
    return min(cpus, _omp_cap() or cpus)


def apply_threads(requested: int | str | None) -> dict:
    """Set torch's intra-op threads (ONNX Runtime sessions read the same number) and return the facts."""
    import torch

    n = choose_threads(requested)
    torch.set_num_threads(n)
    return {"requested": requested if requested is not None else "auto", "cpus_available": cpus_available(),
            "torch_intra": torch.get_num_threads(), "torch_interop": torch.get_num_interop_threads()}


def over_idle(threads: int | None, host_state: dict | None) -> str | None:
    """A warning when ``threads`` outnumber the cores other processes left free during the window, else None."""
    free = (host_state or {}).get("free_cores")
    if threads is None or free is None:
        return None
    usable = int(free + 0.5)
    if threads > max(usable, 0):
        return (f"{threads} threads on {free:.1f} free cores (other processes used {host_state.get('other_cpu_cores', 0):.1f}): "
                "the threads wait for each other; set threads: to the free cores or quiet the host")
    return None


def start_of_run(requested: int | str | None, limits: Thresholds) -> tuple[dict, dict, dict | None]:
    """Apply the threads, look at the host for half a second: (threads facts, the manifest's ``host_at_start``,
    a warning dict -- ``contended_reason`` / ``threads_warning`` -- or None when the host is quiet)."""
    threads = apply_threads(requested)
    state = quiet_check(0.5, limits)
    warn = over_idle(threads["torch_intra"], state)
    at_start = {**state, "threads": threads, "threads_warning": warn}
    busy = state.get("contended") or warn
    return threads, at_start, ({"contended_reason": state.get("contended_reason"), "threads_warning": warn} if busy else None)


def cell_threads(run_threads: dict | None, build: dict | None, fmt: str, host_state: dict | None) -> dict:
    """A record's ``threads`` block: the run's choice, ONNX Runtime's session, and the over-free-cores check."""
    facts = dict(run_threads or {})
    ort = (build or {}).get("ort_threads") or {}
    facts.update(ort_intra=ort.get("intra_op"), ort_inter=ort.get("inter_op"))
    warning = over_idle(ort.get("intra_op") if fmt == "onnx" else facts.get("torch_intra"), host_state)
    facts.update(over_idle=warning is not None, warning=warning)
    return facts
