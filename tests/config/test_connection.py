"""A connection is a fixed host, or a pool's tags: exactly one, with values checked where they are defined."""

import pytest
from pydantic import ValidationError

from harness.config.connection import Connection


def test_a_fixed_host_is_the_default_and_needs_its_host():
    assert not Connection(host="nano.lab").pooled
    with pytest.raises(ValidationError, match="host is required"):
        Connection()


def test_a_labgrid_pool_needs_tags_and_takes_no_host():
    c = Connection(pool="labgrid", tags={"board": "orin-nano"}, coordinator="lab-server:20408")
    assert c.pooled and c.host is None
    with pytest.raises(ValidationError, match="needs tags"):
        Connection(pool="labgrid")
    with pytest.raises(ValidationError, match="remove host"):
        Connection(pool="labgrid", tags={"board": "x"}, host="nano.lab")


@pytest.mark.parametrize("tags", [{"Board": "x"}, {"board": "orin nano"}, {"board": "$(id)"}, {"b": ""},
                                  {"board": "x" * 65}, {"board": "a\nb"}])
def test_tags_that_are_not_plain_words_are_refused(tags):
    with pytest.raises(ValidationError, match="is not a tag"):
        Connection(pool="labgrid", tags=tags)


@pytest.mark.parametrize("addr", ["lab-server", "lab:port", "-x:1", "a b:20408", "lab:20408;id"])
def test_a_coordinator_is_host_colon_port(addr):
    with pytest.raises(ValidationError, match="coordinator"):
        Connection(pool="labgrid", tags={"board": "x"}, coordinator=addr)
    assert Connection(pool="labgrid", tags={"board": "x"}, coordinator="[::1]:20408").coordinator == "[::1]:20408"
