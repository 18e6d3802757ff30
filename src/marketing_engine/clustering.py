"""Customer clustering: KMeans, DBSCAN and Ward hierarchical, evaluated and with stable labels.

Scaling: features listed in `log_features` are log1p-transformed (recency,
frequency and money are heavy-tailed), then every feature is standardized to
mean 0 and standard deviation 1, so each counts equally in distances.

Memory: DBSCAN and Ward are quadratic, and even KMeans' k sweep is costly on
millions of rows, so every algorithm, the choice of k and eps and every quality
figure work on ONE seeded sample of `fit_sample_size` customers (Ward on its
first `hierarchical_sample_size`, silhouette on `silhouette_sample_size` of it).
With fewer customers than that, the sample is everyone.

Fit and score: in a build only the fit sample reaches Python. DuckDB computes
the scaler over every customer and picks the sample's rows (fit_in_duckdb);
cluster_fit publishes the fit as parameters (fit_table); every customer is
scored from them where the data lives: KMeans' nearest centre and Ward's
nearest centroid in SQL (cluster_scores), DBSCAN's nearest core customer
within eps (else noise) with a KD-tree in chunks of `assign_chunk_rows`
(published_assignments). fit_all does the same in memory. The evaluation says
how many customers the fit used and, when that is not everyone, how the others
were assigned.

Stability: clusters are numbered in a canonical order (largest first), then
matched to the previous run by Hungarian matching on centroids, where the
previous run's centroid of a cluster is the mean of its former members'
current features; a cluster keeps its id while it still matches.
"""

from __future__ import annotations

import hashlib
import warnings
from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np
import pandas as pd
from scipy.optimize import linear_sum_assignment
from sklearn.cluster import DBSCAN, AgglomerativeClustering, KMeans
from sklearn.metrics import calinski_harabasz_score, davies_bouldin_score
from sklearn.metrics.pairwise import pairwise_distances_chunked
from sklearn.neighbors import KDTree, NearestNeighbors
from threadpoolctl import threadpool_limits

from marketing_engine.frames import is_in
from marketing_engine.memo import OneSlotCache
from marketing_engine.settings import FromConfig

ALGORITHMS = ("kmeans", "dbscan", "hierarchical")
NOISE = -1
# What to run when the published fit and what reads it disagree.
REBUILD = (
    "rebuild the fit and what reads it together: marketing-engine build, or "
    "dbt build -s cluster_fit+"
)


@dataclass(frozen=True)
class ClusteringConfig(FromConfig):
    """Settings, normally from the models' YAML `config:` (key `clustering`)."""

    config_key: ClassVar[str] = "clustering"

    features: tuple[str, ...]
    log_features: tuple[str, ...] = ()
    k_min: int = 2
    k_max: int = 8
    primary_algorithm: str = "kmeans"
    fit_sample_size: int = 50_000
    hierarchical_sample_size: int = 10_000
    silhouette_sample_size: int = 10_000
    assign_chunk_rows: int = 100_000
    dbscan_min_samples: int = 10
    match_tolerance: float = 1.0
    random_state: int = 42
    # Native (BLAS / OpenMP) threads the fits use. dbt already runs a model on each
    # core; two-thread BLAS on a busy machine spins and ran the silhouettes 6x slower.
    native_threads: int = 1

    def __post_init__(self) -> None:
        if self.primary_algorithm not in ALGORITHMS:
            raise ValueError(
                f"primary_algorithm must be one of {ALGORITHMS}, not {self.primary_algorithm!r}"
            )
        if not 2 <= self.k_min <= self.k_max:
            raise ValueError(f"need 2 <= k_min <= k_max, got {self.k_min}..{self.k_max}")
        if not self.features:
            raise ValueError("features must list at least one column")
        for name in (
            "fit_sample_size",
            "hierarchical_sample_size",
            "silhouette_sample_size",
            "assign_chunk_rows",
        ):
            if getattr(self, name) < 2:
                raise ValueError(f"{name} must be at least 2, got {getattr(self, name)}")
        if self.native_threads < 1:
            raise ValueError(f"native_threads must be at least 1, got {self.native_threads}")


@dataclass
class AlgorithmFit:
    """One algorithm fitted on the fit sample, and what scores any other customer.

    `labels` are the fit sample's raw labels (in the sample's customer_id order;
    NOISE for DBSCAN outliers). A customer is scored by the nearest of `centres`
    (ties: the lowest position), whose label is `centre_labels` at that position;
    farther than `radius` from every centre is noise (DBSCAN: the core customers
    and eps; None: no limit). The sample customers at `member_positions` keep the
    label the fit gave them (Ward's own sample; DBSCAN's whole sample).
    """

    algorithm: str
    labels: np.ndarray
    parameters: dict
    centres: np.ndarray
    centre_labels: np.ndarray
    radius: float | None = None
    member_positions: np.ndarray | None = None
    inertia: float | None = None
    note: str | None = None
    fit_sample_size: int | None = None
    # The silhouette already computed on the fit sample's labels (KMeans sweep), if any.
    sample_silhouette: float | None = None


@dataclass
class SampleFit:
    """Every algorithm fitted on the one seeded sample: all a build needs to score,
    number and evaluate every customer, without holding every customer."""

    sample_ids: np.ndarray
    sample_scaled: np.ndarray
    n_customers: int
    scaler: Scaler
    fits: dict[str, AlgorithmFit]
    quality: dict[str, dict]
    kmeans_sweep: pd.DataFrame = field(default_factory=pd.DataFrame)


@dataclass
class ClusteringResult:
    """The whole clustering in memory (fit_all): the sample fit, and every customer
    scaled and labelled in canonical order (0 = largest cluster)."""

    customer_ids: np.ndarray
    scaled: np.ndarray
    labels: dict[str, np.ndarray]
    sample_fit: SampleFit

    @property
    def fits(self) -> dict[str, AlgorithmFit]:
        return self.sample_fit.fits


# --- features ----------------------------------------------------------------------


