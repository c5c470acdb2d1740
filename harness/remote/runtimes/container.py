"""``runtime: docker | podman``: the runner in the profile's image, ``run -d``, the work dir at the same path.

No ``-it``, never ``--privileged``; the NVIDIA runtime on Jetsons (docker) or the CDI device (podman);
the jtop socket mounted when the profile asks and the device has it, with its group added so a container
that runs as a user can open it; ``--shm-size`` (Docker's 64 MB ``/dev/shm`` starves torch's workers);
the board's identity passed in as jetson-containers does: the device's ``/etc/nv_tegra_release``
mounted read-only over the image's own (an r36.4.0 base image would otherwise report 36.4.0 on every r36
board, in records and in the TensorRT engine key) and its ``/proc/device-tree/model`` (masked inside
a container) copied to ``/tmp/nv_jetson_model``; the image (a validated reference) after ``--``.
The image is shipped by ``remote.image_transfer`` when the device lacks it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from harness import devtext
from harness.config.profiles import DeviceProfile
from harness.errors import RemoteError
from harness.image.versions import LABEL, labelled_versions
from harness.environment import parse_l4t
from harness.remote.checks import Check

MODEL_IN_CONTAINER = "/tmp/nv_jetson_model"  # where jetson-containers puts the board model (jtop reads it too)
BOARD_MODEL_FILE = ".board-model"  # in the device's work dir: the model, copied for the mount
# On the device: the release file and the model (regular files only, 4 KiB at most, NULs dropped), the jtop
# socket's group. Paths are arguments ($1 probe root, $2 work dir), never text spliced into the script.
BOARD_SCRIPT = r"""
r=${1%/}; w=$2
[ -f "$r/etc/nv_tegra_release" ] && echo release=yes
if [ -f "$r/proc/device-tree/model" ] && head -c 4096 -- "$r/proc/device-tree/model" | tr -d '\000' > "$w/BOARD_MODEL_FILE"; then
  echo model=yes
fi
[ -S /run/jtop.sock ] && echo "jtop_gid=$(stat -c %g /run/jtop.sock 2>/dev/null)"
exit 0
""".replace("BOARD_MODEL_FILE", BOARD_MODEL_FILE)
_GID = re.compile(r"[0-9]{1,9}")


@dataclass(frozen=True)
class DeviceBoard:
    """What the device offers the container: its L4T release file, its board model (a copy in the work dir),
    the jtop socket's group id (None: no socket)."""

    release: str | None = None
    model_file: str | None = None
    jtop_gid: int | None = None

    @property
    def jtop_socket(self) -> bool:
        return self.jtop_gid is not None


def parse_board(text: str, probe_root: str, workdir: str) -> DeviceBoard:
    """The board script's answer (the device's words: only ``yes`` and a bounded number are believed)."""
    facts = dict(line.partition("=")[::2] for line in devtext.lines(text)[:16])
    gid = None
    if "jtop_gid" in facts:  # the socket is there; -1: its group could not be read (mounted, no --group-add)
        gid = int(facts["jtop_gid"]) if _GID.fullmatch(facts["jtop_gid"].strip()) else -1
    return DeviceBoard(release=f"{probe_root.rstrip('/')}/etc/nv_tegra_release" if facts.get("release") == "yes" else None,
                       model_file=f"{workdir}/{BOARD_MODEL_FILE}" if facts.get("model") == "yes" else None,
                       jtop_gid=gid)


