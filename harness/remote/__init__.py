"""Host side: reaching devices over SSH (Fabric), preflight checks. Never imported by harness.bench."""