@dataclass(frozen=True)
class Scaler:
    """The fitted feature scaling: per feature, whether log1p applies, the median that
    imputes a missing value (after the log) and the mean and standard deviation that
    standardize it. Fitted on every customer (in SQL in a build: scaler_in_duckdb),
    published in cluster_fit so SQL can apply it (cluster_scores)."""

    features: tuple[str, ...]
    is_log: tuple[bool, ...]
    medians: np.ndarray
    means: np.ndarray
    stds: np.ndarray

    def key(self) -> tuple:
        """Exact values, for cache keys (numpy's repr rounds)."""
        return (
            self.features,
            self.is_log,
            *(tuple(float(v) for v in values) for values in (self.medians, self.means, self.stds)),
        )

    def apply(self, frame: pd.DataFrame) -> np.ndarray:
        """The configured features of `frame` log-transformed, imputed and standardized."""
        values = _transformed(frame, self.features, self.is_log)
        medians = pd.Series(self.medians, index=list(self.features))
        matrix = values.fillna(medians).fillna(0.0).to_numpy()
        return (matrix - self.means) / self.stds

    @classmethod
    def from_moments(
        cls, features: tuple[str, ...], is_log: tuple[bool, ...], medians, means, stds
    ) -> Scaler:
        """A scaler from computed moments: a constant feature (standard deviation zero
        to rounding, or no customers) is divided by 1, so it adds nothing to distances."""
        means = np.nan_to_num(np.asarray(means, dtype=float))
        stds = np.asarray(stds, dtype=float)
        constant = ~(stds > CONSTANT_FEATURE * np.maximum(1.0, np.abs(means)))
        return cls(
            features=tuple(features),
            is_log=tuple(is_log),
            medians=np.asarray(medians, dtype=float),
            means=means,
            stds=np.where(constant, 1.0, stds),
        )

    @classmethod
    def from_fit_table(cls, table: pd.DataFrame) -> Scaler:
        """The scaler cluster_fit published (fit_table)."""
        rows = table[table["algorithm"] == "scaler"]
        wide = rows.pivot(index="feature_position", columns="parameter", values="value")
        first = rows.groupby("feature_position")[["feature", "is_log_transformed"]].first()
        return cls(
            features=tuple(first["feature"]),
            is_log=tuple(bool(v) for v in first["is_log_transformed"]),
            medians=wide["median"].to_numpy(dtype=float),
            means=wide["mean"].to_numpy(dtype=float),
            stds=wide["std"].to_numpy(dtype=float),
        )


# A standard deviation below this (relative to the mean) is a constant feature: its
# mean, a sum of equal values, may be off by rounding, and dividing by that leftover
# would turn the rounding into a full standard deviation.
CONSTANT_FEATURE = 1e-12


def _transformed(
    frame: pd.DataFrame, features: tuple[str, ...], is_log: tuple[bool, ...]
) -> pd.DataFrame:
    missing = [name for name in features if name not in frame.columns]
    if missing:
        raise KeyError(
            f"clustering features {missing} are not columns of the feature table; "
            f"available: {sorted(frame.columns)}"
        )
    values = frame[list(features)].astype(float).copy()
    for name, logged in zip(features, is_log, strict=True):
        if logged:
            values[name] = np.log1p(values[name].clip(lower=0))
    return values


def _is_log(config: ClusteringConfig) -> tuple[bool, ...]:
    return tuple(name in config.log_features for name in config.features)


def fit_scaler(frame: pd.DataFrame, config: ClusteringConfig) -> Scaler:
    """The scaling, fitted on every row of `frame` in memory (see Scaler)."""
    is_log = _is_log(config)
    values = _transformed(frame, config.features, is_log)
    medians = values.median()
    matrix = values.fillna(medians).fillna(0.0).to_numpy()
    means = matrix.mean(axis=0) if len(matrix) else np.zeros(matrix.shape[1])
    stds = matrix.std(axis=0) if len(matrix) else np.ones(matrix.shape[1])
    return Scaler.from_moments(config.features, is_log, medians.to_numpy(float), means, stds)


def _sample(n: int, size: int, rng: np.random.Generator) -> np.ndarray:
    if n <= size:
        return np.arange(n)
    return np.sort(rng.choice(n, size, replace=False))


def fit_sample(n: int, config: ClusteringConfig) -> np.ndarray:
    """Sorted row positions of the one seeded sample every fit uses (everyone if n is small)."""
    return _sample(n, config.fit_sample_size, np.random.default_rng(config.random_state))


# --- reading the fit's inputs in DuckDB (a build never pulls every customer) ----------


def scaler_in_duckdb(relation, config: ClusteringConfig) -> tuple[Scaler, int]:
    """The Scaler fitted on every customer of `relation` (int_customer_features) by
    DuckDB, and the customer count: aggregates only, no customer reaches Python.

    The same transform as cluster_scores (ln(1 + x) of x clipped at 0 for the log
    features); median, mean and population standard deviation as fit_scaler takes
    them, equal to it to rounding.
    """
    is_log = _is_log(config)
    missing = [name for name in config.features if name not in relation.columns]
    if missing:
        raise KeyError(
            f"clustering features {missing} are not columns of the feature table; "
            f"available: {sorted(relation.columns)}"
        )
    values, medians, means, moments = [], [], [], []
    for position, (name, logged) in enumerate(zip(config.features, is_log, strict=True)):
        raw = f'cast("{name}" as double)'
        value = f"case when {raw} < 0 then 0.0 else ln(1 + {raw}) end" if logged else raw
        values.append(f"{value} as v{position}")
        medians.append(f"median(v{position}) as m{position}")
        imputed = f"coalesce(v{position}, m{position}, 0.0)"
        means.append(f"fsum({imputed}) / count(*) as a{position}")
        deviation = f"({imputed} - a{position})"
        moments.append(
            f"any_value(m{position}), any_value(a{position}), "
            f"sqrt(fsum({deviation} * {deviation}) / count(*))"
        )
    # fsum (compensated) sums, two passes like numpy's std: the same figures whatever
    # order DuckDB's threads add the rows in, so a rebuild publishes the same fit.
    row = relation.query(
        "features",
        f"""
        with transformed as (select {", ".join(values)} from features),
        medians as (select {", ".join(medians)} from transformed),
        means as (
            select medians.*, {", ".join(means)}
            from transformed cross join medians group by all
        )
        select count(*), {", ".join(moments)}
        from transformed cross join means
        """,
    ).fetchall()[0]
    n_customers, numbers = int(row[0]), np.array(row[1:], dtype=float).reshape(-1, 3)
    scaler = Scaler.from_moments(
        config.features, is_log, numbers[:, 0], numbers[:, 1], numbers[:, 2]
    )
    return scaler, n_customers


def sample_in_duckdb(relation, config: ClusteringConfig, n_customers: int) -> pd.DataFrame:
    """The fit sample's rows (customer_id and the features, in customer_id order):
    the rows at fit_sample's positions in customer_id order, picked by DuckDB, so the
    sample is the one fit_all takes from the whole table in memory."""
    columns = ", ".join(["customer_id", *(f'"{name}"' for name in config.features)])
    positions = fit_sample(n_customers, config)
    if len(positions) == n_customers:
        return relation.query(
            "features", f"select {columns} from features order by customer_id"
        ).df()
    wanted = ", ".join(str(int(p)) for p in positions)
    return relation.query(
        "features",
        f"""
        with numbered as (
            select {columns}, row_number() over (order by customer_id) - 1 as fit_position
            from features
        )
        select {columns} from numbered
        where fit_position in (select unnest([{wanted}]))
        order by customer_id
        """,
    ).df()


