"""Power and thermal telemetry: one backend per module behind the Sampler protocol.

Probe order (first available wins, per the profile's ``telemetry.prefer``):
Jetson: sysfs_ina3221, jtop, tegrastats, none. Desktop: nvml, rapl, none.
Device side: must not import ``harness.remote``.
"""
