"""A bounded, strict Fabric connection to one device.

Defaults that differ from Fabric's on purpose (DESIGN.md section 6):
- host keys are checked against the profile's known_hosts; an unknown key is
  refused unless the user passes ``--accept-new-host-key`` (then it is pinned
  into that file); a changed key is always refused;
- no ssh-config files and no agent unless the profile asks; only the profile's key;
- connect, banner and auth timeouts; opening a channel is bounded too (Fabric's
  ``run(timeout=)`` does not cover a dead transport); keepalives on;
- commands are argv lists joined with ``shlex.join``: every value that reaches
  the remote shell is quoted.
"""

from __future__ import annotations

import shlex
import socket
from dataclasses import dataclass
from pathlib import Path

from harness.errors import RemoteError
from harness.profiles import Connection as ConnectionCfg

KEEPALIVE_S = 15


@dataclass
class Result:
    command: str
    exit_code: int
    stdout: str
    stderr: str

    @property
    def ok(self) -> bool:
        return self.exit_code == 0


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
        self.cfg = cfg
        self.accept_new = accept_new_host_key
        self.command_timeout_s = command_timeout_s
        self._conn = None

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
        channel_timeout = timeout

        class BoundedConnection(Connection):
            def create_session(self):
                channel = self.transport.open_session(timeout=channel_timeout)
                if self.forward_agent:
                    paramiko.agent.AgentRequestHandler(channel)
                return channel

        config = Config(overrides={"load_ssh_configs": self.cfg.load_ssh_config, "run": {"hide": True, "warn": True}})
        connect_kwargs = {"allow_agent": self.cfg.forward_agent, "look_for_keys": False,
                          "banner_timeout": timeout, "auth_timeout": timeout}
        if self.cfg.key_file:
            connect_kwargs["key_filename"] = str(Path(self.cfg.key_file).expanduser())
        conn = BoundedConnection(self.cfg.host, user=self.cfg.user, port=self.cfg.port, config=config,
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
            raise RemoteError(f"{self.where}: unreachable ({type(e).__name__}: {e}) within {timeout:g} s",
                              "check connection.host/port, that the device is on, and the network") from e
        conn.transport.set_keepalive(KEEPALIVE_S)
        self._conn = conn
        return self

    def run(self, argv: list[str] | str, timeout_s: float | None = None) -> Result:
        """Run a command (argv list: every element quoted) and return its result; bounded in time."""
        if self._conn is None:
            raise RemoteError(f"{self.where}: run() before open()", "open the connection first")
        command = argv if isinstance(argv, str) else shlex.join(argv)
        t = timeout_s or self.command_timeout_s
        try:
            r = self._conn.run(command, timeout=t, in_stream=False)
        except Exception as e:  # noqa: BLE001 - invoke/paramiko raise many kinds
            raise RemoteError(f"{self.where}: `{command[:80]}` did not complete ({type(e).__name__}: {e})",
                              f"the device may be frozen or the link down; timeout was {t:g} s") from e
        return Result(command, r.exited, r.stdout, r.stderr)

    def expand_user(self, path: str) -> str:
        """``~/x`` -> ``$HOME/x`` on the device (remote paths are always quoted, so no shell expands ``~``)."""
        if not path.startswith("~"):
            return path
        return self.run(["sh", "-c", 'printf %s "$HOME"']).stdout + path[1:]

    def sftp(self):
        if self._conn is None:
            raise RemoteError(f"{self.where}: sftp() before open()", "open the connection first")
        try:
            return self._conn.sftp()
        except Exception as e:  # noqa: BLE001 - paramiko
            raise RemoteError(f"{self.where}: SFTP unavailable ({e})", "enable the sftp subsystem in the device's sshd") from e

    def read_bytes(self, remote: str) -> bytes | None:
        """A remote file's content, or None when it does not exist."""
        try:
            with self.sftp().open(remote, "rb") as f:
                return f.read()
        except FileNotFoundError:
            return None
        except Exception as e:  # noqa: BLE001 - paramiko raises SSHException/EOFError/OSError on a dropped link
            raise RemoteError(f"{self.where}: cannot read {remote} ({type(e).__name__}: {e})", "check the link and the path") from e

    def put(self, local: Path, remote: str) -> None:
        try:
            self.sftp().put(str(local), remote)
        except Exception as e:  # noqa: BLE001 - paramiko raises SSHException/EOFError/OSError on a dropped link
            raise RemoteError(f"{self.where}: cannot upload {local} to {remote} ({type(e).__name__}: {e})",
                              "check the link and free disk on the device") from e

    def stream_in(self, argv: list[str], chunks, on_bytes=None, timeout_s: float | None = None) -> Result:
        """Run ``argv`` feeding it the byte ``chunks`` on stdin (binary-safe; e.g. ``docker load``)."""
        if self._conn is None:
            raise RemoteError(f"{self.where}: stream_in() before open()", "open the connection first")
        command = shlex.join(argv)
        t = timeout_s or self.command_timeout_s
        try:
            ch = self._conn.transport.open_session(timeout=self.cfg.connect_timeout_s)
            ch.settimeout(t)
            ch.exec_command(command)
            for chunk in chunks:
                ch.sendall(chunk)
                if on_bytes:
                    on_bytes(len(chunk))
            ch.shutdown_write()
            out, err = ch.makefile("rb").read(), ch.makefile_stderr("rb").read()
            code = ch.recv_exit_status()
        except Exception as e:  # noqa: BLE001 - paramiko/socket
            raise RemoteError(f"{self.where}: streaming into `{command[:80]}` failed ({type(e).__name__}: {e})",
                              "check the link and free disk on the device") from e
        return Result(command, code, out.decode(errors="replace"), err.decode(errors="replace"))

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def __enter__(self) -> DeviceConnection:
        return self.open()

    def __exit__(self, *exc) -> None:
        self.close()