def fit_in_duckdb(relation, config: ClusteringConfig) -> SampleFit:
    """fit_sample_rows on `relation` (int_customer_features) with the scaler and the
    sample taken by DuckDB: at most fit_sample_size customers reach Python."""
    scaler, n_customers = scaler_in_duckdb(relation, config)
    sample = sample_in_duckdb(relation, config, n_customers)
    return fit_sample_rows(sample, scaler, n_customers, config)


# --- chunked assignment ----------------------------------------------------------------


def nearest_point(
    x: np.ndarray, points: np.ndarray, chunk_rows: int
) -> tuple[np.ndarray, np.ndarray]:
    """Per row of x: position of the nearest of `points` and the Euclidean distance to it.

    Rows are processed `chunk_rows` at a time, so memory stays bounded by
    chunk_rows x (a few centres, or a KD-tree query) whatever the row count.
    Few points (centres): exact brute force; many (DBSCAN cores): a KD-tree.
    Ties go to the lowest position.
    """
    position = np.empty(len(x), dtype=np.int64)
    distance = np.empty(len(x), dtype=float)
    tree = KDTree(points) if len(points) > 64 else None
    for start in range(0, len(x), chunk_rows):
        rows = x[start : start + chunk_rows]
        if tree is None:
            squared = ((rows[:, None, :] - points[None, :, :]) ** 2).sum(axis=2)
            best = squared.argmin(axis=1)
            position[start : start + len(rows)] = best
            distance[start : start + len(rows)] = np.sqrt(squared[np.arange(len(rows)), best])
        else:
            found, at = tree.query(rows, k=1)
            position[start : start + len(rows)] = at[:, 0]
            distance[start : start + len(rows)] = found[:, 0]
    return position, distance


# --- algorithms ----------------------------------------------------------------------


def knee_index(values: np.ndarray) -> int:
    """Index of the knee of a monotone curve: the point farthest from the end-to-end chord."""
    y = np.asarray(values, dtype=float)
    if y.size < 3:
        return int(y.size - 1)
    x = np.linspace(0.0, 1.0, y.size)
    span = y[-1] - y[0]
    y_norm = (y - y[0]) / span if span else np.zeros_like(y)
    return int(np.argmax(np.abs(y_norm - x)))


def _canonical(labels: np.ndarray) -> np.ndarray:
    """Relabel clusters 0..k-1 by size (largest first), ties by smallest member index."""
    return _relabel(labels, _canonical_mapping(labels))


def _canonical_mapping(labels: np.ndarray) -> dict:
    """The mapping _canonical applies: raw label -> canonical label (noise stays noise)."""
    clusters = [c for c in np.unique(labels) if c != NOISE]
    first_member = {c: int(np.flatnonzero(labels == c)[0]) for c in clusters}
    order = sorted(clusters, key=lambda c: (-int((labels == c).sum()), first_member[c]))
    mapping = {old: new for new, old in enumerate(order)}
    mapping[NOISE] = NOISE
    return mapping


def _relabel(labels: np.ndarray, mapping: dict) -> np.ndarray:
    """labels mapped through `mapping` (every label a key), vectorised."""
    if not labels.size:
        return labels
    keys = np.array(sorted(mapping), dtype=np.int64)
    values = np.array([mapping[k] for k in keys], dtype=np.int64)
    return values[np.searchsorted(keys, labels)]


SWEEP_COLUMNS = {"k": "int64", "inertia": "float64", "silhouette": "float64"}


def distinct_points(x: np.ndarray) -> int:
    """Number of distinct rows (customers with identical features count once)."""
    return int(np.unique(x, axis=0).shape[0]) if len(x) else 0


def k_range(n_points: int, n_distinct: int, config: ClusteringConfig) -> range:
    """The k KMeans may try: k_min..k_max, capped so every k can be scored by silhouette.

    Silhouette needs 2 <= k <= n - 1 clusters, and k clusters need k distinct points.
    Empty when the data are too few for k_min clusters.
    """
    return range(config.k_min, min(config.k_max, n_points - 1, n_distinct) + 1)


def too_few_points_note(n_points: int, n_distinct: int, config: ClusteringConfig) -> str | None:
    """Plain-words reason when no k in k_min..k_max can be fitted, else None."""
    if k_range(n_points, n_distinct, config):
        return None
    return (
        f"only {n_points} customers with {n_distinct} distinct feature values: "
        f"at least {config.k_min + 1} distinct are needed for {config.k_min} clusters; "
        "everyone is in one cluster"
    )


def single_cluster(algorithm: str, x: np.ndarray, note: str) -> AlgorithmFit:
    """The fallback fit: every customer in cluster 0 (one centre, no radius), with the reason."""
    labels = np.zeros(len(x), dtype=int)
    inertia = float(((x - x.mean(axis=0)) ** 2).sum()) if len(x) else 0.0
    centre = x.mean(axis=0, keepdims=True) if len(x) else np.zeros((1, x.shape[1]))
    return AlgorithmFit(
        algorithm,
        labels,
        {"k": 1, "fallback": "single cluster"},
        centres=centre,
        centre_labels=np.zeros(1, dtype=int),
        inertia=inertia,
        note=note,
        fit_sample_size=len(x),
    )


def fit_kmeans(x: np.ndarray, config: ClusteringConfig) -> tuple[AlgorithmFit, pd.DataFrame]:
    """KMeans for every k in range on the fit sample `x`; the best silhouette wins;
    elbow recorded. Every customer (the sample too) is labelled by the nearest centre.

    Too few distinct customers for k_min clusters: one cluster, with a note saying why.
    """
    n_distinct = distinct_points(x)
    ks = k_range(len(x), n_distinct, config)
    note = too_few_points_note(len(x), n_distinct, config)
    if note is not None:
        empty = pd.DataFrame({c: pd.Series(dtype=t) for c, t in SWEEP_COLUMNS.items()})
        return single_cluster("kmeans", x, note), empty.assign(is_elbow=False, is_chosen=False)
    if ks.stop - 1 < config.k_max:
        note = (
            f"k tried up to {ks.stop - 1}, not {config.k_max}: only {len(x)} customers "
            f"with {n_distinct} distinct feature values"
        )
    models = {
        k: KMeans(n_clusters=k, n_init=4, random_state=config.random_state).fit(x) for k in ks
    }
    # Every k's silhouette from one pass over the sampled points' distances.
    silhouettes = _silhouettes(x, [model.labels_ for model in models.values()], config)
    rows = [
        {"k": k, "inertia": float(model.inertia_), "silhouette": silhouette}
        for (k, model), silhouette in zip(models.items(), silhouettes, strict=True)
    ]
    sweep = pd.DataFrame(rows).astype(SWEEP_COLUMNS)
    sweep["is_elbow"] = False
    sweep.loc[knee_index(sweep["inertia"].to_numpy()), "is_elbow"] = True
    # A k whose silhouette cannot be computed ranks last; ties go to the smaller k.
    best_k = int(sweep.loc[sweep["silhouette"].fillna(-np.inf).idxmax(), "k"])
    sweep["is_chosen"] = sweep["k"] == best_k
    best = models[best_k]
    centres = best.cluster_centers_.copy()
    labels, _ = nearest_point(x, centres, config.assign_chunk_rows)
    fit = AlgorithmFit(
        "kmeans",
        labels,
        {"k": best_k, "n_init": 4},
        centres=centres,
        centre_labels=np.arange(len(centres)),
        inertia=float(best.inertia_),
        note=note,
        fit_sample_size=len(x),
    )
    if np.array_equal(_canonical(best.labels_), _canonical(labels)):
        # Same partition of the same sample: the evaluation's silhouette is the sweep's.
        chosen = sweep.loc[sweep["is_chosen"], "silhouette"].iloc[0]
        fit.sample_silhouette = None if pd.isna(chosen) else float(chosen)
    return fit, sweep


