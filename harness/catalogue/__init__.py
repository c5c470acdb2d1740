"""The results catalogue: every run's rows in Parquet under ``<results>/catalogue/``, queried with DuckDB.

Run directories stay the source of truth; the catalogue is their index, rebuilt from them by ``harness results
index``. One row per cell and repeat, with the DataFrame loader's columns (``results.frame.COLUMNS``, the registry
of ``results.columns``) plus ``run_created_at`` and ``config`` (what makes two runs' cells comparable). Files are
partitioned by device and date, at the year (``device=<name>/year=<YYYY>/runs.parquet``): adding a run rewrites
one partition (atomically: a temp file renamed over it), so its cost grows with that device's year, never with the
catalogue, and a query opens a file per device and year (months made 12x the files, and opening them was most of
a query's time at 10 000 runs: ``benchmarks/bench_catalogue.py``); a re-added run replaces its own rows (idempotent); a killed write leaves the old file and a temp that
readers never see and ``index`` removes.

- ``store``: the files, adding a run, rebuilding, and the DuckDB view ``cells``;
- ``table``: a run as an Arrow table of the catalogue's schema;
- ``history``: one configuration (or a filter) over time, and what changed between its runs;
- ``regressions``: the latest run of each configuration against its previous comparable runs.
"""

from __future__ import annotations

from pathlib import Path


def load_catalogue(results_dir: str | Path = "results", where: str | None = None, params: list | None = None):
    """The catalogue as a pandas DataFrame: the DataFrame loader's columns (``results.load_frame``) plus
    ``run_created_at`` and ``config``, one row per cell and repeat, oldest run first; ``where`` is a SQL condition
    on them (``"device = ? AND precision = 'int8'"`` with ``params=["orin-nano"]``).

        import harness.catalogue as hc
        df = hc.load_catalogue("results", "model = 'yolov8n'")
        df.groupby(["config", "run_id"]).latency_p50_ms.median()
    """
    from harness.catalogue.store import Catalogue

    con = Catalogue(Path(results_dir)).connect()
    return con.execute(f"SELECT * FROM cells WHERE {where or 'true'} ORDER BY run_created_at, run_dir, cell_id",
                       params or []).df()