def container_argv(profile: DeviceProfile, name: str, workdir: str, inner: list[str],
                   board: DeviceBoard = DeviceBoard()) -> list[str]:
    """``docker|podman run -d`` argv for the runner (see the module docstring)."""
    c = profile.container
    argv = [profile.runtime, "run", "-d", "--name", name, "--network", "host", "-v", f"{workdir}:{workdir}", "-w", workdir]
    if c.shm_size:
        argv += ["--shm-size", c.shm_size]
    if c.nvidia_runtime:  # docker: the nvidia runtime; podman: the CDI device
        argv += ["--runtime", "nvidia"] if profile.runtime == "docker" else ["--device", "nvidia.com/gpu=all"]
    if c.gpus_all:
        argv += ["--gpus", "all"]
    if board.release:
        argv += ["-v", f"{board.release}:/etc/nv_tegra_release:ro"]
    if board.model_file:
        argv += ["-v", f"{board.model_file}:{MODEL_IN_CONTAINER}:ro"]
    if c.mount_jtop_socket and board.jtop_socket:
        argv += ["-v", "/run/jtop.sock:/run/jtop.sock"]
        if board.jtop_gid >= 0:  # the socket is root:jtop 0660: a container user needs the group
            argv += ["--group-add", str(board.jtop_gid)]
    return [*argv, *c.extra_args, "--", c.image, *inner]


def _major_minor(version: str | None) -> str | None:
    parts = (version or "").split(".")
    return ".".join(parts[:2]) if len(parts) >= 2 else None


def _release_tuple(version: str | None) -> tuple[int, ...] | None:
    parts = (version or "").split(".")
    return tuple(int(p) for p in parts) if parts and all(p.isdigit() and len(p) <= 4 for p in parts) else None


def l4t_check(release_line: str, image_l4t: str | None, image: str) -> Check | None:
    """The board's L4T against the one the image was built on: same major (the JetPack), and the board at least
    as new (an r36.4 image's CUDA and libraries need an r36.4 driver; an r36.3 board fails at the first CUDA
    call). None when either side is unknown (a CPU image, a PC)."""
    board = parse_l4t(release_line)
    built = _release_tuple(image_l4t)
    if board is None or built is None:
        return None
    have = _release_tuple(board.version) or (board.major,)
    if have[0] != built[0]:
        return Check("l4t/image", False, f"the board runs L4T {board.version} but {image} is built on L4T {image_l4t}: "
                                         f"build the image for this JetPack (harness image build --profile ...)")
    if have < built[:len(have)]:
        return Check("l4t/image", False, f"the board runs L4T {board.version}, older than {image}'s L4T {image_l4t}: "
                                         f"upgrade the board to L4T {image_l4t} or newer, or build the image on a base "
                                         f"for L4T {board.version} (--build-arg BASE_IMAGE=nvcr.io/nvidia/l4t-jetpack:"
                                         f"r{board.version})")
    return Check("l4t/image", True, f"board L4T {board.version}, image built on L4T {image_l4t}")


def image_checks(profile: DeviceProfile, facts: dict[str, str]) -> list[Check]:
    """The profile's image on the device (informational: deploy ships it) and jetson-stats against the jtop service."""
    raw = facts.get("image_versions", "")
    versions = labelled_versions({LABEL: raw}) if raw and raw != "<no value>" else None
    image = profile.container.image
    if versions is None:
        return [Check("image", True, f"{image} not on the device, or not built by harness image build (deploy ships it)")]
    checks = [Check("image", True, f"{image}: {versions.get('flavor')}, torch {versions.get('torch')}, "
                                   f"TensorRT {versions.get('tensorrt') or '-'}, harness {versions.get('harness')}")]
    if (check := l4t_check(facts.get("l4t", ""), versions.get("l4t"), image)) is not None:
        checks.append(check)
    host, inside = facts.get("jtop_version"), versions.get("jetson_stats")
    if profile.container.mount_jtop_socket and host and inside:
        same = _major_minor(host) == _major_minor(inside)
        checks.append(Check("jetson-stats", same, f"jtop service {host}, image {inside}" + (
            "" if same else f": rebuild with --build-arg JETSON_STATS_VERSION={host} (jtop's socket protocol must match)")))
    return checks



