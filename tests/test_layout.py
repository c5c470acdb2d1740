"""The package layout holds: no import cycles, no upward imports, the device side never imports the host side.

The graph is built from the source with ``ast`` (every ``import``, module-level or inside a function,
so a lazy import cannot hide a cycle or an upward arrow). ``LAYERS`` below lists the packages bottom
to top: a module may import its own package and the layers under it, never one above.
"""

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1] / "harness"

LAYERS = [
    ("errors", "names", "paths", "subproc", "devtext", "extensions"),  # foundations: nothing of the harness below
    ("fsutil", "cache"),  # atomic writes, locks, OS errors; the content cache
    ("config",),  # pure data: profiles, suites, campaign files
    ("environment", "powermodes"),  # the board, L4T, versions; its power modes (nvpmodel)
    ("mot",),  # MOT files, sequences, metrics (no torch)
    ("telemetry",),  # samplers and energy maths
    ("results",),  # records, run directories, comparison, rendering
    ("models",),  # weights, compression, one backend per format
    ("measure",),  # the runner: device side ends here
    ("catalogue",),  # the results catalogue (Parquet + DuckDB): history, regressions
    ("image",),  # container images (host side starts here)
    ("remote",),  # SSH, the intake, deploy
    ("farm",),  # boards shared through a pool (labgrid): leases around a deploy
    ("provision",),  # Ansible
    ("campaign",),  # fleets of devices
    ("sim",),  # a simulated board on loopback (sshd, fake L4T tree, rails that follow the load)
    ("cli",),  # the commands
]
LEVEL = {name: i for i, names in enumerate(LAYERS) for name in names}
DEVICE_SIDE = {"mot", "models", "measure", "telemetry"}
HOST_SIDE = {"catalogue", "remote", "farm", "provision", "campaign", "image", "sim", "cli"}


def _module_of(path: Path) -> str:
    rel = path.relative_to(ROOT.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(path: Path) -> set[str]:
    """Every harness module ``path`` imports (``from harness.x import y`` counts ``harness.x.y`` when that is a module)."""
    tree = ast.parse(path.read_text())
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names if a.name.startswith("harness")}
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("harness") and node.level == 0:
            for a in node.names:
                sub = f"{node.module}.{a.name}"
                out.add(sub if sub in MODULES else node.module)
    return out


FILES = {p: None for p in ROOT.rglob("*.py")}
MODULES = {_module_of(p): p for p in FILES}
GRAPH = {m: {i for i in _imports(p) if i in MODULES and i != m} for m, p in MODULES.items()}


def _top(module: str) -> str:
    return module.split(".")[1] if module.count(".") else "harness"


def test_every_package_has_a_layer():
    tops = {_top(m) for m in MODULES} - {"harness", "testing", "__main__", "suites", "device_profiles"}
    assert tops <= set(LEVEL), f"give these a layer in tests/test_layout.py: {sorted(tops - set(LEVEL))}"


def test_no_import_cycles():
    """Strongly connected components of the module graph (Tarjan): every one has a single module."""
    index, low, stack, on, cycles = {}, {}, [], set(), []
    sys.setrecursionlimit(10000)

    def visit(v, counter=[0]):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in GRAPH[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                cycles.append(sorted(comp))

    for v in GRAPH:
        if v not in index:
            visit(v)
    assert not cycles, f"import cycles: {cycles}"


def test_no_upward_imports_and_the_device_side_stays_device_side():
    upward = []
    for m, deps in GRAPH.items():
        src = _top(m)
        if src in ("testing", "harness", "__main__"):
            continue
        for d in deps:
            dst = _top(d)
            if dst == "testing":
                upward.append(f"{m} -> {d} (only tests and benchmarks use harness.testing)")
            elif dst in LEVEL and LEVEL[dst] > LEVEL[src]:
                upward.append(f"{m} -> {d}")
            if src in DEVICE_SIDE and dst in HOST_SIDE:
                upward.append(f"{m} -> {d} (device side importing the host side)")
    assert not upward, "imports that run upward:\n" + "\n".join(sorted(upward))


def test_files_stay_small_unless_they_say_why():
    big = []
    for p in FILES:
        n = len(p.read_text().splitlines())
        if n > 300 and "long because" not in p.read_text()[:3000]:
            big.append(f"{p.relative_to(ROOT.parent)}: {n} lines")
    assert not big, "split these or say in the docstring why they are long:\n" + "\n".join(big)


@pytest.mark.parametrize("command", [
    "import harness.remote.deploy, harness.campaign.scheduler, harness.provision, harness.cli",
    "from harness.cli import app",
])
def test_host_side_imports_do_not_touch_the_host_process_thread_settings(command):
    env = {k: v for k, v in os.environ.items() if k not in ("OMP_NUM_THREADS", "YOLO_OFFLINE", "YOLO_VERBOSE")}
    code = f"import os; {command}; import sys; print(repr(os.environ.get('OMP_NUM_THREADS')), 'torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["None", "False"], out.stdout  # no thread setting, and torch not even imported