def fit_dbscan(x: np.ndarray, config: ClusteringConfig) -> AlgorithmFit:
    """DBSCAN on the fit sample `x`, eps at the knee of the k-distance curve; any other
    customer joins the nearest core customer within eps, else is noise."""
    min_samples = min(config.dbscan_min_samples, len(x) - 1)
    distances, _ = NearestNeighbors(n_neighbors=min_samples).fit(x).kneighbors(x)
    k_distance = np.sort(distances[:, -1])
    eps = float(k_distance[knee_index(k_distance)])
    eps = eps if eps > 0 else float(k_distance[k_distance > 0].min(initial=1e-6))
    model = DBSCAN(eps=eps, min_samples=min_samples).fit(x)
    core = model.core_sample_indices_
    return AlgorithmFit(
        "dbscan",
        model.labels_.astype(int),
        {"eps": round(eps, 6), "min_samples": int(min_samples)},
        centres=x[core],
        centre_labels=model.labels_[core].astype(int),
        radius=eps,
        member_positions=np.arange(len(x)),
        fit_sample_size=len(x),
    )


def fit_hierarchical(x: np.ndarray, n_clusters: int, config: ClusteringConfig) -> AlgorithmFit:
    """Ward agglomerative clustering on the first `hierarchical_sample_size` of the fit
    sample `x` (seeded); every other customer joins the nearest cluster centroid."""
    rng = np.random.default_rng(config.random_state + 2)
    index = _sample(len(x), config.hierarchical_sample_size, rng)
    ward = x[index]
    n_clusters = min(n_clusters, len(ward))
    fitted = AgglomerativeClustering(n_clusters=n_clusters, linkage="ward").fit_predict(ward)
    centroids = np.vstack([ward[fitted == c].mean(axis=0) for c in range(n_clusters)])
    labels, _ = nearest_point(x, centroids, config.assign_chunk_rows)
    labels[index] = fitted
    return AlgorithmFit(
        "hierarchical",
        labels,
        {"n_clusters": int(n_clusters), "linkage": "ward"},
        centres=centroids,
        centre_labels=np.arange(n_clusters),
        member_positions=index,
        fit_sample_size=len(index),
    )


@dataclass(frozen=True)
class Scoring:
    """What labels any customer for one algorithm (see AlgorithmFit): centres, their
    labels, the radius and the members (customer ids) that keep their fitted label."""

    centres: np.ndarray
    centre_labels: np.ndarray
    radius: float | None
    member_ids: np.ndarray
    member_labels: np.ndarray

    @classmethod
    def of(cls, fit: AlgorithmFit, sample_ids: np.ndarray) -> Scoring:
        members = fit.member_positions if fit.member_positions is not None else np.array([], int)
        return cls(
            fit.centres, fit.centre_labels, fit.radius, sample_ids[members], fit.labels[members]
        )

    @classmethod
    def from_fit_table(cls, table: pd.DataFrame, algorithm: str) -> Scoring:
        """The scoring cluster_fit published for `algorithm` (fit_table)."""
        rows = table[table["algorithm"] == algorithm]
        centres = rows[rows["parameter"] == "centre"]
        wide = centres.pivot(index="centre_position", columns="feature_position", values="value")
        labels = centres.groupby("centre_position")["fitted_label"].first()
        radius = rows.loc[rows["parameter"] == "radius", "value"]
        members = rows[rows["parameter"] == "member"]
        return cls(
            wide.sort_index().to_numpy(dtype=float),
            labels.sort_index().to_numpy(dtype=np.int64),
            float(radius.iloc[0]) if len(radius) else None,
            members["customer_id"].to_numpy(),
            members["fitted_label"].to_numpy(dtype=np.int64),
        )

    def score(self, x: np.ndarray, customer_ids: np.ndarray, chunk_rows: int) -> np.ndarray:
        """Raw (fitted) labels of the customers `customer_ids` with scaled features `x`."""
        if not len(x):
            return np.array([], dtype=np.int64)
        position, distance = nearest_point(x, self.centres, chunk_rows)
        labels = self.centre_labels[position].astype(np.int64)
        if self.radius is not None:
            labels[distance > self.radius] = NOISE
        if len(self.member_ids):
            at = pd.Index(customer_ids).get_indexer(self.member_ids)
            if (at < 0).any():
                missing = self.member_ids[at < 0]
                raise ValueError(
                    f"{len(missing):,} customers the clustering fit labelled itself are not "
                    f"among the customers scored (e.g. {missing[0]!r}): the fit comes from "
                    "other data: " + REBUILD
                )
            labels[at] = self.member_labels
        return labels


# --- evaluation ----------------------------------------------------------------------


def _silhouette(x: np.ndarray, labels: np.ndarray, config: ClusteringConfig) -> float | None:
    """Mean silhouette of the non-noise points (sampled), None with fewer than 2 clusters."""
    return _silhouettes(x, [labels], config)[0]


