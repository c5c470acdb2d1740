"""TensorRT on a Jetson's DLA cores: which boards have them, how a DLA engine is asked for, where its layers ran.

DLA engines are built by the same ultralytics export as GPU engines, with ``device="dla:N"`` (INT8 calibration
and the engine's metadata header, which makes the runtime pick the core, come with it). That export always
sets TensorRT's GPU_FALLBACK; ``gpu_fallback: false`` asks for a DLA-only engine, so a build whose log shows
layers on the GPU is refused with the count and the first of them (what TensorRT itself does without
fallback). ``trtexec_equivalent`` is the command that builds the same engine by hand (recorded with the build).

Layer placement comes from the builder's own log, which the harness captures at the file-descriptor level
(TensorRT's logger writes to stdout/stderr from C++, not through Python's logging): TensorRT 8.x / 10.x print
``---------- Layers Running on DLA ----------`` with one ``[DlaLayer]`` line per DLA subgraph
(``{ForeignNode[...]}``) and ``[GpuLayer]`` lines for the rest; TensorRT 7 printed
``--------------- Layers running on DLA:`` followed by ``{a,b}, {c,d}`` groups and a comma list for the GPU.
Warnings like ``Layer 'x' (CONSTANT): Unsupported on DLA. Switching this layer's device type to GPU.`` count
the layers that fell back.
"""

from __future__ import annotations

import contextlib
import glob
import os
import re
import tempfile
from pathlib import Path

from harness import devtext
from harness.paths import sysfs_root

# The prefix TensorRT's loggers put before a message: "[08/31/2023-07:07:49] [I] [TRT] ", "[TensorRT] INFO: ",
# "INFO: [TRT]: ", "[12/30/2022-14:03:16] [TRT] [I] ". Every quantifier is bounded and it is only ever matched at
# the start of a line, so it looks at a few hundred characters at most, however long the line.
_PREFIX = re.compile(r"\s{0,16}(?:\[[0-9/:\-. ]{1,40}\]\s{0,8})?"
                     r"(?:(?:\[[IWEV]\]|\[TRT\]|\[TensorRT\]|INFO:|WARNING:|VERBOSE:)\s{0,8}:?\s{0,8}){1,4}")
_FELL_BACK = re.compile(r"Switching this layer's device type to GPU|falling back to GPU|Switching to GPU for layer",
                        re.IGNORECASE)
MAX_LOG_CHARS = 8 << 20


def dla_cores(root: Path | None = None) -> int:
    """How many DLA cores this board has (``nvdla0``/``nvdla1`` platform devices; 0 on Orin Nano and desktops)."""
    root = root or sysfs_root()
    found = set()
    for pattern in ("sys/devices/platform/*.nvdla[0-9]", "sys/devices/platform/*/*.nvdla[0-9]"):
        found |= {p.rsplit("nvdla", 1)[-1] for p in glob.glob(str(root / pattern))}
    return len(found)


def unsupported(cell) -> str | None:
    """Why a ``dla_core`` cell cannot run on this machine (None when it can, as far as the DLA goes)."""
    if cell.dla_core is None:
        return None
    n = dla_cores()
    if n == 0:
        return ("this device has no DLA cores (Orin Nano and desktops have none; Xavier, Orin NX and AGX Orin have "
                "them): the cell needs dla_core " + str(cell.dla_core))
    if cell.dla_core >= n:
        return f"this device has {n} DLA core{'s' if n > 1 else ''} (0..{n - 1}); the cell asks for dla_core {cell.dla_core}"
    return None


def trtexec_equivalent(onnx: str, engine: str, precision: str, dla_core: int, gpu_fallback: bool,
                       workspace_gb: float, calib_cache: str | None = None) -> list[str]:
    """The trtexec argv that builds the same DLA engine by hand (no shell; the DLA runs fp16 or int8)."""
    argv = ["trtexec", f"--onnx={onnx}", f"--saveEngine={engine}", f"--useDLACore={dla_core}",
            f"--memPoolSize=workspace:{int(workspace_gb * 1024)}"]
    argv += ["--int8", "--fp16"] if precision == "int8" else ["--fp16"]  # fp16 where a layer has no int8 kernel
    if precision == "int8" and calib_cache:
        argv.append(f"--calib={calib_cache}")
    if gpu_fallback:
        argv.append("--allowGPUFallback")
    return argv


