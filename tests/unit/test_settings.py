"""Every settings class reads the YAML config the same way: typos are named, checks run."""

from __future__ import annotations

import pytest

from marketing_engine.campaigns import CampaignSettings
from marketing_engine.clustering import ClusteringConfig
from marketing_engine.clv import ClvSettings
from marketing_engine.forecast import ForecastSettings
from marketing_engine.messaging import MessagingSettings, ScheduleSettings

CLASSES = [CampaignSettings, ClvSettings, ForecastSettings, MessagingSettings, ScheduleSettings]


@pytest.mark.parametrize("cls", CLASSES)
def test_a_typo_in_the_config_is_named_with_the_known_keys(cls):
    with pytest.raises(ValueError, match=r"unknown .* settings \['holdot_share'\]; known: "):
        cls.from_mapping({"holdot_share": 0.1})


@pytest.mark.parametrize("cls", CLASSES)
def test_unset_keys_keep_their_defaults(cls):
    assert cls.from_mapping(None) == cls()


def test_yaml_lists_become_tuples_and_values_are_checked():
    config = ClusteringConfig.from_mapping({"features": ["recency_days", "frequency"]})
    assert config.features == ("recency_days", "frequency")
    with pytest.raises(ValueError, match="holdout_share"):
        CampaignSettings.from_mapping({"holdout_share": 1.5})
    with pytest.raises(ValueError, match="time_unit"):
        ClvSettings.from_mapping({"time_unit": "months"})
