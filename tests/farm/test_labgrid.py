"""What a coordinator prints is untrusted: parsed line by line, names and addresses checked like a profile's."""

import pytest

from harness.errors import FarmError
from harness.farm.labgrid import parse_network_service, parse_places, parse_reservations

PLACES = """Place 'nano1':
  tags: board=orin-nano, lab=b2
  matches:
    exp/board-a/*
  acquired: lab-pc/alice
  acquired resources:
    exp/board-a/NetworkService/NetworkService
  created: 2026-12-04 08:56:01.197035
  changed: 2026-12-04 08:57:11.351641
Place 'nx1':
  comment: the one by the window
  tags: board=orin-nx
  matches:
    exp/board-b/*
  acquired: None
  acquired resources:
  created: 2026-12-04 08:56:03.140025
  changed: 2026-12-04 08:56:04.534984
  reservation: NAI48Y1LZM
"""


def test_places_as_labgrid_26_prints_them():
    nano, nx = parse_places(PLACES)
    assert (nano.name, nano.tags, nano.holder, nano.resources) == ("nano1", {"board": "orin-nano", "lab": "b2"}, "lab-pc/alice", 1)
    assert (nx.name, nx.holder, nx.reservation, nx.resources) == ("nx1", None, "NAI48Y1LZM", 0)


@pytest.mark.parametrize("evil", ["$(reboot)", "../../etc", "a b", "x" * 65, "\x1b[2Jx"])
def test_a_place_whose_name_is_not_a_name_is_dropped_whole(evil):
    text = PLACES.replace("Place 'nx1'", f"Place '{evil}'")
    assert [p.name for p in parse_places(text)] == ["nano1"]


def test_hostile_tags_and_holders_are_not_taken():
    text = PLACES.replace("board=orin-nano, lab=b2", "board=orin-nano;rm -rf /, x=$(id)").replace(
        "lab-pc/alice", "\x1b]0;pwned\x07/alice")
    [nano, _] = parse_places(text)
    assert nano.tags == {} and nano.holder == "?"


RESERVATIONS = """Reservation 'NAI48Y1LZM':
  owner: vm/root
  token: NAI48Y1LZM
  state: allocated
  filters:
    main: board=orin-nx lab=b2
  allocations:
    main: nx1
  created: 2026-12-04 08:57:12.805229
  timeout: 2026-12-04 08:58:12.805317
Reservation 'P1NRB24RJD':
  owner: vm/bob
  token: P1NRB24RJD
  state: waiting
  filters:
    main: board=orin-nano
  created: 2026-12-04 08:57:13.491327
  timeout: 2026-12-04 08:58:13.491329
"""


def test_reservations_in_queue_order_with_filters_and_allocation():
    a, b = parse_reservations(RESERVATIONS)
    assert (a.token, a.state, a.filters, a.place) == ("NAI48Y1LZM", "allocated", {"board": "orin-nx", "lab": "b2"}, "nx1")
    assert (b.owner, b.state, b.filters, b.place) == ("vm/bob", "waiting", {"board": "orin-nano"}, None)
    evil = RESERVATIONS.replace("main: nx1", "main: ../nx1").replace("state: waiting", "state: rm")
    a, b = parse_reservations(evil)
    assert a.place is None and b.state == "?"


SHOW = """Place 'nano1':
  tags: board=orin-nano
  acquired: vm/root
Acquired resource 'NetworkService' (exp/board-a/NetworkService/NetworkService):
  {'acquired': 'nano1',
   'avail': True,
   'cls': 'NetworkService',
   'params': {'address': '127.0.0.1',
              'extra': {'proxy': 'localhost', 'proxy_required': False},
              'port': 22001,
              'username': 'root'}}
"""


def test_the_network_service_address_user_and_port():
    assert parse_network_service(SHOW, "nano1", "c:1") == ("127.0.0.1", "root", 22001)


@pytest.mark.parametrize("field,value", [("'127.0.0.1'", "'-oProxyCommand=touch /tmp/x'"), ("'root'", "'root; reboot'"),
                                         ("22001", "0"), ("22001", "'22'"), ("'127.0.0.1'", "__import__('os').system('id')")])
def test_an_address_that_is_not_an_ssh_address_is_refused_naming_the_place(field, value):
    with pytest.raises(FarmError, match="coordinator c:1: place nano1"):
        parse_network_service(SHOW.replace(field, value, 1), "nano1", "c:1")


def test_a_place_without_network_service_says_its_exporter_is_offline():
    with pytest.raises(FarmError, match="exporter is offline"):
        parse_network_service(SHOW.split("Acquired")[0], "nano1", "c:1")
