"""A run as the catalogue's rows: an Arrow table whose schema comes from the column registry.

Every column has one type whatever the run holds (``results.columns.Column.dtype``), so Parquet files written by
different runs read back as one table. A value that does not fit its column (a record from elsewhere) is stored as
missing, never as another type.
"""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path

import pyarrow as pa

from harness.results.columns import COLUMNS, fits
from harness.results.frame import RUN_COLUMNS, run_rows
from harness.results.load import Run

_ARROW = {"text": pa.string(), "int": pa.int64(), "float": pa.float64(), "bool": pa.bool_()}
CONFIG_FIELDS = ("device", "model", "variant", "imgsz", "settings_sequence_name")
# what the catalogue adds to a DataFrame row: when the run was made, and the configuration its cell measures
EXTRA = {"run_created_at": pa.timestamp("us", tz="UTC"), "config": pa.string()}
KINDS: dict[str, str] = {**{c.name: c.dtype for c in COLUMNS}, **{n: "text" for n in RUN_COLUMNS}}
SCHEMA = pa.schema([*(pa.field(n, _ARROW[k]) for n, k in KINDS.items()), *(pa.field(n, t) for n, t in EXTRA.items())])


def config_key(row: dict) -> str:
    """What makes two cells comparable across runs: the device, the model, the variant (format, precision,
    pruning, recovery, DLA, power mode), the image size and the sequence. Joined by `` | ``."""
    return " | ".join("" if row.get(f) is None else str(row[f]) for f in CONFIG_FIELDS)


def config_label(key: str) -> str:
    """``yolov8n tensorrt int8 @15W 640px on orin-nano`` from a ``config_key``."""
    device, model, variant, imgsz, _seq = (key.split(" | ") + [""] * 5)[:5]
    return f"{model} {variant}{f' {imgsz}px' if imgsz else ''} on {device}"


def run_time(run: Run) -> dt.datetime:
    """When a run was made: its manifest's ``created_at``, else its first record's ``started_at``, else the
    manifest file's time. A value that is not an ISO time is ignored (a run directory is untrusted input)."""
    candidates = [run.manifest.get("created_at"), *sorted(str(r.get("started_at")) for r in run.records
                                                          if r.get("started_at"))]
    for text in candidates:
        if isinstance(text, str) and len(text) <= 64:
            try:
                t = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
            except ValueError:
                continue
            return t if t.tzinfo else t.replace(tzinfo=dt.timezone.utc)
    stamp = (Path(run.root) / "manifest.json").stat().st_mtime
    return dt.datetime.fromtimestamp(stamp, dt.timezone.utc)


def _value(v, kind: str):
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return None
    if kind == "int" and isinstance(v, float) and v.is_integer():
        return int(v)
    if kind == "float" and isinstance(v, float) and math.isinf(v):
        return None
    return v if fits(v, kind) else None


def run_table(run: Run, run_dir: str) -> pa.Table:
    """The run's rows (one per record: cell and repeat) with the catalogue's schema; ``run_dir`` is the run's key
    in the catalogue (its path under the results directory)."""
    created = run_time(run).astimezone(dt.timezone.utc)
    rows = run_rows(run)
    cols = {n: [_value(r.get(n), k) for r in rows] for n, k in KINDS.items()}
    cols["run_dir"] = [run_dir] * len(rows)
    cols["run_created_at"] = [created] * len(rows)
    cols["config"] = [config_key(r) for r in rows]
    return pa.table({f.name: pa.array(cols[f.name], type=f.type) for f in SCHEMA}, schema=SCHEMA)


def conform(table: pa.Table) -> pa.Table:
    """``table`` with the catalogue's current schema: missing columns as nulls (a file from an older harness),
    unknown ones dropped (``index`` rebuilds them from the run directories)."""
    cols = []
    for f in SCHEMA:
        if f.name in table.column_names:
            col = table.column(f.name)
            cols.append(col if col.type == f.type else col.cast(f.type, safe=False))
        else:
            cols.append(pa.nulls(table.num_rows, f.type))
    return pa.Table.from_arrays(cols, schema=SCHEMA)
