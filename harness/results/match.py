"""What a cell is, whatever its experiment is called: matching rows across runs by their configuration."""

from __future__ import annotations

from harness.config.suite import model_stem


def _int(v) -> int | None:
    return None if v is None or v != v else int(v)  # None or NaN (a DataFrame's gap) -> None


def config_key(row: dict) -> tuple:
    """What a row measured: the model (its file's stem), format, precision, prune ratio, recovery (none / bn /
    finetune), imgsz, power mode and engine target (DLA core with its GPU fallback).

    The weights hash is not in the key because it is compared only where both rows have one (``same_weights``);
    ``match_config`` applies both.
    """
    dla = _int(row.get("dla_core"))
    model = row.get("model")
    return (model_stem(model) if isinstance(model, str) and model else None, row.get("format"), row.get("precision"),
            round(float(row.get("prune_ratio") or 0.0), 4), recovery_of(row), _int(row.get("imgsz")),
            row.get("power_mode") or None, dla, None if dla is None else row.get("gpu_fallback") is not False)


def recovery_of(row: dict) -> str:
    """none / bn / finetune (a row from before ``recovery`` says it with ``finetuned``)."""
    rec = row.get("recovery")
    return rec if isinstance(rec, str) and rec in ("none", "bn", "finetune") else ("finetune" if row.get("finetuned") is True else "none")


def same_weights(a: dict, b: dict) -> bool:
    """The two rows ran the same weights as far as is known: their ``weights_sha256`` agree, or one lacks it."""
    ha, hb = a.get("weights_sha256"), b.get("weights_sha256")
    return not ha or not hb or ha == hb


Index = dict[tuple, dict]


def by_config(rows: list[dict]) -> Index:
    """Rows by ``config_key`` and, inside, by experiment name (each list in row order): what ``match_config`` looks
    in. Built once per comparison, so a lookup costs the rows of one configuration, not of the run."""
    out: Index = {}
    for pos, r in enumerate(rows):
        out.setdefault(config_key(r), {}).setdefault(r.get("experiment"), []).append((pos, r))
    return out


def match_config(row: dict, index: Index) -> dict | None:
    """The row of ``index`` (``by_config``) with ``row``'s configuration and weights: the one of the same experiment
    name when that configuration was measured in several experiments, else the first; None when there is none."""
    per_experiment = index.get(config_key(row))
    if not per_experiment:
        return None
    same = next((c for _, c in per_experiment.get(row.get("experiment"), ()) if same_weights(row, c)), None)
    if same is not None:
        return same
    firsts = (next(((p, c) for p, c in cands if same_weights(row, c)), None) for cands in per_experiment.values())
    found = [f for f in firsts if f is not None]
    return min(found, key=lambda f: f[0])[1] if found else None
