"""A simulated Jetson on loopback (``harness sim``): try the board workflow without a board.

A real OpenSSH sshd on 127.0.0.1 (``sim.sshd``) serves a fake L4T tree (``sim.board_tree``: device tree,
``/etc/nv_tegra_release``, INA3221 rails, thermal zones, clocks) with ``nvpmodel``, ``jetson_clocks`` and
``tegrastats`` stand-ins on its PATH (``sim.jetson``, ``sim.tegrastats``). A daemon (``sim.daemon``) keeps sshd
running after the CLI exits and drives the rails from the load of the board's processes and the power mode
(``sim.power``). ``sim.lifecycle`` starts, finds and stops it and writes the device profile ``sim-<name>``, marked
``simulated: true`` so that nothing it measures is ever taken for a measurement. The fakes here are the ones the
tests use (``harness.testing`` re-exports them).
"""