def _header(line: str) -> str | None:
    """``"dla"`` / ``"gpu"`` for a ``----- Layers Running on DLA|GPU`` header line (five or more dashes, then
    optional blanks, any case), else None.

    Found with ``str`` methods: the regex ``-{5,}\\s*Layers Running on DLA`` searched at every offset of a line of
    dashes is quadratic (20 000 dashes took 21 s).
    """
    low = line.lower()
    at = low.find("layers running on ")
    if at < 0:
        return None
    target = low[at + len("layers running on "):at + len("layers running on ") + 3]
    if target not in ("dla", "gpu") or not low[:at].rstrip().endswith("-----"):
        return None
    return target


def _message(line: str) -> str:
    m = _PREFIX.match(line)
    return (line[m.end():] if m else line).strip()


def parse_layer_placement(log: str) -> dict | None:
    """Layers on the DLA vs the GPU from a TensorRT builder log; None when it says nothing about placement
    (only fallback warnings: the counts are None, ``fell_back`` is set).

    ``dla_layers`` counts DLA subgraphs (one ``[DlaLayer]`` / ``{...}`` group each: TensorRT fuses the layers it
    gives the DLA), ``gpu_layers`` the GPU layers, ``fell_back`` the layers TensorRT moved off the DLA. Linear in
    the log: lines longer than ``devtext.MAX_LINE_CHARS`` are skipped, the log is cut at ``MAX_LOG_CHARS``.
    """
    lines = [x for x in devtext.lines(log[:MAX_LOG_CHARS]) if x and not x.isspace()]
    fell_back = sum(bool(_FELL_BACK.search(x)) for x in lines)
    headers = [_header(x) for x in lines]
    if "dla" not in headers:
        return {"dla_layers": None, "gpu_layers": None, "fell_back": fell_back} if fell_back else None
    dla = [x.partition("[DlaLayer]")[2].strip() for x in lines if "[DlaLayer]" in x]
    gpu = [x.partition("[GpuLayer]")[2].strip() for x in lines if "[GpuLayer]" in x]
    if not dla and not gpu:  # TensorRT 7: groups / names on the lines after each header, wrapped lines unprefixed
        text: dict[str, list[str]] = {"dla": [], "gpu": []}  # pieces joined once (+= on a str is quadratic here)
        section = None
        for line, header in zip(lines, headers):
            if header:
                section = header
            elif section and not _PREFIX.match(line):
                text[section].append(line.strip())  # a wrapped line continues the message
            elif section:
                msg = _message(line)
                if msg and (msg.startswith("{") or msg.endswith(",") or ", " in msg):
                    text[section].append(" " + msg)
                elif msg:
                    section = None  # the next message: the section is over
        dla = re.findall(r"\{[^{}]*\}", "".join(text["dla"]))
        gpu = [g.strip() for g in "".join(text["gpu"]).split(",") if g.strip()]
    return {"dla_layers": len(dla), "gpu_layers": len(gpu), "fell_back": fell_back,
            "dla_first": [d[:160] for d in dla[:3]], "gpu_first": [g[:160] for g in gpu[:5]]}


@contextlib.contextmanager
def captured_fds():
    """Everything written to fds 1 and 2 inside the block (TensorRT's C++ logger) -> ``box[0]`` afterwards."""
    box = [""]
    with tempfile.TemporaryFile(mode="w+b") as tmp:
        saved = [os.dup(1), os.dup(2)]
        try:
            for fd in (1, 2):
                os.dup2(tmp.fileno(), fd)
            yield box
        finally:
            for fd, old in zip((1, 2), saved):
                os.dup2(old, fd)
                os.close(old)
            size = tmp.seek(0, 2)
            tmp.seek(max(0, size - MAX_LOG_CHARS))  # the end: the placement is printed late in a build
            box[0] = tmp.read(MAX_LOG_CHARS).decode(errors="replace")
