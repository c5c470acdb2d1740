"""Run records: schema, on-disk store, tables."""