class ContainerRuntime:
    """The runner in a detached container; its handle is the container name, its log ``<engine> logs``."""

    def __init__(self, profile: DeviceProfile) -> None:
        self.profile = profile
        self.name = self.engine = profile.runtime
        self.python = profile.container.python

    def checks(self, facts: dict[str, str]) -> list[Check]:
        engine, c = self.engine, self.profile.container
        found = facts.get(engine)
        checks = [Check(engine, bool(found), found or f"{engine} not on PATH")]
        if c.nvidia_runtime and engine == "docker":
            runtimes = facts.get("docker_runtimes", "")
            checks.append(Check("nvidia runtime", "nvidia" in runtimes,
                                "nvidia runtime registered" if "nvidia" in runtimes else "no nvidia runtime (install nvidia-container-toolkit)"))
        elif c.nvidia_runtime:  # podman reaches the GPU through CDI
            cdi = facts.get("nvidia_cdi", "")
            checks.append(Check("nvidia CDI", bool(cdi), cdi or "no NVIDIA CDI spec (sudo nvidia-ctk cdi generate --output=/etc/cdi/nvidia.yaml)"))
        if found:
            checks += image_checks(self.profile, facts)
        return checks

    def prepare(self, conn, workdir: str, progress) -> dict:  # noqa: ARG002 - the image lives in the engine, not the work dir
        from harness.remote.events import ImageBytes
        from harness.remote.image_transfer import ship_image

        shipped = ship_image(conn, self.engine, self.profile.container.image,
                             progress=lambda raw, total, sent, secs: progress(ImageBytes(raw, total, sent, secs)))
        self.check_image_fits_board(conn)
        return shipped

    def check_image_fits_board(self, conn) -> None:
        """Once the image is on the device (preflight ran before it was shipped): its L4T against the board's
        (``l4t_check``); a mismatch stops the deploy before a runner fails at its first CUDA call."""
        from harness.image.versions import image_labels
        from harness.remote.connection import read_small_argv
        from harness.remote.image_transfer import device_runner

        image = self.profile.container.image
        versions = labelled_versions(image_labels(device_runner(conn, 1 << 20), self.engine, image)) or {}
        release = conn.run(read_small_argv(f"{self.profile.probe_root.rstrip('/')}/etc/nv_tegra_release", 4096))
        check = l4t_check(release.stdout if release.ok else "", versions.get("l4t"), image)
        if check is not None and not check.ok:
            raise RemoteError(f"{conn.where}: {check.detail}", "deploy with an image built for this board's L4T")

    def container_name(self, run_id: str) -> str:
        return f"harness-{run_id}"

    def start(self, conn, workdir: str, run_id: str, argv_tail: list[str]) -> tuple[str, str]:
        name = self.container_name(run_id)
        conn.run([self.engine, "rm", "-f", name])  # a previous attempt's container, if any
        board = self.board(conn, workdir)
        r = conn.run(container_argv(self.profile, name, workdir, [self.python, *argv_tail], board))
        if not r.ok:
            raise RemoteError(f"{conn.where}: {self.engine} run failed ({r.exit_code}): {r.stderr.strip()[-300:]}",
                              f"check the image {self.profile.container.image} on the device (harness doctor)")
        return name, f"{self.engine} logs {name}"

    def board(self, conn, workdir: str) -> DeviceBoard:
        """The device's release file, model and jtop socket group, for the mounts (nothing on a PC)."""
        r = conn.run(["sh", "-c", BOARD_SCRIPT, "sh", self.profile.probe_root, workdir])
        return parse_board(r.stdout if r.ok else "", self.profile.probe_root, workdir)

    def alive(self, conn, handle) -> bool:
        r = conn.run([self.engine, "inspect", "-f", "{{.State.Running}}", str(handle)])
        return r.ok and r.stdout.strip() == "true"

    def stop(self, conn, handle) -> None:
        conn.run([self.engine, "stop", str(handle)])

    def logs(self, conn, handle, log: str, lines: int) -> str:  # noqa: ARG002 - the engine keeps the log
        r = conn.run([self.engine, "logs", "--tail", str(lines), str(handle)], max_output_bytes=1 << 20)
        return r.stdout + r.stderr
