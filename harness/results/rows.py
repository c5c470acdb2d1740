"""The one flat row of a record: summary.csv, ``compare``'s rows and tables all use these columns (``results.columns``).

Units live in the column names (``_ms``, ``_mj``, ``_w``, ``_c``); the environment and the settings a
comparison needs ride along as ``env_*`` and ``settings_*`` columns.
"""

from __future__ import annotations

from harness.results.columns import (ENV_COLUMNS, NAMES, SETTINGS_COLUMNS, at, engine_target, flatten_record,
                                     interval_columns, reference_columns)
from harness.results.record import Record

__all__ = ["ENV_COLUMNS", "SETTINGS_COLUMNS", "SUMMARY_COLUMNS", "at", "csv_text", "csv_value", "engine_target",
           "flatten", "interval_columns", "reference_columns"]

SUMMARY_COLUMNS = NAMES  # the registry's (``results.columns``), in its order


def flatten(rec: dict | Record) -> dict:
    """One row of a record (values None where absent), in SUMMARY_COLUMNS order."""
    return flatten_record(rec.to_dict() if isinstance(rec, Record) else rec)


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_value(v) -> str:
    """A flat value as a CSV writes it (empty for None). Text that a spreadsheet would run as a formula (``=...``,
    ``+...``, ``-...``, ``@...``: a record's names and reasons are free text) gets a leading ``'``; numbers stay."""
    if v is None:
        return ""
    text = str(v)
    if isinstance(v, str) and text.startswith(_FORMULA_START):
        try:
            float(text)
        except ValueError:
            return "'" + text
    return text


def csv_text(df) -> str:
    """A DataFrame as CSV text with every text cell through ``csv_value`` (``compare --csv``)."""
    import pandas as pd

    out = df.copy()
    for col in out.columns:  # every column: text may sit in object or string dtype (pandas 3 infers str columns)
        if not pd.api.types.is_numeric_dtype(out[col]) or pd.api.types.is_bool_dtype(out[col]):
            out[col] = out[col].map(lambda v: v if not isinstance(v, str) else csv_value(v)).astype(object)
    return out.to_csv(index=False)
