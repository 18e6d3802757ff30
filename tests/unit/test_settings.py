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


def test_numbers_written_as_text_become_numbers_or_are_named():
    # dbt renders "{{ var('clustering_fit_sample_size', 50000) }}" in dbt_project.yml as text.
    config = ClusteringConfig.from_mapping(
        {"features": ["frequency"], "fit_sample_size": " 20000 ", "match_tolerance": "0.5"}
    )
    assert (config.fit_sample_size, config.match_tolerance) == (20000, 0.5)
    assert isinstance(config.fit_sample_size, int)
    assert ClvSettings.from_mapping({"fit_sample_size": "1e6"}).fit_sample_size == 1_000_000
    with pytest.raises(
        ValueError,
        match=r"clustering fit_sample_size must be a whole number, "
        r"got '2.5e3x'.*\+clustering: fit_sample_size.*--vars",
    ):
        ClusteringConfig.from_mapping({"features": ["frequency"], "fit_sample_size": "2.5e3x"})
    with pytest.raises(ValueError, match=r"whole number, got '1\.5'"):
        ClusteringConfig.from_mapping({"features": ["frequency"], "k_min": "1.5"})
