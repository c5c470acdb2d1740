"""Fakes that stand in for hardware in tests (and for trying the harness without a board)."""