def _silhouettes(
    x: np.ndarray, label_sets: list[np.ndarray], config: ClusteringConfig
) -> list[float | None]:
    """`_silhouette(x, labels, config)` for each labels of one set of points.

    Each value is sklearn's silhouette_score(x[keep], labels[keep], sample_size,
    random_state), keep = not noise, computed the same way (same sample, same
    distance chunks; the sums in another order, so equal to about 1e-12), but
    label sets with the same noise rows share one computation of the sampled
    points' distances: the k sweep's six silhouettes cost about one.
    """
    results: list[float | None] = [None] * len(label_sets)
    groups: dict[bytes, list[int]] = {}
    for position, labels in enumerate(label_sets):
        keep = labels != NOISE
        if len(np.unique(labels[keep])) >= 2:
            groups.setdefault(keep.tobytes(), []).append(position)
    for positions in groups.values():
        keep = label_sets[positions[0]] != NOISE
        kept = x[keep]
        size = min(config.silhouette_sample_size, len(kept))
        # silhouette_score's sample: RandomState(random_state).permutation(n)[:size]
        index = np.random.RandomState(config.random_state).permutation(len(kept))[:size]
        values = _sampled_silhouettes(kept[index], [label_sets[p][keep][index] for p in positions])
        for position, value in zip(positions, values, strict=True):
            results[position] = value
    return results


def _sampled_silhouettes(points: np.ndarray, label_sets: list[np.ndarray]) -> list[float]:
    """Mean silhouette of `points` under each labels (sklearn's silhouette_samples, shared).

    Distances come from sklearn's pairwise_distances_chunked, as in
    silhouette_samples; each point's distance sums per cluster, for every label
    set at once, are one matrix product with the sets' one-hot columns (sklearn
    adds them with a per-row loop: the same sums to about 1e-12, in another order).
    """
    encoded, onehots = [], []
    for labels in label_sets:
        classes, codes = np.unique(labels, return_inverse=True)
        if not 2 <= len(classes) <= len(points) - 1:
            raise ValueError(
                f"Number of labels is {len(classes)}. "
                "Valid values are 2 to n_samples - 1 (inclusive)"
            )
        encoded.append((codes, np.bincount(codes)))
        onehots.append(np.eye(len(classes))[codes])
    onehot = np.hstack(onehots)
    edges = np.cumsum([0, *(len(freqs) for _, freqs in encoded)])
    intra: list[list[np.ndarray]] = [[] for _ in encoded]
    inter: list[list[np.ndarray]] = [[] for _ in encoded]
    start = 0
    # 64 MB chunks (sklearn: 1 GB): the same distances, without touching a fresh
    # 800 MB matrix per pass.
    for chunk in pairwise_distances_chunked(points, metric="euclidean", working_memory=64):
        rows = chunk.shape[0]
        all_sums = chunk @ onehot
        for number, (codes, freqs) in enumerate(encoded):
            sums = all_sums[:, edges[number] : edges[number + 1]].copy()
            own = (np.arange(rows), codes[start : start + rows])
            intra[number].append(sums[own])
            sums[own] = np.inf
            sums /= freqs
            inter[number].append(sums.min(axis=1))
        start += rows
    means = []
    for number, (codes, freqs) in enumerate(encoded):
        a = np.concatenate(intra[number])
        b = np.concatenate(inter[number])
        with np.errstate(divide="ignore", invalid="ignore"):
            a /= (freqs - 1).take(codes, mode="clip")
            values = b - a
            values /= np.maximum(a, b)
        means.append(float(np.mean(np.nan_to_num(values))))
    return means


ASSIGNED_BY = {
    "kmeans": "the nearest cluster centre",
    "hierarchical": "the nearest cluster centroid",
    "dbscan": "the nearest core customer within eps, else marked noise",
}


def sample_note(fit: AlgorithmFit, n_customers: int) -> str | None:
    """Plain words when the fit used a sample: how many, and how the others were assigned."""
    used = fit.fit_sample_size
    if used is None or used >= n_customers:
        return None
    return (
        f"{fit.algorithm} fitted on a seeded sample of {used:,} of {n_customers:,} customers; "
        f"the other {n_customers - used:,} were assigned to {ASSIGNED_BY[fit.algorithm]}"
    )


def evaluate(fit: AlgorithmFit, x: np.ndarray, config: ClusteringConfig) -> dict:
    """Silhouette (sampled), Davies-Bouldin and Calinski-Harabasz on the fit sample `x`
    (its non-noise customers); evaluation_table adds the counts over every customer."""
    row = {
        "algorithm": fit.algorithm,
        "parameters": ", ".join(f"{k}={v}" for k, v in fit.parameters.items()),
        "silhouette": None,
        "davies_bouldin": None,
        "calinski_harabasz": None,
        "inertia": fit.inertia,
        "fit_sample_size": fit.fit_sample_size if fit.fit_sample_size is not None else len(x),
    }
    keep = fit.labels != NOISE
    if len(np.unique(fit.labels[keep])) >= 2:
        row["silhouette"] = (
            fit.sample_silhouette
            if fit.sample_silhouette is not None
            else _silhouette(x, fit.labels, config)
        )
        row["davies_bouldin"] = float(davies_bouldin_score(x[keep], fit.labels[keep]))
        row["calinski_harabasz"] = float(calinski_harabasz_score(x[keep], fit.labels[keep]))
    return row


# --- stable labels -------------------------------------------------------------------


def match_previous(
    labels: np.ndarray,
    x: np.ndarray,
    customer_ids: np.ndarray,
    previous: pd.DataFrame | None,
    tolerance: float,
) -> np.ndarray:
    """Renumber clusters to the previous run's ids where the centroids still match.

    `previous` has customer_id and cluster_id. The previous centroid of a cluster is
    the mean of its former members' current features; new and previous centroids
    are paired by Hungarian matching on Euclidean distance, and a pair within
    `tolerance` (standard deviations) keeps the previous id. Other clusters get ids
    above every previous one.
    """
    if previous is None or previous.empty:
        return labels
    current = [c for c in np.unique(labels) if c != NOISE]
    previous = previous[previous["cluster_id"] != NOISE]
    # Each former member's row in x (-1: no longer a customer), looked up once.
    at = pd.Index(customer_ids).get_indexer(previous["customer_id"])
    present = at >= 0
    former, old_labels = at[present], previous["cluster_id"].to_numpy()[present]
    if not len(former) or not current:
        return labels
    old_ids = [int(old) for old in np.unique(old_labels)]
    old_centroids = np.vstack([x[former[old_labels == old]].mean(axis=0) for old in old_ids])
    new_centroids = np.vstack([x[labels == c].mean(axis=0) for c in current])
    cost = np.linalg.norm(new_centroids[:, None, :] - old_centroids[None, :, :], axis=2)
    rows, cols = linear_sum_assignment(cost)
    mapping = {NOISE: NOISE}
    for r, c in zip(rows, cols, strict=True):
        if cost[r, c] <= tolerance:
            mapping[current[r]] = int(old_ids[c])
    next_id = max(old_ids) + 1
    for cluster in current:
        if cluster not in mapping:
            mapping[cluster] = next_id
            next_id += 1
    return _relabel(labels, mapping)


