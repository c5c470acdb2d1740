"""Campaign files: every numeric setting finite and bounded where it is defined (limit values are user input)."""

import pytest

from harness.config.campaign import CampaignSpec, load_campaign
from harness.errors import ProfileError
from tests.config.numbers import ATTACK_IDS, ATTACKS, assert_refused_in_one_line, dotted, numeric_fields, write

CAMPAIGN = {"name": "night", "devices": ["local"], "boards": [{"profile": "orin-nano", "count": 1}]}
CAMPAIGN_NUMBERS = numeric_fields(CampaignSpec)


def test_the_walk_finds_every_numeric_setting():
    found = {dotted(p) for p, _ in CAMPAIGN_NUMBERS}
    assert {"frames", "imgsz", "seed", "time_budget_s", "retry_backoff_s", "poll_s", "cooldown.wait_s"} <= found
    assert len(found) == 15, sorted(found)


@pytest.mark.parametrize("value", ATTACKS, ids=ATTACK_IDS)
@pytest.mark.parametrize("path", [p for p, _ in CAMPAIGN_NUMBERS], ids=[dotted(p) for p, _ in CAMPAIGN_NUMBERS])
def test_out_of_range_numbers_are_one_line_naming_file_field_and_range(tmp_path, path, value):
    assert_refused_in_one_line(load_campaign, ProfileError, CAMPAIGN, path, value, tmp_path)


@pytest.mark.parametrize("text, message", [
    ("time_budget_s: .inf\n", "time_budget_s: inf is not allowed: use a number above 0 and at most 2592000 s (30 days)"),
    ("retry_backoff_s: 1e300\n", "retry_backoff_s: '1e300' is not allowed: use a number from 0 to 3600 s (1 hour)"),
    ("poll_s: 0.001\n", "poll_s: 0.001 is not allowed: use a number from 0.1 to 600 s (10 minutes)"),
    ("frames: 1\n", "frames: 1 is not allowed: use a whole number from 2 to 100000"),
    ("imgsz: 100\n", "imgsz: 100 is not allowed: use a multiple of 32 from 32 to 8192 px"),
    ("seed: -5\n", "seed: -5 is not allowed: use a whole number from 0 to 9223372036854775807"),
])
def test_campaign_numbers_say_the_range(tmp_path, text, message):
    f = tmp_path / "c.yaml"
    f.write_text("name: night\ndevices: [local]\n" + text)
    with pytest.raises(ProfileError) as e:
        load_campaign(f)
    assert message in e.value.message and str(f) in e.value.message


def test_defaults_and_range_ends_load(tmp_path):
    f = write(tmp_path, {**CAMPAIGN, "time_budget_s": 30 * 86400, "seed": 2**63 - 1, "poll_s": 0.1, "frames": 2,
                         "imgsz": 8192, "repetitions": 1000, "retry_backoff_s": 0})
    spec = load_campaign(f)
    assert spec.seed == 2**63 - 1 and spec.workers == 8 and spec.poll_s == 0.1
