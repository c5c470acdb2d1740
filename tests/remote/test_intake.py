"""A hostile device: everything it returns goes through remote.intake, against a real sshd on loopback.

Each case crafts the device's run directory the way a compromised board could, pulls it,
and checks that the pull fails with a DeviceDataError naming the file, that nothing outside
the local run directory changed, and that the host returned within its bound.
"""

import hashlib
import json
import os
import time
from pathlib import Path

import pytest

from harness.errors import DeviceDataError, RemoteError
from harness.config.profiles import DeviceProfile
from harness.remote.deploy import DeployPlan, Deployment
from harness.config.suite import Suite
from harness.testing.fakes.runs import record
from harness.testing.infra.sshd import make_device

pytestmark = pytest.mark.slow

RUN = "hostile"
SUITE = Suite.model_validate({"name": "tiny", "frames": 6, "warmup": 2, "imgsz": 160,
                              "experiments": [{"name": "baseline", "models": ["yolov8n", "yolo11n"]}]})
CELLS = SUITE.cells()
BOUND_S = 20.0


@pytest.fixture(scope="module")
def device(tmp_path_factory):
    dev = make_device(tmp_path_factory.mktemp("dev"))
    dev.start()
    yield dev
    dev.kill_all()


@pytest.fixture
def host(tmp_path):
    """Files on the host a device must never touch: an authorized_keys, another run, the local run's deploy.json."""
    home = tmp_path / "home"
    (home / ".ssh").mkdir(parents=True)
    (home / ".ssh" / "authorized_keys").write_text("ssh-ed25519 AAAA the-users-key\n")
    (tmp_path / "results" / "other-run").mkdir(parents=True)
    (tmp_path / "results" / "other-run" / "records.jsonl").write_text("")
    return home


def snapshot(root: Path, skip: Path) -> dict:
    """Every file under ``root`` (except ``skip``) with its content hash and mode."""
    out = {}
    for p in sorted(root.rglob("*")):
        if skip in p.parents or p == skip:
            continue
        st = os.lstat(p)
        digest = hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() and not p.is_symlink() else None
        out[str(p)] = (st.st_mode, digest)
    return out


def make_deployment(device, tmp_path, limits=None, sequence=None) -> tuple[Deployment, Path]:
    workdir = tmp_path / "device-work"
    prof = DeviceProfile.model_validate({
        "name": "loop", "kind": "jetson", "compute": "cpu",
        "connection": {"host": "127.0.0.1", "port": device.port, "key_file": str(device.client_key),
                       "known_hosts": str(device.known_hosts), "connect_timeout_s": 5},
        "host_runtime": {"workdir": str(workdir)}, "limits": limits or {"read_timeout_s": 5},
    })
    d = Deployment.attach(DeployPlan(prof, SUITE, sequence or tmp_path / "seq", RUN, tmp_path / "results"), str(workdir))
    remote = workdir / "runs" / RUN
    for sub in ("frames", "detections"):
        (remote / sub).mkdir(parents=True, exist_ok=True)
    (d.store.root).mkdir(parents=True, exist_ok=True)
    (d.store.root / "deploy.json").write_text('{"the": "host\'s own session file"}')
    return d, remote


