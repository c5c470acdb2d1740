"""A stand-in ``docker``/``podman`` CLI for deploy tests on machines without a container engine.

Implements just what deploy uses -- ``image inspect``, ``info``, ``run -d``,
``inspect -f {{.State.Running}}``, ``rm -f``, ``stop``, ``logs`` -- by running
the container's command as a detached host process. Every call's argv is
appended to ``$FAKE_ENGINE_STATE/calls.jsonl`` so tests can check the flags
(no ``-it``, no ``--privileged``, ``--runtime nvidia``, the jtop mount ...).
Install it on a device's PATH as ``docker`` with ``write_engine(dir, name)``.
"""

from __future__ import annotations

import sys
from pathlib import Path

OPTIONS_WITH_VALUE = {"--name", "--network", "-v", "-w", "--runtime", "--gpus", "-e", "--ipc", "--device", "--shm-size",
                      "--group-add"}

SCRIPT = r'''
import json, os, signal, subprocess, sys
state = os.environ.get("FAKE_ENGINE_STATE", "/tmp/fake-engine")
os.makedirs(state, exist_ok=True)
args = sys.argv[1:]
with open(os.path.join(state, "calls.jsonl"), "a") as f:
    f.write(json.dumps(args) + "\n")
def pidfile(name): return os.path.join(state, name + ".pid")
def alive(pid):
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    try:
        return "\tZ" not in open(f"/proc/{pid}/status").read().split("State:")[1][:4]
    except (OSError, IndexError):
        return True
cmd = args[0] if args else ""
if cmd == "image" and args[1] == "inspect" and "{{.Size}}" in args:
    print(len(("IMAGE:" + args[-1] + "\n").encode()) + (3 << 20)); sys.exit(0)  # what `save` writes
if cmd == "image" and args[1] == "inspect":
    images = os.path.join(state, "images.json")
    known = json.load(open(images)) if os.path.exists(images) else {}
    if os.environ.get("FAKE_ENGINE_ALL_IMAGES") == "1":
        print("sha256:" + "f" * 64); sys.exit(0)
    if args[-1] in known:
        print(known[args[-1]]); sys.exit(0)
    print(f"Error: no such image {args[-1]}", file=sys.stderr); sys.exit(1)
if cmd == "pull":
    if not args[-1].startswith("registry.example/"):
        print(f"Error: pull access denied for {args[-1]}", file=sys.stderr); sys.exit(1)
    images = os.path.join(state, "images.json")
    known = json.load(open(images)) if os.path.exists(images) else {}
    known[args[-1]] = "sha256:" + "a" * 64
    json.dump(known, open(images, "w")); sys.exit(0)
if cmd == "save":
    sys.stdout.buffer.write(("IMAGE:" + args[-1] + "\n").encode() + os.urandom(3 << 20)); sys.exit(0)
if cmd == "load":
    data = sys.stdin.buffer.read()
    name = data.split(b"\n", 1)[0].decode().split(":", 1)[1]
    images = os.path.join(state, "images.json")
    known = json.load(open(images)) if os.path.exists(images) else {}
    import hashlib
    known[name] = "sha256:" + hashlib.sha256(name.encode()).hexdigest()
    json.dump(known, open(images, "w"))
    print(f"Loaded image: {name} ({len(data)} bytes)"); sys.exit(0)
if cmd == "info":
    print('{"nvidia":{"path":"nvidia-container-runtime"},"runc":{"path":"runc"}}'); sys.exit(0)
if cmd == "run":
    opts, i, name, workdir = args[1:], 0, None, "/"
    while i < len(opts) and opts[i].startswith("-"):
        if opts[i] == "--":  # end of options: the image follows, whatever it looks like
            i += 1
            break
        if opts[i] in OPTIONS_WITH_VALUE:
            if opts[i] == "--name": name = opts[i + 1]
            if opts[i] == "-w": workdir = opts[i + 1]
            i += 2
        else:
            i += 1
    image, inner = opts[i], opts[i + 1:]
    log = open(os.path.join(state, name + ".log"), "ab")
    p = subprocess.Popen(inner, cwd=workdir, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                         start_new_session=True)
    open(pidfile(name), "w").write(str(p.pid))
    print("c0ffee" + str(p.pid)); sys.exit(0)
if cmd == "inspect":
    name = args[-1]
    ok = os.path.exists(pidfile(name)) and alive(int(open(pidfile(name)).read()))
    print("true" if ok else "false"); sys.exit(0 if os.path.exists(pidfile(name)) else 1)
if cmd in ("rm", "stop"):
    name = args[-1]
    if os.path.exists(pidfile(name)):
        pid = int(open(pidfile(name)).read())
        try: os.kill(pid, signal.SIGTERM if cmd == "stop" else signal.SIGKILL)
        except OSError: pass
        if cmd == "rm": os.remove(pidfile(name))
    sys.exit(0)
if cmd == "logs":
    name = args[-1]
    path = os.path.join(state, name + ".log")
    sys.stdout.write(open(path).read() if os.path.exists(path) else ""); sys.exit(0)
print(f"fake engine: unsupported {args}", file=sys.stderr); sys.exit(2)
'''


def write_engine(directory: Path, name: str = "docker") -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    exe = directory / name
    exe.write_text(f"#!{sys.executable}\nOPTIONS_WITH_VALUE = {set(OPTIONS_WITH_VALUE)!r}\n{SCRIPT}")
    exe.chmod(0o755)
    return exe
