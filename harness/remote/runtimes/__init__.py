"""How the runner runs on a device, chosen once per deploy from the profile's ``runtime``.

``host``: the device's own Python, in a venv the harness creates (``runtimes/host.py``).
``docker`` / ``podman``: the profile's image, detached, never privileged (``runtimes/container.py``).
Every runtime answers the same questions: what to check in preflight, what to prepare (a venv,
the image), how to start the runner detached, whether it is alive, how to stop it, its log.
"""

from __future__ import annotations

from typing import Protocol

from harness.config.profiles import DeviceProfile
from harness.remote.checks import Check


class Runtime(Protocol):
    name: str  # "host", "docker", "podman"
    engine: str  # the container engine ("" for host)

    def checks(self, facts: dict[str, str]) -> list[Check]: ...
    def prepare(self, conn, workdir: str, progress) -> dict: ...
    def start(self, conn, workdir: str, run_id: str, argv_tail: list[str]) -> tuple[int | str, str]: ...
    def alive(self, conn, handle) -> bool: ...
    def stop(self, conn, handle) -> None: ...
    def logs(self, conn, handle, log: str, lines: int) -> str: ...


def runtime_for(profile: DeviceProfile) -> Runtime:
    """The profile's runtime (``host``, else a container engine)."""
    if profile.runtime == "host":
        from harness.remote.runtimes.host import HostRuntime

        return HostRuntime(profile)
    from harness.remote.runtimes.container import ContainerRuntime

    return ContainerRuntime(profile)
