"""Clustering recovers known groups, flags outliers, and keeps labels stable."""

from __future__ import annotations

import duckdb
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


def evaluation(
    frame: pd.DataFrame, cfg: ClusteringConfig, assigned: pd.DataFrame | None = None
) -> pd.DataFrame:
    """evaluation_table in memory: the fit of fit_all, counts from assignments()."""
    assigned = assignments(frame, cfg) if assigned is None else assigned
    return evaluation_table(fit_all(frame, cfg).sample_fit, assigned, cfg)


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
    table = evaluation(frame, config())
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
    evaluation(frame, config())
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
    evaluated = evaluation(frame, config(), table)
    chosen = evaluated[evaluated["algorithm"] != "kmeans_sweep"]
    assert set(chosen["algorithm"]) == {"kmeans", "dbscan", "hierarchical"}
    assert (chosen["n_clusters"] == 1).all()
    assert (chosen["n_customers"] == len(frame)).all()
    assert chosen["note"].str.contains(f"only {len(frame)} customers").all()
    assert (evaluated["algorithm"] != "kmeans_sweep").all()  # no k could be tried


def test_k_is_capped_by_distinct_customers_and_the_cap_is_noted():
    # 3 distinct points repeated: k_max 7 cannot be reached; k 2 and 3 are tried.
    frame = _tiny([(10, 3, 300, 100, 0.0), (200, 1, 50, 50, 0.1), (60, 9, 900, 100, 0.5)] * 2)
    evaluated = evaluation(frame, config())
    sweep = evaluated[evaluated["algorithm"] == "kmeans_sweep"]
    assert sorted(sweep["k"]) == [2, 3]
    kmeans = evaluated[evaluated["algorithm"] == "kmeans"].iloc[0]
    assert "k tried up to 3, not 7" in kmeans["note"]
    assert evaluated.loc[evaluated["algorithm"] == "dbscan", "note"].isna().all()


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
    assert _same_partition(full.labels_, result.labels["kmeans"])
    ward = AgglomerativeClustering(n_clusters=k, linkage="ward").fit_predict(result.scaled)
    assert _same_partition(ward, result.labels["hierarchical"])
    table = evaluation(frame, cfg)
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
    assert _same_partition(predicted, result.labels["kmeans"])
    outside = np.setdiff1d(np.arange(len(frame)), sample)
    assert _same_partition(predicted[outside], result.labels["kmeans"][outside])


def test_the_evaluation_says_how_many_customers_the_fit_used():
    frame = synthetic(n_per_group=750)
    cfg = config(fit_sample_size=600, hierarchical_sample_size=400, silhouette_sample_size=300)
    table = evaluation(frame, cfg).set_index("algorithm")
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
    fit, labels = result.fits["dbscan"], result.labels["dbscan"]
    sample = clustering.fit_sample(len(frame), cfg)
    x = result.scaled
    model = DBSCAN(eps=fit.parameters["eps"], min_samples=fit.parameters["min_samples"]).fit(
        x[sample]
    )
    assert _same_partition(model.labels_, labels[sample])
    cores = x[sample][model.core_sample_indices_]
    core_labels = labels[sample][model.core_sample_indices_]
    outside = np.setdiff1d(np.arange(len(frame)), sample)
    distances = np.sqrt(((x[outside][:, None, :] - cores[None, :, :]) ** 2).sum(axis=2))
    nearest = distances.argmin(axis=1)
    within = distances.min(axis=1) <= fit.parameters["eps"]
    expected = np.where(within, core_labels[nearest], clustering.NOISE)
    np.testing.assert_array_equal(labels[outside], expected)
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
    first = (assignments(frame, cfg), evaluation(frame, cfg))
    clustering._FIT_CACHE.clear()
    second = (assignments(frame, cfg), evaluation(frame, cfg))
    pd.testing.assert_frame_equal(first[0], second[0])
    pd.testing.assert_frame_equal(first[1], second[1])


