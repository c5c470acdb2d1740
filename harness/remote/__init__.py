"""Host side: reaching devices over SSH (Fabric), preflight checks. Never imported by the device side (mot, models, measure, telemetry)."""
