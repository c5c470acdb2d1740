"""``harness image build``: build the image a profile needs, here (natively or cross) or on the device over SSH.

The image is tagged by content (``edge-harness:<flavour>-<version>-<key12>``) and
also under the profile's ``container.image``; a tag that already exists is a
cache hit and nothing is built (``force`` rebuilds). After the build the image's
versions (``/opt/harness/image.json``, written inside it) are copied into the
``io.edge-harness.versions`` label by a one-line follow-up build.
"""

from __future__ import annotations

import json
import shlex
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from harness.errors import ImageError, printable
from harness.image.context import assemble_context, tar_context
from harness.image.flavors import Flavor, docker_dir, flavor_for, host_platform, resolve_build_args
from harness.image.key import content_key, content_tag
from harness.image.versions import KEY_LABEL, LABEL, image_labels, labelled_versions
from harness.config.profiles import DeviceProfile
from harness.subproc import stream

BUILD_TIMEOUT_S = 3 * 3600
Runner = Callable[[list[str], float], tuple[int, str, str]]  # argv, timeout_s -> (code, stdout, stderr)


@dataclass
class BuildPlan:
    profile: DeviceProfile
    flavor: Flavor
    build_args: dict[str, str]
    key: str
    tag: str
    aliases: list[str]
    engine: str
    where: str  # local | device
    platform: str | None  # set for a cross-build here
    build_opts: list[str] = field(default_factory=list)
    force: bool = False


@dataclass
class BuildResult:
    tag: str
    key: str
    where: str
    engine: str
    cache_hit: bool
    seconds: float
    image_id: str
    size_bytes: int | None
    versions: dict | None
    aliases: list[str]

    def as_dict(self) -> dict:
        return dict(self.__dict__)


def _binfmt_ready(target: str) -> bool:
    arch = {"linux/arm64": "aarch64", "linux/amd64": "x86_64"}.get(target, target.split("/")[-1])
    return Path(f"/proc/sys/fs/binfmt_misc/qemu-{arch}").exists()


def local_engine(profile: DeviceProfile, engine: str | None) -> str:
    if engine:
        return engine
    if profile.runtime in ("docker", "podman") and shutil.which(profile.runtime):
        return profile.runtime
    for name in ("docker", "podman"):
        if shutil.which(name):
            return name
    raise ImageError("no container engine here (docker or podman)",
                     "install one (apt-get install docker.io | podman), or build on the device: --where device")


def plan_build(profile: DeviceProfile, cli_args: dict[str, str] | None = None, where: str = "auto", engine: str | None = None,
               extra_tags: list[str] | None = None, build_opts: list[str] | None = None, force: bool = False,
               platform: str | None = None) -> BuildPlan:
    """Where and how to build; ``platform`` overrides the flavour's (e.g. the L4T Dockerfile on a substitute base)."""
    flavor = flavor_for(profile)
    args = resolve_build_args(flavor, profile, cli_args or {})
    target = platform or flavor.platform
    cross = target is not None and target != host_platform()
    root = docker_dir()
    key = content_key(flavor, args, root, root.parent, target or host_platform())
    tag = content_tag(flavor, key)
    aliases = [t for t in [profile.container.image, *(extra_tags or [])] if t and t != tag]
    if where == "auto":
        where = "device" if cross and not _binfmt_ready(target) and profile.connection is not None else "local"
    if where == "device":
        if profile.connection is None:
            raise ImageError(f"profile {profile.name!r} has no connection block", "build here (--where local) or add connection")
        if profile.runtime not in ("docker", "podman"):
            raise ImageError(f"profile {profile.name!r} has runtime {profile.runtime!r}", "set runtime: docker|podman to build on the device")
        return BuildPlan(profile, flavor, args, key, tag, aliases, engine or profile.runtime, "device", None, build_opts or [], force)
    if cross and not _binfmt_ready(target):
        raise ImageError(f"{flavor.name} is {target} and this host is {host_platform()}, and qemu binfmt for it is not registered",
                         "apt-get install qemu-user-static binfmt-support (then docker buildx / podman --platform), "
                         "or build on the device: --where device")
    return BuildPlan(profile, flavor, args, key, tag, aliases, local_engine(profile, engine), "local",
                     target if cross else None, build_opts or [], force)