def write_run(remote: Path, records: list[dict], manifest: dict | None = None) -> None:
    m = manifest or {"schema_version": 1, "run_id": RUN, "state": "running", "suite": SUITE.model_dump(),
                     "profile": {"name": "loop"}, "sequence": "/data/seq", "environment": {"board": "fake"},
                     "cells": [{**c.as_dict(), "state": "ok"} for c in CELLS]}
    (remote / "manifest.json").write_text(json.dumps(m))
    (remote / "records.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))


def good_record(cell, files=None) -> dict:
    rec = record(RUN, "loop", cell, p50=10.0, f1=0.5)
    rec["files"] = files if files is not None else {"frames": f"frames/{cell.cell_id}.csv"}
    return rec


def pull_refused(d, tmp_path, match: str) -> DeviceDataError:
    before = snapshot(tmp_path, d.store.root)
    deploy_json = (d.store.root / "deploy.json").read_bytes()
    t0 = time.monotonic()
    with pytest.raises(DeviceDataError, match=match) as e:
        d.pull()
    took = time.monotonic() - t0
    assert took < BOUND_S, f"the pull took {took:.1f} s"
    after = snapshot(tmp_path, d.store.root)
    changed = {k for k in before.keys() | after.keys() if before.get(k) != after.get(k) and "device-work" not in k}
    assert not changed, f"files outside the run directory changed: {sorted(changed)}"
    assert (d.store.root / "deploy.json").read_bytes() == deploy_json
    assert not [p for p in d.store.root.rglob("*") if ".tmp-" in p.name], "a temp file was left behind"
    assert e.value.message.startswith(d.conn.where)  # names the device
    return e.value


def test_a_well_formed_run_is_pulled(device, tmp_path, host):
    d, remote = make_deployment(device, tmp_path)
    for c in CELLS:
        (remote / "frames" / f"{c.cell_id}.csv").write_text("pre_ms,infer_ms,post_ms,total_ms\n1,2,3,6\n")
    write_run(remote, [good_record(c) for c in CELLS])
    manifest = d.pull()
    assert [r["cell_id"] for r in d.store.read_records()] == [c.cell_id for c in CELLS]
    assert (d.store.root / "frames" / f"{CELLS[0].cell_id}.csv").read_text().startswith("pre_ms")
    assert manifest["suite"] == SUITE.model_dump() and [c["state"] for c in manifest["cells"]] == ["ok", "ok"]
    assert oct((d.store.root / "records.jsonl").stat().st_mode & 0o777) == oct(0o644)  # colleagues can read results


OUTSIDE = ["ABS", "../../../home/.ssh/authorized_keys", "frames/../../deploy.json", "deploy.json", "manifest.json",
           "logs/run.log", "frames/", "frames/.hidden", "telemetry/a\nb"]


@pytest.mark.parametrize("entry", OUTSIDE)
def test_a_record_cannot_name_a_path_outside_its_run(device, tmp_path, host, entry):
    d, remote = make_deployment(device, tmp_path)
    target = host / ".ssh" / "authorized_keys"
    entry = str(target) if entry == "ABS" else entry
    (remote / "evil").write_text("ssh-ed25519 AAAA the-attackers-key\n")
    write_run(remote, [good_record(CELLS[0], {"frames": entry})])
    err = pull_refused(d, tmp_path, r"records.jsonl:1: not a run record \(files.frames: String should match pattern")
    assert "\n" not in err.message  # device text never breaks the one-line error
    assert "attacker" not in target.read_text()


@pytest.mark.parametrize("entry", OUTSIDE)
def test_the_fetch_itself_confines_paths_too(device, tmp_path, host, entry):
    """Defence in depth: the door refuses these names even if a record type let them through."""
    from harness.remote.intake import RemoteRunDir

    d, remote = make_deployment(device, tmp_path)
    entry = str(host / ".ssh" / "authorized_keys") if entry == "ABS" else entry
    door = RemoteRunDir(d.conn, str(remote), d.plan.profile.limits, d.store.root)
    with pytest.raises(DeviceDataError, match="refused: a device may only name frames/|may not name the run's control"):
        door.fetch(entry)


def test_symlinks_to_host_files_and_to_root_are_refused(device, tmp_path, host):
    d, remote = make_deployment(device, tmp_path)
    (remote / "frames" / "a.csv").symlink_to(host / ".ssh" / "authorized_keys")
    write_run(remote, [good_record(CELLS[0], {"frames": "frames/a.csv"})])
    pull_refused(d, tmp_path, "is a symbolic link; only regular files are read")
    (remote / "frames" / "a.csv").unlink()
    os.rmdir(remote / "frames")
    (remote / "frames").symlink_to("/")
    write_run(remote, [good_record(CELLS[0], {"frames": "frames/etc"})])
    pull_refused(d, tmp_path, "frames is a symbolic link, not a directory")


def test_dev_zero_fifo_and_devices_are_refused_at_once(device, tmp_path, host):
    d, remote = make_deployment(device, tmp_path)
    (remote / "frames" / "zero.csv").symlink_to("/dev/zero")
    write_run(remote, [good_record(CELLS[0], {"frames": "frames/zero.csv"})])
    pull_refused(d, tmp_path, "symbolic link")
    os.mkfifo(remote / "frames" / "fifo.csv")
    write_run(remote, [good_record(CELLS[0], {"frames": "frames/fifo.csv"})])
    pull_refused(d, tmp_path, "is a FIFO")
    try:
        os.mknod(remote / "frames" / "null.csv", 0o600 | 0o020000, os.makedev(1, 3))  # a character device
    except PermissionError:
        return
    write_run(remote, [good_record(CELLS[0], {"frames": "frames/null.csv"})])
    pull_refused(d, tmp_path, "is a character device")


def test_huge_files_and_runs_are_refused_without_reading_them(device, tmp_path, host):
    d, remote = make_deployment(device, tmp_path, {"max_file_mib": 1, "max_run_mib": 3, "read_timeout_s": 5})
    with open(remote / "frames" / "big.csv", "wb") as f:
        f.truncate(2 << 30)  # a 2 GiB (sparse) file
    write_run(remote, [good_record(CELLS[0], {"frames": "frames/big.csv"})])
    pull_refused(d, tmp_path, "over the 1 MiB limit")
    # many files, each under the per-file limit, over the per-run limit
    files = {}
    for i, key in enumerate(("frames", "detections", "telemetry")):
        (remote / key).mkdir(exist_ok=True)
        (remote / key / "x.csv").write_bytes(b"1" * (900 << 10))
        files[key] = f"{key}/x.csv"
    files2 = {k: v.replace("x.csv", "y.csv") for k, v in files.items()}
    for rel in files2.values():
        (remote / rel).write_bytes(b"1" * (900 << 10))
    write_run(remote, [good_record(CELLS[0], files), good_record(CELLS[1], files2)])
    pull_refused(d, tmp_path, "over the")


@pytest.mark.parametrize("records_text, why", [
    (b"\xff\xfe not utf-8\n", "is not UTF-8 text"),
    (b"{not json\n", "is not valid JSON"),
    (b"[1, 2, 3]\n", "a record must be a JSON object"),
    (json.dumps({"run_id": RUN, "status": "ok"}).encode() + b"\n", "cell_id: Field required"),
    ("FILES_LIST", "files: Input should be a valid dictionary"),
    ("OTHER_RUN", "belongs to run 'someone-else'"),
    ("UNKNOWN_CELL", "which this run does not have"),
    ("BAD_STATUS", "status: Input should be 'ok', 'skipped' or 'failed'"),
    ("MISSING_FILE", "named by a record but missing on the device"),
])
def test_malformed_records_are_refused_with_the_file_and_field(device, tmp_path, host, records_text, why):
    d, remote = make_deployment(device, tmp_path)
    write_run(remote, [])
    rec = good_record(CELLS[0])
    (remote / "frames" / f"{CELLS[0].cell_id}.csv").write_text("x\n")
    if records_text == "FILES_LIST":
        rec["files"] = ["frames/a.csv"]
    elif records_text == "OTHER_RUN":
        rec["run_id"] = "someone-else"
    elif records_text == "UNKNOWN_CELL":
        from harness.config.suite import Cell

        other = Cell("baseline", "yolov8x", "pytorch", "fp32")
        rec = good_record(other)
    elif records_text == "BAD_STATUS":
        rec["status"] = "<script>alert(1)</script>"
    elif records_text == "MISSING_FILE":
        rec["files"] = {"frames": "frames/not-there.csv"}
    text = records_text if isinstance(records_text, bytes) else (json.dumps(rec) + "\n").encode()
    (remote / "records.jsonl").write_bytes(text)
    err = pull_refused(d, tmp_path, why)
    assert "records.jsonl" in err.message or "frames/not-there.csv" in err.message


@pytest.mark.parametrize("manifest, why", [
    ([1, 2], "a manifest must be a JSON object"),
    ({"run_id": RUN, "state": "running", "suite": {}, "profile": {}, "cells": [{"cell_id": "x"}]}, "cells.0"),
    ({"run_id": "../../etc", "state": "running", "suite": {}, "profile": {}}, "run_id: String should match pattern"),
    ({"run_id": "other", "state": "running", "suite": {}, "profile": {}}, "belongs to run 'other'"),
])
def test_malformed_manifests_are_refused(device, tmp_path, host, manifest, why):
    d, remote = make_deployment(device, tmp_path)
    write_run(remote, [])
    (remote / "manifest.json").write_text(json.dumps(manifest))
    pull_refused(d, tmp_path, why)


def test_a_manifest_naming_other_cells_does_not_reach_the_host(device, tmp_path, host, run_harness, small_seq):
    """The local manifest is the host's own plan; the device only reports the states of the plan's cells."""
    d, remote = make_deployment(device, tmp_path, sequence=small_seq)
    extra = {"cell_id": "evil.x.pytorch-fp32", "experiment": "evil", "model": "x", "format": "pytorch",
             "precision": "fp32", "state": "pending"}
    m = {"schema_version": 1, "run_id": RUN, "state": "running", "profile": {"name": "loop"},
         "suite": {**SUITE.model_dump(), "name": "evil", "experiments": [{"name": "evil", "models": ["x"]}]},
         "sequence": "/etc", "cells": [{**c.as_dict(), "state": "ok"} for c in CELLS] + [extra]}
    write_run(remote, [], m)
    got = d.pull()
    assert got["suite"] == SUITE.model_dump() and [c["cell_id"] for c in got["cells"]] == [c.cell_id for c in CELLS]
    assert got["sequence"] == str(small_seq.resolve())  # the host's own copy, never a path the device names
    # a local manifest edited to name other cells is refused by --resume, not trusted with file names
    local = json.loads((d.store.root / "manifest.json").read_text())
    local["cells"].append(extra)
    (d.store.root / "manifest.json").write_text(json.dumps(local))
    p = run_harness("run", "--resume", d.store.root)
    assert p.returncode == 2 and "cells do not match its suite" in p.stderr, p.stderr
    assert not (tmp_path / "results" / "evil").exists()


def test_pull_time_is_linear_in_the_number_of_records(device, tmp_path):
    """Every pulled record used to rewrite records.jsonl and summary.csv (quadratic): now one write per pull."""
    from harness.config.suite import Cell

    times = {300: [], 1200: []}
    for n in (300, 1200, 300, 1200):  # each size twice, interleaved; the faster of the two counts (load only slows)
        sub = tmp_path / f"n{n}-{len(times[n])}"
        models = [f"m{i:04d}" for i in range(n)]
        suite = Suite.model_validate({"name": "many", "frames": 6, "warmup": 2,
                                      "experiments": [{"name": "baseline", "models": models}]})
        d, remote = make_deployment(device, sub)
        d.plan.suite = suite
        cells = [Cell("baseline", m, "pytorch", "fp32") for m in models]
        recs = [good_record(c, {}) for c in cells]
        write_run(remote, recs, {"schema_version": 1, "run_id": RUN, "state": "complete", "suite": suite.model_dump(),
                                 "profile": {}, "cells": [{**c.as_dict(), "state": "ok"} for c in cells]})
        t0 = time.perf_counter()
        d.pull()
        times[n].append(time.perf_counter() - t0)
        assert len(d.store.read_records()) == n
        d.conn.close()
    times = {n: min(t) for n, t in times.items()}
    ratio = times[1200] / times[300]
    print(f"pull of 300 records {times[300]:.2f} s, 1200 records {times[1200]:.2f} s: x{ratio:.1f} for 4x the records")
    assert ratio < 8, times  # linear is ~4; the quadratic pull was ~16


def test_a_lock_file_that_is_not_a_lock_is_a_clear_error(device, tmp_path):
    from harness.remote import lock

    d, _ = make_deployment(device, tmp_path)
    Path(d.workdir, "lock.json").write_text("[1, 2, 3]")
    with pytest.raises(RemoteError, match="exists but is not a harness lock"):
        lock.acquire(d.conn, d.workdir, RUN, "boot")


def test_a_device_flooding_command_output_is_cut_off(device, tmp_path):
    d, _ = make_deployment(device, tmp_path)
    t0 = time.monotonic()
    with pytest.raises(DeviceDataError, match="sent more than 1 MiB of output"):
        d.conn.run(["sh", "-c", "cat /dev/zero"], max_output_bytes=1 << 20)
    assert time.monotonic() - t0 < BOUND_S
    assert d.conn.run(["echo", "still usable"]).stdout.strip() == "still usable"
