"""How many threads inference may use: chosen once per run, applied to torch and ONNX Runtime, recorded per cell.

More threads than free cores makes an OpenMP runtime's threads wait for each other behind whatever else runs
(a 2-thread PyTorch cell on 2 busy cores ran 10x slower than with 1 thread in the issue that led here), while
ONNX Runtime (spinning off) barely notices: the ratio between them then measures the host, not the formats.
``auto`` (the default) is the CPUs this process may run on (``os.sched_getaffinity``), never more; a suite's
``threads:`` wins over the profile's ``measure.threads``. Each record's ``threads`` block holds the torch
intra/inter-op counts, ONNX Runtime's (intra = the same number, inter-op 1: its sequential executor), and
``over_idle`` when the threads outnumbered the cores other processes left free during the timed window.
"""

from __future__ import annotations

from harness.measure.host import cpus_available


def choose_threads(requested: int | str | None) -> int:
    """The thread count for ``requested`` (an int, ``auto`` or None = auto): at least 1."""
    if isinstance(requested, int) and not isinstance(requested, bool):
        return max(1, requested)
    return cpus_available()


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
