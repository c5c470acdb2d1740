"""Unattended campaigns: suites on a fleet of devices, in parallel, surviving the night.

``fleet`` (the campaign on disk, its devices, cell order), ``journal`` (SQLite: devices, runs, cells,
events -- what a host restart must not lose), ``scheduler`` (the worker pool, retries, quarantine).
The campaign file itself is ``config.campaign``. ``resume`` reads the journal after the host
restarted: finished runs are skipped, unfinished ones are resumed on their devices (a runner still
going is followed, not restarted), so no cell is re-run and no record duplicated.
"""
