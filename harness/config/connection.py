"""How the host reaches a device: a fixed SSH address, or a board leased from a shared pool (docs/farm.md).

Values below reach ssh, remote shells, Ansible and labgrid-client; they are checked here, where they are
defined, and passed on as data (argv, quoting, Ansible's !unsafe), never as code. A board's address that
comes from a pool's coordinator is checked against the same patterns (``harness.farm``).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from harness.config.bounds import DAY_S, MINUTE_S, bounded

HOST_RE = r"^[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?$|^[0-9A-Fa-f:.]{2,45}(?:%[A-Za-z0-9]{1,15})?$"
USER_RE = r"^[A-Za-z_][A-Za-z0-9_.-]{0,31}$"
# a labgrid tag (board=orin-nano) and a place name: short, printable, no shell or YAML meaning
TAG_KEY_RE = r"^[a-z][a-z0-9_-]{0,31}$"
TAG_VALUE_RE = r"^[A-Za-z0-9][A-Za-z0-9_.+-]{0,63}$"
PLACE_RE = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"
# host:port of a coordinator ([v6]:port for IPv6)
COORDINATOR_RE = r"^(?:[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?|\[[0-9A-Fa-f:.]{2,45}\]):[0-9]{1,5}$"


def no_control_chars(value: str, what: str) -> str:
    if any(ord(c) < 32 or ord(c) == 127 for c in value):
        raise ValueError(f"{what} must not contain control characters (newline, NUL, escape)")
    return value


class Connection(BaseModel):
    """How the host reaches the device over SSH: ``host`` (``pool: ssh``, the default), or any free board whose
    tags match, leased from a labgrid coordinator (``pool: labgrid``; host, user and port come with the lease)."""

    model_config = ConfigDict(extra="forbid")

    pool: Literal["ssh", "labgrid"] = Field("ssh", description="ssh: this host (lock.json on the board); labgrid: a "
                                            "board leased from a coordinator by its tags")
    host: str | None = Field(None, pattern=HOST_RE, description="DNS name or IP address (pool: ssh)")
    user: str = Field("root", pattern=USER_RE)
    port: bounded(int, ge=1, le=65535) = 22
    key_file: str | None = None
    known_hosts: str | None = None
    # a TCP connect and SSH handshake that takes longer than 10 minutes is a dead link
    connect_timeout_s: bounded(float, gt=0, le=10 * MINUTE_S, unit="s") = 15.0
    load_ssh_config: bool = False
    forward_agent: bool = False
    tags: dict[str, str] = Field(default_factory=dict, description="pool: labgrid: the tags a board must have "
                                 "(e.g. board: orin-nano)")
    coordinator: str | None = Field(None, pattern=COORDINATOR_RE, description="pool: labgrid: host:port of the "
                                    "coordinator (default: LG_COORDINATOR)")
    # how long a deploy waits in the pool's queue for a free board (a night at most)
    acquire_timeout_s: bounded(float, gt=0, le=DAY_S, unit="s") = 3600.0

    @field_validator("key_file", "known_hosts")
    @classmethod
    def _plain_path(cls, v: str | None) -> str | None:
        return None if v is None else no_control_chars(v, "a path")

    @field_validator("tags")
    @classmethod
    def _tags(cls, tags: dict[str, str]) -> dict[str, str]:
        import re

        for k, v in tags.items():
            if not re.match(TAG_KEY_RE, k) or not re.match(TAG_VALUE_RE, str(v)):
                raise ValueError(f"tag {k!r}: {v!r} is not a tag (keys: lower-case letters, digits, - and _; values: "
                                 "letters, digits, . + - _)")
        return tags

    @model_validator(mode="after")
    def _one_way_to_the_board(self) -> Connection:
        if self.pool == "ssh" and self.host is None:
            raise ValueError("host is required (or pool: labgrid with tags: to lease any matching board)")
        if self.pool == "labgrid" and not self.tags:
            raise ValueError("pool: labgrid needs tags: (e.g. {board: orin-nano}) to choose a board")
        if self.pool == "labgrid" and self.host is not None:
            raise ValueError("pool: labgrid takes the board's host from the lease: remove host (and port)")
        return self

    @property
    def pooled(self) -> bool:
        return self.pool != "ssh"
