"""Image flavours and which one a device profile needs.

| flavour   | Dockerfile            | platform     | for                                  |
| cpu       | docker/Dockerfile.cpu | this host's  | desktop-cpu, local                   |
| gpu       | docker/Dockerfile.gpu | linux/amd64  | desktop-gpu                          |
| l4t-r36   | docker/Dockerfile.l4t | linux/arm64  | Jetson, JetPack 6 (expect.l4t_major 36) |
| l4t-r35   | docker/Dockerfile.l4t | linux/arm64  | Jetson, JetPack 5 (expect.l4t_major 35) |

Build args come from the flavour's args file (``docker/l4t-r36.args``), then the
profile's ``container.build_args``, then ``--build-arg`` on the command line.
"""

from __future__ import annotations

import platform
from dataclasses import dataclass
from pathlib import Path

from harness.errors import ImageError, ProfileError
from harness.config.profiles import DeviceProfile


@dataclass(frozen=True)
class Flavor:
    name: str
    dockerfile: str
    args_file: str | None
    platform: str | None  # None: the building machine's own
    required_args: tuple[str, ...] = ()
    required_why: str = ""


FLAVORS = {
    "cpu": Flavor("cpu", "Dockerfile.cpu", None, None),
    "gpu": Flavor("gpu", "Dockerfile.gpu", None, "linux/amd64"),
    "l4t-r36": Flavor("l4t-r36", "Dockerfile.l4t", "l4t-r36.args", "linux/arm64", ("TORCH_WHL",)),
    "l4t-r35": Flavor("l4t-r35", "Dockerfile.l4t", "l4t-r35.args", "linux/arm64", ("TORCH_WHL", "TORCHVISION_WHL"),
                      "JetPack 5's NVIDIA torch wheels are for Python 3.8 and the harness needs >= 3.10: build cp310 "
                      "wheels (e.g. jetson-containers) and pass --build-arg TORCH_WHL=... --build-arg TORCHVISION_WHL=..."),
}


def docker_dir() -> Path:
    """The repository's ``docker/`` (Dockerfiles, args files, lockfiles, entry point)."""
    return Path(__file__).resolve().parent.parent.parent / "docker"


def flavor_for(profile: DeviceProfile) -> Flavor:
    """The flavour a profile needs: ``container.flavor`` if set, else from its kind and L4T major."""
    if profile.container.flavor != "auto":
        return FLAVORS[profile.container.flavor]
    if profile.kind == "jetson":
        major = profile.expect.l4t_major
        if major not in (35, 36):
            raise ProfileError(f"profile {profile.name!r}: a Jetson image needs expect.l4t_major 36 (JetPack 6) or 35 (JetPack 5), "
                               f"got {major}", "set expect.l4t_major, or container.flavor: l4t-r36 | l4t-r35")
        return FLAVORS[f"l4t-r{major}"]
    return FLAVORS["gpu" if profile.kind == "desktop-gpu" else "cpu"]


def host_platform() -> str:
    m = platform.machine().lower()
    return "linux/arm64" if m in ("aarch64", "arm64") else "linux/amd64" if m in ("x86_64", "amd64") else f"linux/{m}"


def read_args_file(path: Path) -> dict[str, str]:
    """``KEY=value`` lines (``#`` comments, blank lines); values are taken as written, empty allowed."""
    args: dict[str, str] = {}
    for n, raw in enumerate(path.read_text().splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        key, sep, value = line.partition("=")
        if not sep or not key.strip().isidentifier():
            raise ImageError(f"{path}:{n}: expected KEY=value, got {raw!r}", "fix the args file")
        args[key.strip()] = value.strip()
    return args


def resolve_build_args(flavor: Flavor, profile: DeviceProfile, cli_args: dict[str, str], root: Path | None = None) -> dict[str, str]:
    """Args file < profile ``container.build_args`` < command line; ``FLAVOR`` always set; required ones checked."""
    root = root or docker_dir()
    args: dict[str, str] = {"FLAVOR": flavor.name}
    if flavor.args_file:
        args.update(read_args_file(root / flavor.args_file))
    args.update(profile.container.build_args)
    args.update(cli_args)
    missing = [k for k in flavor.required_args if not args.get(k)]
    if missing:
        raise ImageError(f"flavour {flavor.name}: build arg(s) {', '.join(missing)} empty",
                         flavor.required_why or f"pass --build-arg {missing[0]}=... or set it in docker/{flavor.args_file}")
    return args
