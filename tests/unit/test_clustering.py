"""Clustering recovers known groups, flags outliers, and keeps labels stable."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.cluster import DBSCAN, AgglomerativeClustering, KMeans
from sklearn.metrics import adjusted_rand_score, silhouette_score

from marketing_engine import clustering
from marketing_engine.clustering import (
    ClusteringConfig,
    assignments,
    evaluation_table,
    fit_all,
    knee_index,
    name_clusters,
)
from tests.cluster_names import contradictions

FEATURES = ("recency_days", "frequency", "monetary", "aov", "discounted_revenue_share")
LOGGED = ("recency_days", "frequency", "monetary", "aov")
# Group centres: (recency_days, frequency, monetary per order, discount share)
CENTRES = [(10, 40, 3000, 0.05), (300, 2, 800, 0.1), (60, 8, 1500, 0.6), (120, 15, 9000, 0.02)]


def synthetic(n_per_group: int = 400, seed: int = 0, outliers: int = 0) -> pd.DataFrame:
    """Customers in four well-separated behaviour groups; `true_group` is the truth."""
    rng = np.random.default_rng(seed)
    rows = []
    for group, (recency, frequency, aov, discount) in enumerate(CENTRES):
        r = recency * np.exp(rng.normal(0, 0.12, n_per_group))
        f = np.maximum(1, np.round(frequency * np.exp(rng.normal(0, 0.12, n_per_group))))
        a = aov * np.exp(rng.normal(0, 0.12, n_per_group))
        d = np.clip(discount + rng.normal(0, 0.03, n_per_group), 0, 1)
        rows.append(
            pd.DataFrame(
                {
                    "recency_days": r,
                    "frequency": f,
                    "monetary": f * a,
                    "aov": a,
                    "discounted_revenue_share": d,
                    "true_group": group,
                }
            )
        )
    frame = pd.concat(rows, ignore_index=True)
    if outliers:
        extreme = pd.DataFrame(
            {
                "recency_days": rng.uniform(1, 2, outliers),
                "frequency": rng.uniform(400, 500, outliers),
                "monetary": rng.uniform(5e6, 9e6, outliers),
                "aov": rng.uniform(4e4, 9e4, outliers),
                "discounted_revenue_share": rng.uniform(0.95, 1.0, outliers),
                "true_group": -1,
            }
        )
        frame = pd.concat([frame, extreme], ignore_index=True)
    frame.insert(0, "customer_id", [f"C{i:06d}" for i in range(len(frame))])
    return frame


def config(**overrides) -> ClusteringConfig:
    settings = {"features": FEATURES, "log_features": LOGGED, "k_min": 2, "k_max": 7}
    return ClusteringConfig(**{**settings, **overrides})


@pytest.fixture(autouse=True)
def fresh_cache():
    clustering._FIT_CACHE.clear()
    yield
    clustering._FIT_CACHE.clear()


def _labels(frame: pd.DataFrame, cfg: ClusteringConfig, algorithm: str) -> pd.Series:
    table = assignments(frame, cfg)
    chosen = table[table["algorithm"] == algorithm].set_index("customer_id")["cluster_id"]
    return chosen.reindex(frame["customer_id"])


def test_kmeans_recovers_known_groups():
    frame = synthetic()
    labels = _labels(frame, config(), "kmeans")
    assert adjusted_rand_score(frame["true_group"], labels) > 0.9
    assert labels.nunique() == len(CENTRES)


def test_hierarchical_recovers_known_groups():
    frame = synthetic()
    labels = _labels(frame, config(), "hierarchical")
    assert adjusted_rand_score(frame["true_group"], labels) > 0.9


def test_fitting_on_a_sample_still_recovers_groups_for_everyone():
    frame = synthetic(n_per_group=1500)
    cfg = config(fit_sample_size=800, hierarchical_sample_size=500, silhouette_sample_size=500)
    for algorithm in ("kmeans", "hierarchical"):
        labels = _labels(frame, cfg, algorithm)
        assert labels.notna().all()
        assert adjusted_rand_score(frame["true_group"], labels) > 0.9, algorithm


def test_dbscan_marks_planted_outliers_as_noise():
    frame = synthetic(outliers=8)
    table = assignments(frame, config())
    dbscan = table[table["algorithm"] == "dbscan"].set_index("customer_id")
    planted = frame.loc[frame["true_group"] == -1, "customer_id"]
    assert dbscan.loc[planted, "is_noise"].all()
    assert (dbscan.loc[planted, "cluster_name"] == "Outliers").all()
    assert dbscan["is_noise"].mean() < 0.1


def test_dbscan_assigns_the_unsampled_to_core_points_or_noise():
    frame = synthetic(n_per_group=1000, outliers=5)
    cfg = config(fit_sample_size=1500)
    dbscan = assignments(frame, cfg).query("algorithm == 'dbscan'").set_index("customer_id")
    planted = frame.loc[frame["true_group"] == -1, "customer_id"]
    assert dbscan.loc[planted, "is_noise"].all()
    clustered = dbscan[~dbscan["is_noise"]]
    assert len(clustered) > 0.85 * len(frame)


def test_the_same_input_gives_identical_labels():
    frame = synthetic()
    first = assignments(frame, config())
    clustering._FIT_CACHE.clear()
    second = assignments(frame.sample(frac=1.0, random_state=3), config())
    pd.testing.assert_frame_equal(
        first.sort_values(["algorithm", "customer_id"]).reset_index(drop=True),
        second.sort_values(["algorithm", "customer_id"]).reset_index(drop=True),
    )


def test_clusters_keep_their_ids_after_a_rebuild_on_slightly_changed_data():
    frame = synthetic(seed=1)
    before = assignments(frame, config())
    # Remove one group's first members so canonical (size) order changes, and add noise.
    changed = frame.drop(index=range(0, 150)).copy()
    rng = np.random.default_rng(9)
    changed["monetary"] *= np.exp(rng.normal(0, 0.02, len(changed)))
    clustering._FIT_CACHE.clear()
    unmatched = assignments(changed, config())
    clustering._FIT_CACHE.clear()
    matched = assignments(changed, config(), previous=before)

    def agreement(after: pd.DataFrame) -> float:
        left = before.query("algorithm == 'kmeans'").set_index("customer_id")["cluster_id"]
        right = after.query("algorithm == 'kmeans'").set_index("customer_id")["cluster_id"]
        common = left.index.intersection(right.index)
        return float((left[common] == right[common]).mean())

    assert agreement(matched) > 0.98
    assert agreement(unmatched) < 0.9  # without matching, ids would have moved


def test_a_new_cluster_gets_a_fresh_id():
    frame = synthetic(seed=2)
    three_groups = frame[frame["true_group"] != 3]
    before = assignments(three_groups, config(k_min=3, k_max=3))
    clustering._FIT_CACHE.clear()
    after = assignments(frame, config(k_min=4, k_max=4), previous=before)
    kmeans = after.query("algorithm == 'kmeans'")
    new_group = frame.loc[frame["true_group"] == 3, "customer_id"]
    new_ids = kmeans.set_index("customer_id").loc[new_group, "cluster_id"]
    assert new_ids.mode()[0] == 3  # above every previous id (0, 1, 2)


def test_evaluation_reports_every_algorithm_and_the_sweep():
    frame = synthetic()
    table = evaluation_table(frame, config())
    chosen = table[table["is_chosen"] & (table["algorithm"] != "kmeans_sweep")]
    assert set(chosen["algorithm"]) == {"kmeans", "dbscan", "hierarchical"}
    sweep = table[table["algorithm"] == "kmeans_sweep"]
    assert list(sweep["k"]) == list(range(2, 8))
    assert sweep["is_elbow"].sum() == 1
    best_k = sweep.loc[sweep["silhouette"].idxmax(), "k"]
    assert table.loc[table["algorithm"] == "kmeans", "n_clusters"].iloc[0] == best_k
    assert (sweep["inertia"].diff().dropna() < 0).all()


def test_one_fit_is_shared_by_the_models_of_a_build(monkeypatch):
    frame = synthetic(n_per_group=100)
    calls = []
    real = clustering.fit_kmeans
    monkeypatch.setattr(clustering, "fit_kmeans", lambda *a: calls.append(1) or real(*a))
    assignments(frame, config())
    evaluation_table(frame, config())
    assert len(calls) == 1


def test_knee_of_a_hockey_stick():
    curve = np.array([100.0, 50.0, 20.0, 15.0, 12.0, 10.0, 9.0])
    assert knee_index(curve) == 2


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"primary_algorithm": "spectral"}, "primary_algorithm"),
        ({"k_min": 1}, "k_min"),
        ({"features": ()}, "features"),
    ],
)
def test_bad_settings_are_named(overrides, message):
    with pytest.raises(ValueError, match=message):
        config(**overrides)


def test_unknown_setting_keys_and_feature_columns_are_named():
    with pytest.raises(ValueError, match="colour"):
        ClusteringConfig.from_mapping({"features": ["recency_days"], "colour": "red"})
    with pytest.raises(KeyError, match="shoe_size"):
        fit_all(synthetic(n_per_group=20), config(features=("shoe_size",)))


def _lapsing_base() -> tuple[pd.DataFrame, np.ndarray]:
    """Like CDNOW: most customers bought once long ago; a few recent, frequent big spenders."""
    rng = np.random.default_rng(7)
    sizes = {0: 600, 1: 300, 2: 100}
    recency = {0: (450, 550), 1: (300, 420), 2: (5, 60)}
    frequency = {0: (1, 2), 1: (1, 3), 2: (5, 12)}
    monetary = {0: (10, 40), 1: (20, 80), 2: (300, 900)}
    parts = []
    for cluster, size in sizes.items():
        parts.append(
            pd.DataFrame(
                {
                    "cluster": cluster,
                    "recency_days": rng.integers(*recency[cluster], size),
                    "frequency": rng.integers(*frequency[cluster], size),
                    "monetary": rng.uniform(*monetary[cluster], size).round(2),
                    "is_churn_risk": rng.random(size) < {0: 0.95, 1: 0.9, 2: 0.05}[cluster],
                }
            )
        )
    frame = pd.concat(parts, ignore_index=True)
    return frame, frame["cluster"].to_numpy()


@pytest.mark.parametrize("with_churn_flag", [True, False])
def test_cluster_names_never_contradict_the_figures(with_churn_flag):
    frame, labels = _lapsing_base()
    if not with_churn_flag:
        frame = frame.drop(columns="is_churn_risk")
    names = name_clusters(frame, labels)
    population = frame[["recency_days", "frequency", "monetary"]].median().to_dict()
    for cluster in (0, 1, 2):
        members = frame[labels == cluster]
        median = members[["recency_days", "frequency", "monetary"]].median().to_dict()
        churn = members["is_churn_risk"].mean() if with_churn_flag else None
        assert contradictions(names[cluster], median, population, churn) == []
    assert names[2].startswith("Active") and "big spenders" in names[2]
    if with_churn_flag:
        assert names[0].startswith("Lapsed")
        # Median recency below everyone's, but 90% at churn risk: not "Steady".
        assert names[1].startswith("Cooling")


# --- tiny inputs: too few distinct customers degrade to one cluster, never a traceback ---


def _tiny(rows: list[tuple[float, float, float, float, float]]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=list(FEATURES))
    frame.insert(0, "customer_id", [f"C{i}" for i in range(len(frame))])
    return frame


@pytest.mark.parametrize(
    "rows",
    [
        [(10, 3, 300, 100, 0.0), (200, 1, 50, 50, 0.1)],  # 2 customers: no k of 2..7 scorable
        [(10, 3, 300, 100, 0.0)] * 5,  # 5 customers, one distinct point
        [(10, 3, 300, 100, 0.0)],  # a single customer
    ],
)
def test_too_few_distinct_customers_give_one_cluster_with_a_note(rows):
    frame = _tiny(rows)
    with pytest.warns(RuntimeWarning, match="everyone is in one cluster"):
        table = assignments(frame, config())
    assert len(table) == len(frame) * 3
    assert (table["cluster_id"] == 0).all()
    evaluation = evaluation_table(frame, config(), table)
    chosen = evaluation[evaluation["algorithm"] != "kmeans_sweep"]
    assert set(chosen["algorithm"]) == {"kmeans", "dbscan", "hierarchical"}
    assert (chosen["n_clusters"] == 1).all()
    assert (chosen["n_customers"] == len(frame)).all()
    assert chosen["note"].str.contains(f"only {len(frame)} customers").all()
    assert (evaluation["algorithm"] != "kmeans_sweep").all()  # no k could be tried


def test_k_is_capped_by_distinct_customers_and_the_cap_is_noted():
    # 3 distinct points repeated: k_max 7 cannot be reached; k 2 and 3 are tried.
    frame = _tiny([(10, 3, 300, 100, 0.0), (200, 1, 50, 50, 0.1), (60, 9, 900, 100, 0.5)] * 2)
    evaluation = evaluation_table(frame, config())
    sweep = evaluation[evaluation["algorithm"] == "kmeans_sweep"]
    assert sorted(sweep["k"]) == [2, 3]
    kmeans = evaluation[evaluation["algorithm"] == "kmeans"].iloc[0]
    assert "k tried up to 3, not 7" in kmeans["note"]
    assert evaluation.loc[evaluation["algorithm"] == "dbscan", "note"].isna().all()


# --- one fit sample, then every customer assigned in chunks -------------------------


def _same_partition(a: np.ndarray, b: np.ndarray) -> bool:
    """True when a and b group the rows identically (cluster numbers may differ)."""
    table = pd.crosstab(a, b)
    return bool(((table > 0).sum(axis=0) == 1).all() and ((table > 0).sum(axis=1) == 1).all())


def test_below_the_sample_size_everyone_is_fitted_as_by_sklearn_on_all_rows():
    frame = synthetic(n_per_group=150)
    cfg = config(fit_sample_size=len(frame))
    result = fit_all(frame, cfg)
    k = result.fits["kmeans"].parameters["k"]
    full = KMeans(n_clusters=k, n_init=4, random_state=cfg.random_state).fit(result.scaled)
    assert _same_partition(full.labels_, result.fits["kmeans"].labels)
    ward = AgglomerativeClustering(n_clusters=k, linkage="ward").fit_predict(result.scaled)
    assert _same_partition(ward, result.fits["hierarchical"].labels)
    table = evaluation_table(frame, cfg)
    assert (table["fit_sample_size"] == len(frame)).all()
    assert table["note"].isna().all()


def test_customers_outside_the_sample_get_what_the_fitted_kmeans_predicts():
    frame = synthetic(n_per_group=750)
    cfg = config(fit_sample_size=600, silhouette_sample_size=300)
    result = fit_all(frame, cfg)
    sample = clustering.fit_sample(len(frame), cfg)
    assert len(sample) == 600
    k = result.fits["kmeans"].parameters["k"]
    model = KMeans(n_clusters=k, n_init=4, random_state=cfg.random_state).fit(result.scaled[sample])
    predicted = model.predict(result.scaled)
    assert _same_partition(predicted, result.fits["kmeans"].labels)
    outside = np.setdiff1d(np.arange(len(frame)), sample)
    assert _same_partition(predicted[outside], result.fits["kmeans"].labels[outside])


def test_the_evaluation_says_how_many_customers_the_fit_used():
    frame = synthetic(n_per_group=750)
    cfg = config(fit_sample_size=600, hierarchical_sample_size=400, silhouette_sample_size=300)
    table = evaluation_table(frame, cfg).set_index("algorithm")
    assert table.loc["kmeans", "fit_sample_size"] == 600
    assert table.loc["dbscan", "fit_sample_size"] == 600
    assert table.loc["hierarchical", "fit_sample_size"] == 400
    assert "600 of 3,000 customers" in table.loc["kmeans", "note"]
    assert "nearest cluster centre" in table.loc["kmeans", "note"]
    assert "else marked noise" in table.loc["dbscan", "note"]


def test_dbscan_gives_the_unsampled_the_nearest_core_within_eps_else_noise():
    frame = synthetic(n_per_group=500, outliers=6)
    cfg = config(fit_sample_size=700)
    result = fit_all(frame, cfg)
    fit = result.fits["dbscan"]
    sample = clustering.fit_sample(len(frame), cfg)
    x = result.scaled
    model = DBSCAN(eps=fit.parameters["eps"], min_samples=fit.parameters["min_samples"]).fit(
        x[sample]
    )
    assert _same_partition(model.labels_, fit.labels[sample])
    cores = x[sample][model.core_sample_indices_]
    core_labels = fit.labels[sample][model.core_sample_indices_]
    outside = np.setdiff1d(np.arange(len(frame)), sample)
    distances = np.sqrt(((x[outside][:, None, :] - cores[None, :, :]) ** 2).sum(axis=2))
    nearest = distances.argmin(axis=1)
    within = distances.min(axis=1) <= fit.parameters["eps"]
    expected = np.where(within, core_labels[nearest], clustering.NOISE)
    np.testing.assert_array_equal(fit.labels[outside], expected)
    assert (~within).any() and within.any()  # both branches are exercised


@pytest.mark.parametrize("n_points", [5, 300])  # brute force, KD-tree
def test_chunked_nearest_point_equals_the_unchunked_argmin(n_points):
    rng = np.random.default_rng(7)
    x, points = rng.normal(size=(1000, 3)), rng.normal(size=(n_points, 3))
    full = np.sqrt(((x[:, None, :] - points[None, :, :]) ** 2).sum(axis=2))
    for chunk in (7, 1000, 10**6):
        position, distance = clustering.nearest_point(x, points, chunk)
        np.testing.assert_array_equal(position, full.argmin(axis=1))
        np.testing.assert_allclose(distance, full.min(axis=1), rtol=1e-12)


def test_small_assignment_chunks_give_the_same_table():
    frame = synthetic(n_per_group=500, outliers=4)
    sampled = {"fit_sample_size": 900, "silhouette_sample_size": 300}
    whole = assignments(frame, config(**sampled))
    clustering._FIT_CACHE.clear()
    chunked = assignments(frame, config(assign_chunk_rows=37, **sampled))
    pd.testing.assert_frame_equal(whole, chunked)


def test_a_sampled_fit_is_deterministic():
    frame = synthetic(n_per_group=500, outliers=4)
    cfg = config(fit_sample_size=900, silhouette_sample_size=300)
    first = (assignments(frame, cfg), evaluation_table(frame, cfg))
    clustering._FIT_CACHE.clear()
    second = (assignments(frame, cfg), evaluation_table(frame, cfg))
    pd.testing.assert_frame_equal(first[0], second[0])
    pd.testing.assert_frame_equal(first[1], second[1])


def test_the_kmeans_silhouette_is_sklearns_on_the_fit_sample():
    frame = synthetic(n_per_group=750)
    cfg = config(fit_sample_size=600, silhouette_sample_size=300)
    result = fit_all(frame, cfg)
    sample = clustering.fit_sample(len(frame), cfg)
    labels = result.fits["kmeans"].labels[sample]
    expected = silhouette_score(
        result.scaled[sample], labels, sample_size=300, random_state=cfg.random_state
    )
    shown = evaluation_table(frame, cfg).set_index("algorithm").loc["kmeans", "silhouette"]
    assert shown == pytest.approx(expected, rel=1e-12)


def test_shared_silhouettes_equal_sklearns_one_at_a_time():
    """_silhouettes computes several label sets' silhouettes from one pass over the
    sampled distances: each equals sklearn's silhouette_score on the non-noise points
    with the same sample (and None below two clusters)."""
    rng = np.random.default_rng(11)
    x = rng.normal(size=(3000, 4))
    cfg = config(silhouette_sample_size=800)
    label_sets = [
        rng.integers(0, 3, 3000),
        rng.integers(0, 6, 3000),
        np.where(rng.random(3000) < 0.2, -1, rng.integers(0, 4, 3000)),  # with noise
        np.where(rng.random(3000) < 0.2, -1, rng.integers(0, 2, 3000)),  # other noise rows
        np.zeros(3000, dtype=int),  # one cluster: no silhouette
    ]
    shared = clustering._silhouettes(x, label_sets, cfg)
    for labels, value in zip(label_sets[:4], shared, strict=False):
        keep = labels != -1
        size = min(800, int(keep.sum()))
        expected = silhouette_score(x[keep], labels[keep], sample_size=size, random_state=42)
        assert value == pytest.approx(expected, rel=1e-9, abs=1e-12)
    assert shared[4] is None


def _score_from_fit_table(frame: pd.DataFrame, table: pd.DataFrame) -> dict[str, np.ndarray]:
    """What cluster_scores computes, from the published fit alone (no fitted object)."""
    scaler = table[table["algorithm"] == "scaler"].pivot(
        index="feature_position", columns="parameter", values="value"
    )
    flags = table[table["algorithm"] == "scaler"].groupby("feature_position")
    features = flags["feature"].first()
    is_log = flags["is_log_transformed"].first()
    ordered = frame.sort_values("customer_id").reset_index(drop=True)
    z = np.empty((len(ordered), len(features)))
    for position, feature in features.items():
        value = ordered[feature].astype(float)
        if is_log[position]:
            value = np.log1p(value.clip(lower=0))
        median = scaler.loc[position, "median"]
        value = value.fillna(0.0 if pd.isna(median) else median)
        z[:, position] = (value - scaler.loc[position, "mean"]) / scaler.loc[position, "std"]
    labels = {}
    for algorithm in clustering.SCORED_IN_SQL:
        centres = table[(table["algorithm"] == algorithm) & (table["parameter"] == "centre")]
        wide = centres.pivot(index="centre_position", columns="feature_position", values="value")
        ids = centres.groupby("centre_position")["cluster_id"].first().to_numpy()
        squared = ((z[:, None, :] - wide.to_numpy()[None, :, :]) ** 2).sum(axis=2)
        scored = ids[squared.argmin(axis=1)].astype(np.int64)
        members = table[(table["algorithm"] == algorithm) & (table["parameter"] == "member")]
        at = pd.Index(ordered["customer_id"]).get_indexer(members["customer_id"])
        scored[at] = members["cluster_id"].to_numpy(dtype=np.int64)
        labels[algorithm] = scored
    return labels


def test_the_published_fit_alone_reproduces_every_customers_label():
    # More customers than the fit samples, missing values the scaler imputes.
    frame = synthetic(n_per_group=600, seed=4)
    frame.loc[frame.index[::97], "discounted_revenue_share"] = np.nan
    cfg = config(fit_sample_size=900, hierarchical_sample_size=300)
    result = fit_all(frame, cfg)
    table = clustering.fit_table(result)
    assert set(table.loc[table["parameter"] == "member", "algorithm"]) == {"hierarchical"}
    assert (table["parameter"] == "member").sum() == 300
    scored = _score_from_fit_table(frame, table)
    for algorithm, labels in scored.items():
        np.testing.assert_array_equal(labels, result.fits[algorithm].labels, err_msg=algorithm)
        assert len(np.unique(labels)) >= 2


def test_labels_scored_elsewhere_replace_the_fits_and_a_mismatch_is_named():
    frame = synthetic(n_per_group=100, seed=2)
    cfg = config()
    result = fit_all(frame, cfg)
    ids = result.customer_ids
    kmeans = result.fits["kmeans"]
    same = pd.DataFrame({"customer_id": ids, "algorithm": "kmeans", "cluster_id": kmeans.labels})
    # Scores arrive in any row order.
    labels = clustering.scored_labels(result, same.iloc[::-1])
    np.testing.assert_array_equal(labels["kmeans"], kmeans.labels)
    assert labels["kmeans"] is not kmeans.labels
    assert labels["dbscan"] is result.fits["dbscan"].labels
    with pytest.raises(ValueError, match="cluster_scores scored 399 customers for kmeans"):
        clustering.scored_labels(result, same.iloc[1:])
    repeated = pd.concat([same.iloc[1:], same.iloc[:1]]).reset_index(drop=True)
    repeated.loc[0, "customer_id"] = ids[5]
    with pytest.raises(ValueError, match="repeated customer ids"):
        clustering.scored_labels(result, repeated)
    unlabelled = same.astype({"cluster_id": "Int64"})
    unlabelled.loc[7, "cluster_id"] = pd.NA
    with pytest.raises(ValueError, match=f"1 customers no kmeans cluster id .*customer {ids[7]}"):
        clustering.scored_labels(result, unlabelled)


def test_scores_from_a_stale_fit_are_refused_but_rounding_ties_are_not():
    frame = synthetic(n_per_group=100, seed=2)
    result = fit_all(frame, config())
    ids, kmeans = result.customer_ids, result.fits["kmeans"]
    assert kmeans.centres is not None and kmeans.centre_ids is not None
    # A stale fit (say a feature missing) sends everyone to one centre.
    stale = pd.DataFrame({"customer_id": ids, "algorithm": "kmeans", "cluster_id": 0})
    with pytest.raises(ValueError, match="in another kmeans cluster than the fit"):
        clustering.scored_labels(result, stale)
    # A customer exactly between two centres may go to either.
    first, second = kmeans.centre_ids[0], kmeans.centre_ids[1]
    assert first is not None and second is not None
    result.scaled[3] = (kmeans.centres[0] + kmeans.centres[1]) / 2
    kmeans.labels[3] = first
    tied = pd.DataFrame({"customer_id": ids, "algorithm": "kmeans", "cluster_id": kmeans.labels})
    tied.loc[3, "cluster_id"] = second
    assert clustering.scored_labels(result, tied)["kmeans"][3] == second
    # The same move for a customer not on the tie is refused.
    far = tied.copy()  # customer 3 still on the tie's other centre
    far.loc[4, "cluster_id"] = next(c for c in kmeans.centre_ids if c != kmeans.labels[4])
    # One customer moved: the tie at 3 is not counted.
    with pytest.raises(ValueError, match=f"put 1 customers in .* customer {ids[4]}"):
        clustering.scored_labels(result, far)