def cluster_id_origin(
    assigned: pd.DataFrame, previous: pd.DataFrame | None, previous_error: str | None = None
) -> pd.Series:
    """Per row of `assigned`: did its cluster keep the previous build's id?

    'kept' (an id of the previous run, which match_previous only reuses for a
    matched cluster), 'new', 'noise', 'no previous build' (nothing to match:
    first build, or no customer in common), or 'previous unreadable: <error>'.
    """
    origin = pd.Series("new", index=assigned.index, dtype="string")
    if previous_error:
        origin[:] = f"previous unreadable: {previous_error}"
    for algorithm, rows in assigned.groupby("algorithm").groups.items():
        before = pd.DataFrame() if previous is None else previous
        if not before.empty:
            before = before[(before["algorithm"] == algorithm) & (before["cluster_id"] != NOISE)]
            before = before[is_in(before["customer_id"], assigned.loc[rows, "customer_id"])]
        if previous_error:
            continue
        if before.empty:
            origin[rows] = "no previous build"
        else:
            kept = assigned.loc[rows, "cluster_id"].isin(before["cluster_id"].unique())
            origin[kept[kept].index] = "kept"
    origin[assigned["cluster_id"] == NOISE] = "noise"
    return origin


# --- names ------------------------------------------------------------------------------


def _mid_rank(population: np.ndarray, value: float) -> float:
    """Share of the population below `value` plus half the share equal to it (0..1)."""
    return float((population < value).mean() + (population == value).mean() / 2)


def name_clusters(frame: pd.DataFrame, labels: np.ndarray) -> dict[int, str]:
    """A readable name per cluster, from where its medians rank among all customers.

    Every word is a claim about the cluster's own figures against the population's,
    so a name cannot contradict its profile (cluster_profiles is checked against
    these rules by tests/dbt/assert_cluster_profiles__names_match_figures.sql):

    A median's rank is the share of all customers below it (ties count half).

    - "Active" / "Steady": median recency below everyone's median (ranked in the
      most recent third: Active) and fewer than half flagged at churn risk
      (is_churn_risk, when the frame has it); "Lapsed": median recency above
      everyone's median, and ranked in the least recent third or half or more at
      churn risk; "Cooling": the rest.
    - "big/high spenders": median monetary above everyone's median and ranked in
      the top third; "frequent"/"loyal": the same for frequency; "occasional
      buyers": median monetary below everyone's, in the bottom third, and median
      frequency not above everyone's; "light spenders": median monetary below
      everyone's, in the bottom third; "mid-value shoppers": the rest.
    """
    figures = frame[["recency_days", "frequency", "monetary"]].astype(float)
    overall = figures.median()
    churn = frame["is_churn_risk"].astype(float) if "is_churn_risk" in frame else None
    names: dict[int, str] = {}
    for cluster in sorted(c for c in np.unique(labels) if c != NOISE):
        members = labels == cluster
        median = figures[members].median()
        rank = {
            column: _mid_rank(figures[column].to_numpy(), median[column])
            for column in figures.columns
        }
        at_risk = churn is not None and churn[members].mean() >= 0.5
        more_recent = median["recency_days"] < overall["recency_days"]
        if more_recent and not at_risk:
            activity = "Active" if rank["recency_days"] <= 1 / 3 else "Steady"
        elif median["recency_days"] > overall["recency_days"] and (
            rank["recency_days"] >= 2 / 3 or at_risk
        ):
            activity = "Lapsed"
        else:
            activity = "Cooling"
        high_spend = median["monetary"] > overall["monetary"] and rank["monetary"] >= 2 / 3
        frequent = median["frequency"] > overall["frequency"] and rank["frequency"] >= 2 / 3
        low_spend = median["monetary"] < overall["monetary"] and rank["monetary"] <= 1 / 3
        if high_spend and frequent:
            value = "loyal big spenders"
        elif high_spend:
            value = "high spenders"
        elif frequent:
            value = "frequent shoppers"
        elif low_spend and median["frequency"] <= overall["frequency"]:
            value = "occasional buyers"
        elif low_spend:
            value = "light spenders"
        else:
            value = "mid-value shoppers"
        names[cluster] = f"{activity} {value}"
    return _unique_names(names)


def _unique_names(names: dict[int, str]) -> dict[int, str]:
    seen: dict[str, int] = {}
    unique = {}
    for cluster, name in names.items():
        seen[name] = seen.get(name, 0) + 1
        unique[cluster] = name if seen[name] == 1 else f"{name} ({seen[name]})"
    unique[NOISE] = "Outliers"
    return unique


# --- the whole fit ---------------------------------------------------------------------

_FIT_CACHE = OneSlotCache()


def fit_sample_rows(
    sample: pd.DataFrame, scaler: Scaler, n_customers: int, config: ClusteringConfig
) -> SampleFit:
    """Fit every algorithm on the fit sample's rows (customer_id and the features; the
    rows at fit_sample's positions of all `n_customers` in customer_id order), scaled
    with `scaler` (fitted on every customer).

    Memoized per process on the sample, the scaler and the config: the dbt models that
    publish the fit and the evaluation share one fit within a `dbt build`.
    """
    sample = sample.sort_values("customer_id", kind="stable").reset_index(drop=True)
    settings = (config, n_customers, scaler.key())
    return _FIT_CACHE.get_or_compute(
        sample, settings, lambda: _fit(sample, scaler, n_customers, config)
    )


def _fit(
    sample: pd.DataFrame, scaler: Scaler, n_customers: int, config: ClusteringConfig
) -> SampleFit:
    with threadpool_limits(limits=config.native_threads):
        return _fit_all_algorithms(sample, scaler, n_customers, config)


def _fit_all_algorithms(
    sample: pd.DataFrame, scaler: Scaler, n_customers: int, config: ClusteringConfig
) -> SampleFit:
    x = scaler.apply(sample)
    kmeans, sweep = fit_kmeans(x, config)
    if kmeans.parameters.get("fallback"):
        # Too few distinct customers to cluster: every algorithm gives one cluster.
        warnings.warn(f"Clustering: {kmeans.note}.", RuntimeWarning, stacklevel=2)
        fits = {name: single_cluster(name, x, kmeans.note or "") for name in ALGORITHMS}
        fits["kmeans"] = kmeans
    else:
        fits = {
            "kmeans": kmeans,
            "dbscan": fit_dbscan(x, config),
            "hierarchical": fit_hierarchical(x, kmeans.parameters["k"], config),
        }
    # The evaluation's silhouettes on the fit sample, computed together: fits with
    # the same noise rows (kmeans when its sample partition moved, hierarchical)
    # share the sampled distances.
    pending = [fit for fit in fits.values() if fit.sample_silhouette is None]
    for fit, value in zip(
        pending, _silhouettes(x, [f.labels for f in pending], config), strict=True
    ):
        fit.sample_silhouette = value
    return SampleFit(
        sample_ids=sample["customer_id"].to_numpy(),
        sample_scaled=x,
        n_customers=n_customers,
        scaler=scaler,
        fits=fits,
        quality={name: evaluate(fit, x, config) for name, fit in fits.items()},
        kmeans_sweep=sweep,
    )