def test_the_kmeans_silhouette_is_sklearns_on_the_fit_sample():
    frame = synthetic(n_per_group=750)
    cfg = config(fit_sample_size=600, silhouette_sample_size=300)
    result = fit_all(frame, cfg)
    sample = clustering.fit_sample(len(frame), cfg)
    labels = result.labels["kmeans"][sample]
    expected = silhouette_score(
        result.scaled[sample], labels, sample_size=300, random_state=cfg.random_state
    )
    shown = evaluation(frame, cfg).set_index("algorithm").loc["kmeans", "silhouette"]
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
    """Every customer's fitted label, from the published fit alone (no fitted object),
    written plainly: standardize, nearest centre by full distance matrix, radius, members."""
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
    for algorithm in clustering.ALGORITHMS:
        rows = table[table["algorithm"] == algorithm]
        centres = rows[rows["parameter"] == "centre"]
        wide = centres.pivot(index="centre_position", columns="feature_position", values="value")
        ids = centres.groupby("centre_position")["fitted_label"].first().to_numpy()
        squared = ((z[:, None, :] - wide.to_numpy()[None, :, :]) ** 2).sum(axis=2)
        scored = ids[squared.argmin(axis=1)].astype(np.int64)
        radius = rows.loc[rows["parameter"] == "radius", "value"]
        if len(radius):
            scored[np.sqrt(squared.min(axis=1)) > radius.iloc[0]] = clustering.NOISE
        members = rows[rows["parameter"] == "member"]
        at = pd.Index(ordered["customer_id"]).get_indexer(members["customer_id"])
        scored[at] = members["fitted_label"].to_numpy(dtype=np.int64)
        labels[algorithm] = scored
    return labels


def _canonical(labels: np.ndarray) -> np.ndarray:
    """Clusters numbered by size (largest 0), ties by first member; noise stays -1."""
    clusters = [c for c in np.unique(labels) if c != -1]
    order = sorted(clusters, key=lambda c: (-(labels == c).sum(), np.flatnonzero(labels == c)[0]))
    mapping = {old: new for new, old in enumerate(order)} | {-1: -1}
    return np.array([mapping[label] for label in labels], dtype=np.int64)


def _sampled_dirty_frame() -> tuple[pd.DataFrame, ClusteringConfig]:
    # More customers than the fit samples, outliers, missing values the scaler imputes.
    frame = synthetic(n_per_group=600, seed=4, outliers=5)
    frame.loc[frame.index[::97], "discounted_revenue_share"] = np.nan
    return frame, config(fit_sample_size=900, hierarchical_sample_size=300)


def test_the_published_fit_alone_reproduces_every_customers_label():
    frame, cfg = _sampled_dirty_frame()
    result = fit_all(frame, cfg)
    table = clustering.fit_table(result.sample_fit)
    members = table[table["parameter"] == "member"].groupby("algorithm").size().to_dict()
    assert members == {"hierarchical": 300, "dbscan": 900}
    assert table["fit_id"].nunique() == 1
    scored = _score_from_fit_table(frame, table)
    for algorithm, labels in scored.items():
        np.testing.assert_array_equal(
            _canonical(labels), result.labels[algorithm], err_msg=algorithm
        )
        assert len(np.unique(labels[labels != -1])) >= 2
    assert (scored["dbscan"] == -1).any()  # the radius is applied


def _sql_like_scores(frame: pd.DataFrame, table: pd.DataFrame) -> pd.DataFrame:
    """What cluster_scores publishes: kmeans and hierarchical fitted labels, with fit_id."""
    ids = frame.sort_values("customer_id")["customer_id"].to_numpy()
    scored = _score_from_fit_table(frame, table)
    return pd.concat(
        pd.DataFrame(
            {
                "customer_id": ids,
                "algorithm": algorithm,
                "fitted_label": scored[algorithm],
                "fit_id": table["fit_id"].iloc[0],
            }
        )
        for algorithm in clustering.SCORED_IN_SQL
    )


def test_a_build_publishes_what_the_in_memory_clustering_gives():
    frame, cfg = _sampled_dirty_frame()
    table = clustering.fit_table(fit_all(frame, cfg).sample_fit)
    scores = _sql_like_scores(frame, table)
    expected = assignments(frame, cfg)
    # Scores arrive in any row order.
    published = clustering.published_assignments(frame, table, scores.iloc[::-1], cfg)
    pd.testing.assert_frame_equal(published, expected)


def test_scores_from_another_fit_or_not_covering_everyone_are_refused():
    frame, cfg = _sampled_dirty_frame()
    table = clustering.fit_table(fit_all(frame, cfg).sample_fit)
    scores = _sql_like_scores(frame, table)
    ids = scores["customer_id"].unique()

    def refused(bad: pd.DataFrame, message: str) -> None:
        with pytest.raises(ValueError, match=message):
            clustering.published_assignments(frame, table, bad, cfg)

    refused(scores.assign(fit_id="0123abcd"), "cluster_scores comes from clustering fit 0123abcd")
    kmeans = scores["algorithm"] == "kmeans"
    refused(scores[~(kmeans & (scores["customer_id"] == ids[0]))], "scored 2,404 customers for km")
    repeated = scores.copy()
    repeated.loc[kmeans & (repeated["customer_id"] == ids[1]), "customer_id"] = ids[2]
    refused(repeated, "repeated customer ids")
    unlabelled = scores.astype({"fitted_label": "Int64"}).reset_index(drop=True)
    unlabelled.loc[7, "fitted_label"] = pd.NA
    refused(unlabelled, f"1 customers no kmeans label .*customer {ids[7]}")