def build_argv(plan: BuildPlan, context: str, dockerfile: str) -> list[str]:
    """The engine's build command. podman: docker format (SHELL/LABEL kept); docker cross: buildx --load."""
    if plan.engine.endswith("podman"):
        argv = [plan.engine, "build", "--format", "docker"]
        if plan.platform:
            argv += ["--platform", plan.platform]
    elif plan.platform:
        argv = [plan.engine, "buildx", "build", "--load", "--platform", plan.platform]
    else:
        argv = [plan.engine, "build"]
    for k, v in sorted(plan.build_args.items()):
        argv += ["--build-arg", f"{k}={v}"]
    argv += ["--label", f"{KEY_LABEL}={plan.key}", *plan.build_opts, "-f", dockerfile, "-t", plan.tag, context]
    return argv


def _local_runner(log: Callable[[str], None] | None) -> Runner:
    def run(argv: list[str], timeout_s: float) -> tuple[int, str, str]:
        try:
            r = stream(argv, log, timeout_s=timeout_s)
        except OSError as e:
            raise ImageError(f"cannot start {argv[0]} ({e})", "install docker or podman, or pass --engine") from e
        if r.timed_out:
            raise ImageError(f"`{' '.join(argv[:3])} ...` did not finish within {timeout_s:g} s (killed)",
                             "see the output above; a stalled download needs a mirror (--build-arg PIP_INDEX_URL=...)")
        return r.exit_code, r.stdout, r.stdout[-4000:]
    return run


def _device_runner(conn) -> Runner:
    def run(argv: list[str], timeout_s: float) -> tuple[int, str, str]:
        r = conn.run(argv, timeout_s=timeout_s)
        return r.exit_code, r.stdout, r.stderr
    return run


def _inspect(run: Runner, engine: str, tag: str) -> tuple[str, int | None] | None:
    code, out, _ = run([engine, "image", "inspect", "--format", "{{.Id}} {{.Size}}", tag], 120)
    if code != 0 or not out.strip():
        return None
    parts = out.split()
    return parts[0], int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else None


def _label_versions(run: Runner, plan: BuildPlan, put_file: Callable[[str, str], str]) -> dict | None:
    """Read /opt/harness/image.json out of the image and rebuild the tag with it as a label (metadata only)."""
    code, out, err = run([plan.engine, "run", "--rm", "--network", "none", "--entrypoint", "cat", plan.tag,
                          "/opt/harness/image.json"], 600)
    if code != 0:
        raise ImageError(f"reading /opt/harness/image.json from {plan.tag} failed ({code}): {err.strip()[-300:]}",
                         "the image build did not finish its last step; rebuild with --force")
    versions = json.loads(out)
    ctx = put_file("Containerfile", f"FROM {plan.tag}\n")
    argv = [plan.engine, "build"]
    if plan.engine.endswith("podman"):
        argv += ["--format", "docker"]
    argv += ["--label", f"{LABEL}={json.dumps(versions, sort_keys=True)}", "--label", f"{KEY_LABEL}={plan.key}",
             *[o for o in plan.build_opts if not o.startswith("-v")], "-t", plan.tag, ctx]
    code, _, err = run(argv, 600)
    if code != 0:
        raise ImageError(f"labelling {plan.tag} failed ({code}): {err.strip()[-300:]}", "check the engine's output above")
    return versions


