

def test_the_published_json_schema_is_the_record_types():
    """docs/record.schema.json is regenerated whenever the record type changes (`harness schema record`)."""
    import json
    from pathlib import Path

    from harness.results.record import json_schema

    published = json.loads((Path(__file__).parents[2] / "docs" / "record.schema.json").read_text())
    assert published == json_schema("record"), "regenerate: harness schema record > docs/record.schema.json"
