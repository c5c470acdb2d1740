"""A bounded, strict Fabric connection to one device.

Defaults that differ from Fabric's on purpose (docs/architecture.md, "The trust boundary"):
- host keys are checked against the profile's known_hosts; an unknown key is
  refused unless the user passes ``--accept-new-host-key`` (then it is pinned
  into that file); a changed key is always refused;
- no ssh-config files and no agent unless the profile asks; only the profile's key;
- connect, banner and auth timeouts; opening a channel is bounded too (Fabric's
  ``run(timeout=)`` does not cover a dead transport, so commands run on channels
  opened here, not through Fabric's ``run``); keepalives on;
- commands are argv lists joined with ``shlex.join``: every value that reaches
  the remote shell is quoted;
- what a device answers is bounded: command output (``MAX_OUTPUT_BYTES``) and
  time; SFTP requests time out. Files come in through ``remote.intake`` only.
"""

from __future__ import annotations

import select
import shlex
import socket
import time
from pathlib import Path

from harness.errors import DeviceDataError, LinkError, ProfileError, RemoteError
from harness.subproc import CommandResult
from harness.config.profiles import Connection as ConnectionCfg

KEEPALIVE_S = 15
MIB = 1 << 20
CHUNK = 1 << 16
MAX_OUTPUT_BYTES = 16 * MIB  # what one remote command may print (stdout and stderr each)


def read_small_argv(path: str, max_bytes: int = 64 << 10) -> list[str]:
    """The argv that prints at most ``max_bytes`` of a regular file on the device, and fails for anything else:
    ``cat`` on a FIFO blocks until the command times out, on a device file it never ends."""
    return ["sh", "-c", '[ -f "$1" ] && exec head -c "$2" "$1"', "sh", path, str(int(max_bytes))]


def _pin_policy(known_hosts: Path):
    import paramiko

    class PinNewKey(paramiko.MissingHostKeyPolicy):
        """Accept an unknown host key once and write it to known_hosts."""

        def missing_host_key(self, client, hostname, key):
            client.get_host_keys().add(hostname, key.get_name(), key)
            known_hosts.parent.mkdir(parents=True, exist_ok=True)
            with open(known_hosts, "a") as f:
                f.write(f"{hostname} {key.get_name()} {key.get_base64()}\n")

    return PinNewKey()


