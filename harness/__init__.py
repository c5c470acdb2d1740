"""edge-harness: benchmark compressed YOLO person detectors on Jetsons and desktops."""

__version__ = "0.1.0"
