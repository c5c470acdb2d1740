"""A Jetson's module total from its power rails, and a scope label that says what was summed.

The total is the board's input rail where it has one -- ``VDD_IN`` (Orin Nano/NX, Xavier NX, Nano), ``POM_5V_IN``
(TX1/TX2, AGX Xavier), ``VIN`` (Thor, JetPack 7) -- never that rail plus its own sub-rails. A board without one
(AGX Orin) gets the sum of its named rails, and which rails those are changes between releases: AGX Orin sums four
on JetPack 5 (``VDDQ_VDD2_1V8AO`` included) and three on JetPack 6. So the scope names them:
``module_input:VDD_IN`` or ``module_rail_sum:VDD_CPU_CV+VDD_GPU_SOC+VIN_SYS_5V0``; two records whose scopes differ
measured different things, and the comparison says so (``scopes_differ``).
"""

from __future__ import annotations

INPUT_RAILS = ("VDD_IN", "POM_5V_IN", "VIN")  # exact names: VIN_SYS_5V0 (AGX Orin) is a sub-rail, not an input
INPUT, RAIL_SUM = "module_input", "module_rail_sum"


def input_rail(names) -> str | None:
    """The board's input rail among ``names`` (first of ``INPUT_RAILS`` present), None when it has none."""
    present = set(names)
    return next((n for n in INPUT_RAILS if n in present), None)


def _label(names, rail: str | None) -> str:
    return f"{INPUT}:{rail}" if rail else f"{RAIL_SUM}:{'+'.join(sorted(names))}"


def scope_of(names) -> str | None:
    """``module_input:<rail>`` or ``module_rail_sum:<rails sorted, joined by +>``; None without rails."""
    names = list(names)
    return _label(names, input_rail(names)) if names else None


def total_of(rails_mw: dict[str, float]) -> tuple[float | None, str | None]:
    """Module total (mW) and its scope label; never adds sub-rails to an input rail."""
    if not rails_mw:
        return None, None
    rail = input_rail(rails_mw)
    return (rails_mw[rail] if rail else sum(rails_mw.values())), _label(rails_mw, rail)


def rail_sets_differ(scope, base_scope) -> bool:
    """Two power scopes of the same kind (both an input rail, or both a rail sum) naming different rails: the
    silent case (a desktop's NVML board power against a Jetson's module input differs visibly, by kind)."""
    if not isinstance(scope, str) or not isinstance(base_scope, str) or scope == base_scope:
        return False
    kind, _, rails = scope.partition(":")
    base_kind, _, base_rails = base_scope.partition(":")
    return kind == base_kind and bool(rails) and bool(base_rails)