def fit_all(frame: pd.DataFrame, config: ClusteringConfig) -> ClusteringResult:
    """The whole clustering in memory, on the features in `frame` (one row per
    customer_id): the scaler on every row, the fit on the seeded sample
    (fit_sample_rows), every customer scored in Python and numbered canonically.
    A build does the same without holding every customer: fit_in_duckdb, then
    cluster_scores and published_assignments."""
    ordered = frame.sort_values("customer_id", kind="stable").reset_index(drop=True)
    scaler = fit_scaler(ordered, config)
    index = fit_sample(len(ordered), config)
    sample_fit = fit_sample_rows(ordered.iloc[index], scaler, len(ordered), config)
    x = scaler.apply(ordered)
    ids = ordered["customer_id"].to_numpy()
    labels = {
        name: _canonical(
            Scoring.of(fit, sample_fit.sample_ids).score(x, ids, config.assign_chunk_rows)
        )
        for name, fit in sample_fit.fits.items()
    }
    return ClusteringResult(customer_ids=ids, scaled=x, labels=labels, sample_fit=sample_fit)


def _published_table(
    ordered: pd.DataFrame,
    x: np.ndarray,
    raw_labels: dict[str, np.ndarray],
    config: ClusteringConfig,
    previous: pd.DataFrame | None,
) -> pd.DataFrame:
    """Long table from every customer's raw labels: canonical numbering, the previous
    build's ids kept where clusters still match, names."""
    ids = ordered["customer_id"].to_numpy()
    parts = []
    for algorithm in ALGORITHMS:
        before = None
        if previous is not None and not previous.empty:
            before = previous.loc[previous["algorithm"] == algorithm, ["customer_id", "cluster_id"]]
        labels = match_previous(
            _canonical(raw_labels[algorithm]), x, ids, before, config.match_tolerance
        )
        names = name_clusters(ordered, labels)
        parts.append(
            pd.DataFrame(
                {
                    "customer_id": ids,
                    "algorithm": algorithm,
                    "cluster_id": labels.astype("int64"),
                    "cluster_name": pd.Series(labels).map(names).to_numpy(),
                    "is_noise": labels == NOISE,
                    "is_primary": algorithm == config.primary_algorithm,
                }
            )
        )
    return pd.concat(parts, ignore_index=True)


def assignments(
    frame: pd.DataFrame,
    config: ClusteringConfig,
    previous: pd.DataFrame | None = None,
    result: ClusteringResult | None = None,
) -> pd.DataFrame:
    """Long table: one row per customer and algorithm with a stable cluster id and name,
    all in memory (fit_all, or its `result` for this frame and config). A build
    publishes the same with published_assignments."""
    result = fit_all(frame, config) if result is None else result
    ordered = frame.sort_values("customer_id", kind="stable").reset_index(drop=True)
    return _published_table(ordered, result.scaled, result.labels, config, previous)


def check_fit_matches_config(fit: pd.DataFrame, config: ClusteringConfig) -> None:
    """Raise unless the published fit (cluster_fit) was fitted on the configured
    features, in order, with the configured log transforms: after the feature list
    changes, a fit left from before scores nonsense (cluster_scores reads the
    features from the config, the centres from the fit)."""
    scaler = Scaler.from_fit_table(fit)
    if scaler.features != tuple(config.features) or scaler.is_log != _is_log(config):
        raise ValueError(
            f"cluster_fit was fitted on features {list(scaler.features)} (log: "
            f"{[f for f, log in zip(scaler.features, scaler.is_log, strict=True) if log]}), "
            f"but the clustering config lists {list(config.features)} (log: "
            f"{[f for f in config.features if f in config.log_features]}): " + REBUILD
        )


def check_fit_id(fit_id: str, table: pd.DataFrame, what: str) -> None:
    """Raise unless every row of `table` (with a fit_id column) comes from fit `fit_id`:
    after a partial `dbt build --select`, a model may hold another fit's rows."""
    found = sorted(table["fit_id"].dropna().unique())
    if found != [fit_id] or table["fit_id"].isna().any():
        raise ValueError(
            f"{what} comes from clustering fit {', '.join(found) or '(none)'}, not from "
            f"fit {fit_id} (built with other settings or data): " + REBUILD
        )


