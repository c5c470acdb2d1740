"""``runtime: docker | podman``: the runner in the profile's image, ``run -d``, the work dir at the same path.

No ``-it``, never ``--privileged``; the NVIDIA runtime on Jetsons (docker) or the CDI device (podman);
the jtop socket mounted when the profile asks and the device has it; the image (a validated
reference) after ``--``. The image is shipped by ``remote.image_transfer`` when the device lacks it.
"""

from __future__ import annotations

from harness.config.profiles import DeviceProfile
from harness.errors import RemoteError
from harness.image.versions import LABEL, labelled_versions
from harness.remote.checks import Check


def container_argv(profile: DeviceProfile, name: str, workdir: str, inner: list[str], jtop_socket: bool) -> list[str]:
    """``docker|podman run -d`` argv for the runner (see the module docstring)."""
    c = profile.container
    argv = [profile.runtime, "run", "-d", "--name", name, "--network", "host", "-v", f"{workdir}:{workdir}", "-w", workdir]
    if c.nvidia_runtime:  # docker: the nvidia runtime; podman: the CDI device
        argv += ["--runtime", "nvidia"] if profile.runtime == "docker" else ["--device", "nvidia.com/gpu=all"]
    if c.gpus_all:
        argv += ["--gpus", "all"]
    if c.mount_jtop_socket and jtop_socket:
        argv += ["-v", "/run/jtop.sock:/run/jtop.sock"]
    return [*argv, *c.extra_args, "--", c.image, *inner]


def _major_minor(version: str | None) -> str | None:
    parts = (version or "").split(".")
    return ".".join(parts[:2]) if len(parts) >= 2 else None


def image_checks(profile: DeviceProfile, facts: dict[str, str]) -> list[Check]:
    """The profile's image on the device (informational: deploy ships it) and jetson-stats against the jtop service."""
    raw = facts.get("image_versions", "")
    versions = labelled_versions({LABEL: raw}) if raw and raw != "<no value>" else None
    image = profile.container.image
    if versions is None:
        return [Check("image", True, f"{image} not on the device, or not built by harness image build (deploy ships it)")]
    checks = [Check("image", True, f"{image}: {versions.get('flavor')}, torch {versions.get('torch')}, "
                                   f"TensorRT {versions.get('tensorrt') or '-'}, harness {versions.get('harness')}")]
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
        from harness.remote.image_transfer import ship_image

        return ship_image(conn, self.engine, self.profile.container.image,
                          progress=lambda raw, total, sent, secs: progress(
                              "image_bytes", {"bytes": raw, "total": total, "sent": sent, "seconds": secs}))

    def container_name(self, run_id: str) -> str:
        return f"harness-{run_id}"

    def start(self, conn, workdir: str, run_id: str, argv_tail: list[str]) -> tuple[str, str]:
        name = self.container_name(run_id)
        conn.run([self.engine, "rm", "-f", name])  # a previous attempt's container, if any
        jtop = conn.run(["test", "-S", "/run/jtop.sock"]).ok
        r = conn.run(container_argv(self.profile, name, workdir, [self.python, *argv_tail], jtop))
        if not r.ok:
            raise RemoteError(f"{conn.where}: {self.engine} run failed ({r.exit_code}): {r.stderr.strip()[-300:]}",
                              f"check the image {self.profile.container.image} on the device (harness doctor)")
        return name, f"{self.engine} logs {name}"

    def alive(self, conn, handle) -> bool:
        r = conn.run([self.engine, "inspect", "-f", "{{.State.Running}}", str(handle)])
        return r.ok and r.stdout.strip() == "true"

    def stop(self, conn, handle) -> None:
        conn.run([self.engine, "stop", str(handle)])

    def logs(self, conn, handle, log: str, lines: int) -> str:  # noqa: ARG002 - the engine keeps the log
        r = conn.run([self.engine, "logs", "--tail", str(lines), str(handle)], max_output_bytes=1 << 20)
        return r.stdout + r.stderr