def test_a_build_fits_on_the_sample_duckdb_picks_and_scales_like_memory():
    # DuckDB computes the scaler over every customer and picks the sample's rows: the
    # fit equals the in-memory one, and only fit_sample_size customers reach Python.
    frame, cfg = _sampled_dirty_frame()
    con = duckdb.connect()
    con.execute("set threads = 2")
    con.register("shuffled", frame.sample(frac=1.0, random_state=5))
    con.execute("create table int_customer_features as select * from shuffled")
    relation = con.query("select * from int_customer_features")
    in_memory = fit_all(frame, cfg).sample_fit
    clustering._FIT_CACHE.clear()
    built = clustering.fit_in_duckdb(relation, cfg)
    assert built.n_customers == len(frame)
    assert len(built.sample_ids) == cfg.fit_sample_size
    np.testing.assert_array_equal(built.sample_ids, in_memory.sample_ids)
    for name in ("medians", "means", "stds"):
        np.testing.assert_allclose(
            getattr(built.scaler, name), getattr(in_memory.scaler, name), rtol=1e-12
        )
    for algorithm, fit in built.fits.items():
        assert _same_partition(fit.labels, in_memory.fits[algorithm].labels), algorithm
    # The same figures on every run, whatever order the threads add rows in.
    again, _ = clustering.scaler_in_duckdb(relation, cfg)
    assert again.key() == built.scaler.key()


def test_a_fit_for_other_features_or_other_customers_is_refused():
    # After the feature list changes, a fit left from before would score nonsense.
    frame, cfg = _sampled_dirty_frame()
    table = clustering.fit_table(fit_all(frame, cfg).sample_fit)
    scores = _sql_like_scores(frame, table)
    other = config(
        fit_sample_size=900, hierarchical_sample_size=300, features=(*FEATURES[:4], "tenure")
    )
    with pytest.raises(
        ValueError,
        match=r"fitted on features .*'discounted_revenue_share'.*"
        r"config lists .*'tenure'.*dbt build -s cluster_fit\+",
    ):
        clustering.published_assignments(frame.assign(tenure=1.0), table, scores, other)
    unlogged = config(fit_sample_size=900, hierarchical_sample_size=300, log_features=())
    with pytest.raises(ValueError, match="log: \\[\\]\\)"):
        clustering.published_assignments(frame, table, scores, unlogged)
    # A fit whose own sample customers are gone: its members are not found.
    fewer = frame[
        frame["customer_id"] != table.loc[table["parameter"] == "member", "customer_id"].iloc[0]
    ]
    with pytest.raises(ValueError, match="1 customers the clustering fit labelled itself"):
        clustering.published_assignments(fewer, table, _sql_like_scores(fewer, table), cfg)


def test_check_fit_id_refuses_rows_of_another_fit():
    rows = pd.DataFrame({"fit_id": ["a1", "a1"]})
    clustering.check_fit_id("a1", rows, "cluster_assignments")
    with pytest.raises(ValueError, match="cluster_assignments comes from clustering fit a1, b2"):
        clustering.check_fit_id("a1", pd.DataFrame({"fit_id": ["a1", "b2"]}), "cluster_assignments")
    with pytest.raises(ValueError, match=r"fit \(none\), not from fit a1"):
        clustering.check_fit_id("a1", pd.DataFrame({"fit_id": []}), "cluster_fit")


def test_the_duckdb_scaler_is_the_same_whatever_order_the_threads_add_rows_in():
    # Five of DuckDB's row groups (122,880 rows) on two threads: plain sums of doubles
    # came out different in the last bit from run to run; the compensated sums do not.
    rng = np.random.default_rng(3)
    n = 600_000
    frame = pd.DataFrame(
        {
            "customer_id": np.arange(n).astype(str),
            **{name: rng.lognormal(3.0, 1.5, n) for name in FEATURES},
        }
    )
    con = duckdb.connect()
    con.execute("set threads = 2")
    con.register("frame", frame)
    con.execute("create table int_customer_features as select * from frame")
    relation = con.query("select * from int_customer_features")
    keys = {clustering.scaler_in_duckdb(relation, config())[0].key() for _ in range(4)}
    assert len(keys) == 1
    reference = clustering.fit_scaler(frame, config())
    np.testing.assert_allclose(keys.pop()[3], reference.means, rtol=1e-13)
