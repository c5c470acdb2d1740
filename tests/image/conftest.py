"""Container tests: podman usable here, and our containers.conf in this process's environment while they run."""

from __future__ import annotations

import pytest

from harness.testing.infra import podman as pm
@pytest.fixture(scope="session")
def podman_env():
    reason = pm.podman_reason()
    if reason:
        pytest.skip(reason)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("CONTAINERS_CONF", str(pm.conf_path()))
        yield