class DeviceConnection:
    """One SSH connection; ``run(argv)`` returns a Result and never hangs past its timeouts."""

    def __init__(self, cfg: ConnectionCfg, accept_new_host_key: bool = False, command_timeout_s: float = 120.0) -> None:
        if cfg.host is None:
            raise ProfileError(f"this profile leases its board from a pool ({cfg.pool}: "
                               + ", ".join(f"{k}={v}" for k, v in cfg.tags.items()) + "): it has no host to connect to",
                               "`harness deploy` and campaigns lease a board; `harness farm status` shows the boards")
        self.cfg = cfg
        self.accept_new = accept_new_host_key
        self.command_timeout_s = command_timeout_s
        self._conn = None
        self._sftp = None

    @property
    def where(self) -> str:
        return f"{self.cfg.user}@{self.cfg.host}:{self.cfg.port}"

    @property
    def known_hosts(self) -> Path:
        return Path(self.cfg.known_hosts or "~/.ssh/known_hosts").expanduser()

    def open(self) -> DeviceConnection:
        import paramiko
        from fabric import Config, Connection

        timeout = self.cfg.connect_timeout_s
        config = Config(overrides={"load_ssh_configs": self.cfg.load_ssh_config})
        connect_kwargs = {"allow_agent": self.cfg.forward_agent, "look_for_keys": False,
                          "banner_timeout": timeout, "auth_timeout": timeout}
        if self.cfg.key_file:
            connect_kwargs["key_filename"] = str(Path(self.cfg.key_file).expanduser())
        conn = Connection(self.cfg.host, user=self.cfg.user, port=self.cfg.port, config=config,
                          connect_timeout=timeout, connect_kwargs=connect_kwargs, forward_agent=self.cfg.forward_agent)
        client = conn.client
        client._system_host_keys = paramiko.HostKeys()  # only the profile's known_hosts counts
        client._host_keys = paramiko.HostKeys()
        if self.known_hosts.is_file():
            client.load_host_keys(str(self.known_hosts))
        client.set_missing_host_key_policy(_pin_policy(self.known_hosts) if self.accept_new else paramiko.RejectPolicy())
        try:
            conn.open()
        except paramiko.BadHostKeyException as e:
            raise RemoteError(f"{self.where}: host key CHANGED (got {e.key.get_name()} {e.key.get_fingerprint().hex()})",
                              f"if the device was reinstalled, remove its line from {self.known_hosts}; otherwise do not connect") from e
        except paramiko.AuthenticationException as e:
            raise RemoteError(f"{self.where}: authentication failed ({e})", "check connection.user and connection.key_file in the profile") from e
        except paramiko.SSHException as e:
            if "not found in known_hosts" in str(e):
                raise RemoteError(f"{self.where}: unknown host key (not in {self.known_hosts})",
                                  "verify the device's fingerprint, then rerun with --accept-new-host-key to pin it") from e
            raise RemoteError(f"{self.where}: SSH failed ({e})", "check that sshd runs on the device") from e
        except (OSError, socket.timeout, EOFError) as e:
            raise LinkError(f"{self.where}: unreachable ({type(e).__name__}: {e}) within {timeout:g} s",
                              "check connection.host/port, that the device is on, and the network") from e
        conn.transport.set_keepalive(KEEPALIVE_S)
        self._conn = conn
        return self

    def run(self, argv: list[str] | str, timeout_s: float | None = None, max_output_bytes: int = MAX_OUTPUT_BYTES, *,
            stdin: str = "") -> CommandResult:
        """Run a command (argv list: every element quoted) and return its result (``stdin``: text fed to it).

        Bounded in time (``timeout_s``, default the profile's ``timeouts.command_s``) and in
        output: a device that answers with more than ``max_output_bytes`` on stdout or
        stderr is refused (DeviceDataError), never read whole into memory.
        """
        if stdin:
            return self.stream_in(argv, [stdin.encode()], timeout_s=timeout_s)
        command = argv if isinstance(argv, str) else shlex.join(argv)
        t = timeout_s or self.command_timeout_s
        try:
            ch = self._open_channel()
            ch.exec_command(command)
            ch.shutdown_write()
            out, err = self._collect(ch, command, time.monotonic() + t, max_output_bytes)
        except DeviceDataError:
            self._fresh_link()
            raise
        except LinkError:
            raise
        except Exception as e:  # noqa: BLE001 - paramiko/socket raise many kinds
            raise LinkError(f"{self.where}: `{command[:80]}` did not complete ({type(e).__name__}: {e})",
                              f"the device may be frozen or the link down; timeout was {t:g} s") from e
        return CommandResult(command, err[0], out, err[1])

    def _fresh_link(self) -> None:
        """A new SSH transport after a flood was cut off: the flood's data still arrives for the closed channel,
        and paramiko's transport thread can die feeding it (EBADF), taking every later command with it."""
        try:
            self.close()
            self.open()
        except (RemoteError, LinkError):
            pass  # the next command says what is wrong with the link

    def _open_channel(self):
        if self._conn is None:
            raise RemoteError(f"{self.where}: command before open()", "open the connection first")
        ch = self._conn.transport.open_session(timeout=self.cfg.connect_timeout_s)
        if self.cfg.forward_agent:  # opt-in only (profile connection.forward_agent)
            import paramiko

            paramiko.agent.AgentRequestHandler(ch)
        return ch

    def _collect(self, ch, command: str, deadline: float, cap: int) -> tuple[str, tuple[int, str]]:
        """Read a channel's stdout/stderr until it exits, within ``deadline`` and ``cap`` bytes each."""
        out, err = bytearray(), bytearray()
        try:
            while True:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError("no exit status before the deadline")
                select.select([ch], [], [], min(left, 1.0))
                while ch.recv_ready() and len(out) <= cap:  # the cap holds inside a flood too (data may keep coming)
                    out += ch.recv(CHUNK)
                while ch.recv_stderr_ready() and len(err) <= cap:
                    err += ch.recv_stderr(CHUNK)
                if len(out) > cap or len(err) > cap:
                    raise DeviceDataError(f"{self.where}: `{command[:80]}` sent more than {cap // MIB} MiB of output",
                                          "the device is misbehaving; check it (a compromised or broken board?)")
                if ch.exit_status_ready() and not ch.recv_ready() and not ch.recv_stderr_ready():
                    if not ch.status_event.is_set():  # closed under us (sshd killed, link dropped): no exit status
                        raise LinkError(f"{self.where}: the connection closed before `{command[:80]}` finished",
                                        "the device may have rebooted or the link dropped")
                    code = ch.recv_exit_status()
                    return out.decode(errors="replace"), (code, err.decode(errors="replace"))
        finally:
            ch.close()

    def expand_user(self, path: str) -> str:
        """``~/x`` -> ``$HOME/x`` on the device (remote paths are always quoted, so no shell expands ``~``)."""
        if not path.startswith("~"):
            return path
        home = self.run(["sh", "-c", 'printf %s "$HOME"']).stdout
        if not home.startswith("/") or any(c in home for c in "\0\n\r"):
            raise DeviceDataError(f"{self.where}: $HOME is not an absolute path ({home[:80]!r})",
                                  "set an absolute host_runtime.workdir in the profile")
        return home + path[1:]

    def sftp(self, op_timeout_s: float | None = None):
        """This connection's SFTP client (opened once); every request bounded by ``op_timeout_s``."""
        if self._conn is None:
            raise RemoteError(f"{self.where}: sftp() before open()", "open the connection first")
        if self._sftp is None:
            import paramiko

            try:
                ch = self._open_channel()
                ch.invoke_subsystem("sftp")
                self._sftp = paramiko.SFTPClient(ch)
            except Exception as e:  # noqa: BLE001 - paramiko
                raise RemoteError(f"{self.where}: SFTP unavailable ({e})", "enable the sftp subsystem in the device's sshd") from e
        self._sftp.get_channel().settimeout(op_timeout_s or self.command_timeout_s)
        return self._sftp

    def link_ok(self) -> bool:
        """Whether the SSH transport is still up (an error on a dead link is the link's, not the device's)."""
        t = self._conn.transport if self._conn is not None else None
        return bool(t is not None and t.is_active())

    def drop_sftp(self) -> None:
        """Forget the SFTP client (after a timeout its request stream is out of step)."""
        if self._sftp is not None:
            try:
                self._sftp.close()
            except Exception:  # noqa: BLE001 - already broken
                pass
            self._sftp = None

    def put(self, local: Path, remote: str) -> None:
        try:
            self.sftp().put(str(local), remote)
        except Exception as e:  # noqa: BLE001 - paramiko raises SSHException/EOFError/OSError on a dropped link
            self.drop_sftp()
            raise LinkError(f"{self.where}: cannot upload {local} to {remote} ({type(e).__name__}: {e})",
                              "check the link and free disk on the device") from e

    def stream_in(self, argv: list[str], chunks, on_bytes=None, timeout_s: float | None = None) -> CommandResult:
        """Run ``argv`` feeding it the byte ``chunks`` on stdin (binary-safe; e.g. ``docker load``)."""
        command = shlex.join(argv)
        t = timeout_s or self.command_timeout_s
        try:
            ch = self._open_channel()
            ch.settimeout(t)
            ch.exec_command(command)
            for chunk in chunks:
                ch.sendall(chunk)
                if on_bytes:
                    on_bytes(len(chunk))
            ch.shutdown_write()
            out, (code, err) = self._collect(ch, command, time.monotonic() + t, MAX_OUTPUT_BYTES)
        except (DeviceDataError, LinkError):
            raise
        except Exception as e:  # noqa: BLE001 - paramiko/socket
            raise LinkError(f"{self.where}: streaming into `{command[:80]}` failed ({type(e).__name__}: {e})",
                              "check the link and free disk on the device") from e
        return CommandResult(command, code, out, err)

    def close(self) -> None:
        self.drop_sftp()
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def __enter__(self) -> DeviceConnection:
        return self.open()

    def __exit__(self, *exc) -> None:
        self.close()
