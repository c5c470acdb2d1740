"""Boards shared between people: a pool leases a board by its tags and takes it back (docs/farm.md).

``lease`` is what a holder has (and what this host remembers of it), ``labgrid`` drives a labgrid
coordinator through ``labgrid-client`` and reads its answers as untrusted input, ``pool`` acquires
(queue, SSH check, a dead board skipped) and releases, ``leased`` wraps a deploy in a lease that is
kept through a coordinator restart and given back on every exit.
"""
