"""``harness image``: build the container image a profile needs, show its content key, write lockfiles."""

from __future__ import annotations

from pathlib import Path

import typer

from harness.cli._console import output

app = typer.Typer(help="Container images (docker/): build by content key, here or on the device; lockfiles.",
                  no_args_is_help=True)


def _pairs(values: list[str], option: str) -> dict[str, str]:
    from harness.errors import ImageError

    out: dict[str, str] = {}
    for v in values:
        k, sep, val = v.partition("=")
        if not sep or not k:
            raise ImageError(f"{option} {v!r}: expected KEY=VALUE", f"e.g. {option} TORCH_WHL=/wheels/torch.whl")
        out[k] = val
    return out


def _device_jtop_version(conn) -> str | None:
    r = conn.run(["python3", "-c", "import jtop; print(jtop.__version__)"])
    return r.stdout.strip() or None if r.ok else None


@app.command("build")
def build_command(
    profile: str = typer.Option(..., "--profile", envvar="HARNESS_PROFILE", help="Device profile name or YAML path."),
    where: str = typer.Option("auto", "--where", help="auto | local | device (auto: here, natively or cross with qemu; "
                              "on the device over SSH when this host cannot run the target's binaries)."),
    build_arg: list[str] = typer.Option([], "--build-arg", help="KEY=VALUE over docker/<flavour>.args and the profile's container.build_args."),
    build_opt: list[str] = typer.Option([], "--build-opt", help="Extra option for `<engine> build`, e.g. --build-opt=--network=host."),
    tag: list[str] = typer.Option([], "--tag", help="Also tag the image with this name (the profile's container.image always is)."),
    engine: str = typer.Option(None, "--engine", help="docker | podman here (default: the profile's runtime, else whichever exists)."),
    force: bool = typer.Option(False, "--force", help="Build even when the content tag already exists.", metavar=""),
    platform: str = typer.Option(None, "--platform", help="Build for this platform instead of the flavour's "
                                 "(linux/arm64 for Jetson), e.g. to try the L4T Dockerfile on a substitute base."),
    accept_new_host_key: bool = typer.Option(False, "--accept-new-host-key", help="Pin an unknown host key (device builds).", metavar=""),
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON.", metavar=""),
) -> None:
    """Build the profile's image (flavour from kind + expect.l4t_major), tagged by content; skip if it exists."""
    from harness.image.build import build_local, build_on_device, plan_build
    from harness.config.profiles import load_profile

    prof = load_profile(profile)
    cli_args = _pairs(build_arg, "--build-arg")
    plan = plan_build(prof, cli_args, where, engine, tag, build_opt, force, platform)
    log = None if as_json else output().line

    def announce() -> None:
        if not as_json:
            output().show(f"[bold]{plan.tag}[/] ({plan.flavor.name}, {plan.where}, {plan.engine}"
                            f"{', ' + plan.platform if plan.platform else ''})")

    if plan.where == "device":
        from harness.remote.connection import DeviceConnection

        with DeviceConnection(prof.connection, accept_new_host_key, prof.timeouts.command_s) as conn:
            jtop = _device_jtop_version(conn) if plan.flavor.name.startswith("l4t") else None
            if jtop and "JETSON_STATS_VERSION" not in {**prof.container.build_args, **cli_args}:
                # jetson-stats in the image must speak the board's jtop service protocol (same major.minor)
                plan = plan_build(prof, {**cli_args, "JETSON_STATS_VERSION": jtop}, where, engine, tag, build_opt, force, platform)
            announce()
            result = build_on_device(plan, conn, conn.expand_user(prof.host_runtime.workdir), log)
    else:
        announce()
        result = build_local(plan, log)
    if as_json:
        output().json(result.as_dict(), sort_keys=True)
        return
    size = f"{result.size_bytes / 1e9:.2f} GB" if result.size_bytes else "size unknown"
    state = "already built (content tag exists)" if result.cache_hit else f"built in {result.seconds:.0f} s"
    output().line(f"{result.tag}: {state}, {size}; also tagged {', '.join(result.aliases) or '-'}")
    if result.versions:
        output().line("versions: " + ", ".join(f"{k} {v}" for k, v in sorted(result.versions.items()) if v))


@app.command("key")
def key_command(
    profile: str = typer.Option(..., "--profile", envvar="HARNESS_PROFILE", help="Device profile name or YAML path."),
    build_arg: list[str] = typer.Option([], "--build-arg", help="KEY=VALUE, as for build."),
    platform: str = typer.Option(None, "--platform", help="As for build."),
) -> None:
    """Print the content tag the profile's image would get (flavour, build args, source, Dockerfile, lockfile)."""
    from harness.image.flavors import docker_dir, flavor_for, host_platform, resolve_build_args
    from harness.image.key import content_key, content_tag
    from harness.config.profiles import load_profile

    prof = load_profile(profile)
    flavor = flavor_for(prof)
    args = resolve_build_args(flavor, prof, _pairs(build_arg, "--build-arg"))
    output().text(content_tag(flavor, content_key(flavor, args, docker_dir(), docker_dir().parent, platform or flavor.platform or host_platform())))


@app.command("lock")
def lock_command(
    out: Path = typer.Option(Path("docker/requirements/cpu.lock"), "--out", help="Lockfile to write."),
) -> None:
    """Write the exact versions of the harness's runtime dependencies installed here (torch/onnxruntime excluded)."""
    from harness.image.lock import lock_text, runtime_closure
    import platform

    from harness.results.store import atomic_write_text

    header = ("Runtime dependencies of edge-harness for the CPU and desktop GPU images, exact versions.\n"
              f"Generated by `harness image lock --out {out}` from a working environment\n"
              f"({platform.machine()}, CPython {platform.python_version()}). "
              "torch/torchvision and onnxruntime come from each image's own build args.")
    closure = runtime_closure()
    atomic_write_text(out, lock_text(closure, header))
    output().line(f"{out}: {len(closure)} distributions")