def published_assignments(
    frame: pd.DataFrame,
    fit: pd.DataFrame,
    scores: pd.DataFrame,
    config: ClusteringConfig,
    previous: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """What cluster_assignments publishes: assignments() from the published fit
    (cluster_fit's table, `fit`) and the labels cluster_scores scored in SQL
    (customer_id, algorithm, fitted_label, fit_id); DBSCAN's nearest core within eps
    is scored here, from the fit's core customers, in chunks with a KD-tree.

    A fit for other features than `config`'s, scores from another fit than `fit` (a
    partial `dbt build --select`), or scores that miss or repeat a customer raise a
    ValueError naming the fix.
    """
    check_fit_matches_config(fit, config)
    fit_ids = sorted(fit["fit_id"].dropna().unique())
    if len(fit_ids) != 1:
        raise ValueError(f"cluster_fit holds {len(fit_ids)} fits ({fit_ids}): " + REBUILD)
    check_fit_id(fit_ids[0], scores, "cluster_scores")
    ordered = frame.sort_values("customer_id", kind="stable").reset_index(drop=True)
    ids = ordered["customer_id"].to_numpy()
    x = Scaler.from_fit_table(fit).apply(ordered)
    raw = {}
    for algorithm in ALGORITHMS:
        if algorithm in SCORED_IN_SQL:
            raw[algorithm] = _sql_labels(algorithm, scores, ids, REBUILD)
        else:
            scoring = Scoring.from_fit_table(fit, algorithm)
            raw[algorithm] = scoring.score(x, ids, config.assign_chunk_rows)
    return _published_table(ordered, x, raw, config, previous)


def _sql_labels(algorithm: str, scores: pd.DataFrame, ids: np.ndarray, rebuild: str) -> np.ndarray:
    """The fitted labels cluster_scores gave every customer for `algorithm`, in `ids` order."""
    rows = scores[scores["algorithm"] == algorithm]
    at = pd.Index(ids).get_indexer(rows["customer_id"])
    if (at < 0).any() or len(rows) != len(ids) or len(np.unique(at)) != len(at):
        raise ValueError(
            f"cluster_scores scored {len(rows):,} customers for {algorithm}, but the "
            f"feature table has {len(ids):,} (missing, extra or repeated customer ids): " + rebuild
        )
    missing = rows["fitted_label"].isna()
    if missing.any():
        raise ValueError(
            f"cluster_scores gave {int(missing.sum()):,} customers no {algorithm} label "
            f"(e.g. customer {rows.loc[missing, 'customer_id'].iloc[0]}): " + rebuild
        )
    labels = np.empty(len(ids), dtype=np.int64)
    labels[at] = rows["fitted_label"].to_numpy(dtype=np.int64)
    return labels


def evaluation_table(
    sample_fit: SampleFit, assigned: pd.DataFrame, config: ClusteringConfig
) -> pd.DataFrame:
    """One row per algorithm (chosen fits) plus one per k of the KMeans sweep.

    Quality figures come from the fit sample (`sample_fit`); cluster counts, noise
    share and n_customers (clustered, non-noise customers) from `assigned`, the
    published assignments of every customer (algorithm, cluster_id, is_noise).
    """
    n_customers = sample_fit.n_customers
    rows = []
    for algorithm, fit in sample_fit.fits.items():
        mine = assigned[assigned["algorithm"] == algorithm]
        clustered = mine.loc[~mine["is_noise"].astype(bool), "cluster_id"]
        notes = [note for note in (fit.note, sample_note(fit, n_customers)) if note]
        rows.append(
            {
                **sample_fit.quality[algorithm],
                "n_clusters": int(clustered.nunique()),
                "n_customers": len(clustered),
                "noise_share": float(1 - len(clustered) / len(mine)) if len(mine) else 0.0,
                "note": "; ".join(notes) if notes else None,
            }
        )
    chosen = pd.DataFrame(rows).assign(k=None, is_elbow=None, is_chosen=True)
    chosen["is_primary"] = chosen["algorithm"] == config.primary_algorithm
    sweep = sample_fit.kmeans_sweep.assign(
        algorithm="kmeans_sweep",
        parameters=lambda d: "k=" + d["k"].astype(str),
        n_clusters=lambda d: d["k"],
        davies_bouldin=None,
        calinski_harabasz=None,
        noise_share=0.0,
        is_primary=False,
        n_customers=n_customers,
        fit_sample_size=sample_fit.fits["kmeans"].fit_sample_size or n_customers,
        note=None,
    )
    columns = [
        "algorithm",
        "parameters",
        "n_clusters",
        "n_customers",
        "fit_sample_size",
        "k",
        "silhouette",
        "davies_bouldin",
        "calinski_harabasz",
        "inertia",
        "noise_share",
        "is_elbow",
        "is_chosen",
        "is_primary",
        "note",
    ]
    table = pd.concat([chosen[columns], sweep[columns]], ignore_index=True)
    for name in ("silhouette", "davies_bouldin", "calinski_harabasz", "inertia", "noise_share"):
        table[name] = table[name].astype(float)
    for name in ("n_clusters", "n_customers", "fit_sample_size", "k"):
        table[name] = table[name].astype("Int64")
    for name in ("is_elbow", "is_chosen", "is_primary"):
        table[name] = table[name].astype("boolean")
    table["note"] = table["note"].astype("string")
    return table


# --- the fit as a table (fit in Python on the sample, score in SQL) --------------------

SCORED_IN_SQL = ("kmeans", "hierarchical")
FIT_COLUMNS = {
    "algorithm": "string",
    "parameter": "string",
    "customer_id": "string",
    "feature": "string",
    "feature_position": "Int64",
    "centre_position": "Int64",
    "fitted_label": "Int64",
    "is_log_transformed": "boolean",
    "value": "float64",
    "fit_id": "string",
}


def fit_table(sample_fit: SampleFit) -> pd.DataFrame:
    """The fit's parameters, long: everything needed to score any customer elsewhere.

    - algorithm 'scaler', parameter median / mean / std: one row per feature
      (is_log_transformed: log1p of the value clipped at 0 comes first);
    - per algorithm, parameter 'centre': one row per centre and feature in
      standardized units (KMeans centres, Ward centroids, DBSCAN core customers);
      centre_position is the order nearest-centre ties go by (the lowest),
      fitted_label the label a customer nearest to it gets;
    - parameter 'radius' (DBSCAN: eps): farther than this from every centre is noise;
    - parameter 'member': a customer the fit labelled itself (Ward's sample, DBSCAN's
      fit sample), whose fitted_label overrides the nearest centre.
    fit_id, the same on every row, identifies this fit: cluster_scores carries it, so
    cluster_assignments can refuse scores from another fit. cluster_scores scores
    kmeans and hierarchical in SQL; DBSCAN's nearest core within eps over tens of
    thousands of cores is a spatial-index query (a KD-tree in published_assignments):
    in SQL (a grid join) it took 4.9x the KD-tree's time at 1M customers
    (bench/dbscan_scoring.py).
    """
    scaler = sample_fit.scaler
    rows: list[dict] = []
    for position, feature in enumerate(scaler.features):
        for parameter, values in (
            ("median", scaler.medians),
            ("mean", scaler.means),
            ("std", scaler.stds),
        ):
            value = float(values[position])
            rows.append(
                {
                    "algorithm": "scaler",
                    "parameter": parameter,
                    "feature": feature,
                    "feature_position": position,
                    "is_log_transformed": scaler.is_log[position],
                    "value": None if np.isnan(value) else value,
                }
            )
    for algorithm, fit in sample_fit.fits.items():
        for centre_position, (centre, label) in enumerate(
            zip(fit.centres, fit.centre_labels, strict=True)
        ):
            for position, feature in enumerate(scaler.features):
                rows.append(
                    {
                        "algorithm": algorithm,
                        "parameter": "centre",
                        "feature": feature,
                        "feature_position": position,
                        "centre_position": centre_position,
                        "fitted_label": int(label),
                        "value": float(centre[position]),
                    }
                )
        if fit.radius is not None:
            rows.append({"algorithm": algorithm, "parameter": "radius", "value": fit.radius})
        if fit.member_positions is not None:
            for index in fit.member_positions:
                rows.append(
                    {
                        "algorithm": algorithm,
                        "parameter": "member",
                        "customer_id": sample_fit.sample_ids[index],
                        "fitted_label": int(fit.labels[index]),
                    }
                )
    table = pd.DataFrame(rows, columns=list(FIT_COLUMNS)).astype(FIT_COLUMNS)
    digest = hashlib.sha256(pd.util.hash_pandas_object(table, index=False).to_numpy().tobytes())
    table["fit_id"] = digest.hexdigest()[:16]
    return table.astype(FIT_COLUMNS)