def _finish(run: Runner, plan: BuildPlan, cache_hit: bool, t0: float, versions: dict | None) -> BuildResult:
    for alias in plan.aliases:
        code, _, err = run([plan.engine, "tag", plan.tag, alias], 120)
        if code != 0:
            raise ImageError(f"tagging {plan.tag} as {alias} failed: {err.strip()[-200:]}", "check the tag name")
    found = _inspect(run, plan.engine, plan.tag)
    if found is None:
        raise ImageError(f"{plan.tag} is not in {plan.engine}'s images after the build", "see the build output")
    if versions is None:
        versions = labelled_versions(image_labels(lambda argv: run(argv, 120)[:2], plan.engine, plan.tag))
    return BuildResult(plan.tag, plan.key, plan.where, plan.engine, cache_hit, round(time.perf_counter() - t0, 1),
                       found[0], found[1], versions, plan.aliases)


def build_local(plan: BuildPlan, log: Callable[[str], None] | None = None) -> BuildResult:
    t0 = time.perf_counter()
    run = _local_runner(log)
    quiet = _local_runner(None)
    if not plan.force and _inspect(quiet, plan.engine, plan.tag):
        return _finish(quiet, plan, True, t0, None)
    with tempfile.TemporaryDirectory(prefix="harness-image-") as tmp:
        ctx = assemble_context(Path(tmp) / "context")
        code, _, tail = run(build_argv(plan, str(ctx), str(ctx / plan.flavor.dockerfile)), BUILD_TIMEOUT_S)
        if code != 0:
            raise ImageError(f"{plan.engine} build of {plan.tag} failed ({code}): {tail.strip()[-400:]}",
                             "see the build output above; a network or base-image error needs --build-arg / --build-opt")

        def put_file(name: str, text: str) -> str:
            d = Path(tmp) / "label"
            d.mkdir(exist_ok=True)
            (d / name).write_text(text)
            return str(d)

        versions = _label_versions(quiet, plan, put_file)
    return _finish(quiet, plan, False, t0, versions)


def build_on_device(plan: BuildPlan, conn, workdir: str, log: Callable[[str], None] | None = None) -> BuildResult:
    """Ship the context (one tar over SFTP) to ``<workdir>/image-build/<key>`` and build there."""
    t0 = time.perf_counter()
    run = _device_runner(conn)
    if not plan.force and _inspect(run, plan.engine, plan.tag):
        return _finish(run, plan, True, t0, None)
    remote = f"{workdir}/image-build/{plan.key[:16]}"
    with tempfile.TemporaryDirectory(prefix="harness-image-") as tmp:
        ctx = assemble_context(Path(tmp) / "context")
        tar = tar_context(ctx, Path(tmp) / "context.tar")
        conn.run(["mkdir", "-p", remote])
        if log:
            log(f"shipping the build context ({tar.stat().st_size / 1e6:.1f} MB) to {conn.where}:{remote}")
        conn.put(tar, f"{remote}/context.tar")
    try:
        r = conn.run(["sh", "-c", f"cd {shlex.quote(remote)} && tar -xf context.tar && rm context.tar"])
        if not r.ok:
            raise ImageError(f"{conn.where}: unpacking the build context failed: {r.stderr.strip()[-200:]}", "check free disk on the device")
        if log:
            log(f"building {plan.tag} on {conn.where} with {plan.engine} (output comes when it ends)")
        code, out, err = run(build_argv(plan, remote, f"{remote}/{plan.flavor.dockerfile}"), BUILD_TIMEOUT_S)
        if log:
            for line in (out + err).splitlines()[-40:]:
                log(printable(line))  # the device's output: no terminal escapes
        if code != 0:
            raise ImageError(f"{conn.where}: {plan.engine} build of {plan.tag} failed ({code}): {(err or out).strip()[-400:]}",
                             "see the output above; check the device's network and free disk")

        def put_file(name: str, text: str) -> str:
            d = f"{remote}/label"
            conn.run(["mkdir", "-p", d])
            conn.stream_in(["sh", "-c", 'cat > "$1"', "sh", f"{d}/{name}"], [text.encode()])  # data on stdin, never in the script
            return d

        versions = _label_versions(run, plan, put_file)
    finally:
        conn.run(["rm", "-rf", remote])
    return _finish(run, plan, False, t0, versions)
