"""Customer clustering: KMeans, DBSCAN and Ward hierarchical, evaluated and with stable labels.

Scaling: features listed in `log_features` are log1p-transformed (recency,
frequency and money are heavy-tailed), then every feature is standardized to
mean 0 and standard deviation 1, so each counts equally in distances.

Memory: DBSCAN and Ward are quadratic, and even KMeans' k sweep is costly on
millions of rows, so every algorithm, the choice of k and eps and every quality
figure work on ONE seeded sample of `fit_sample_size` customers (Ward on its
first `hierarchical_sample_size`, silhouette on `silhouette_sample_size` of it).
With fewer customers than that, the sample is everyone. Then every customer is
assigned in one vectorised pass, in chunks of `assign_chunk_rows` rows so memory
stays bounded: to the nearest centre (KMeans), the nearest cluster centroid
(Ward) or the nearest DBSCAN core point within eps (else noise). The evaluation
says how many customers the fit used and, when that is not everyone, that the
others were assigned by nearest centre.

Stability: clusters are numbered in a canonical order (largest first), then
matched to the previous run by Hungarian matching on centroids, where the
previous run's centroid of a cluster is the mean of its former members'
current features; a cluster keeps its id while it still matches.
"""

from __future__ import annotations

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

from marketing_engine.memo import OneSlotCache
from marketing_engine.settings import FromConfig

ALGORITHMS = ("kmeans", "dbscan", "hierarchical")
NOISE = -1


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
    """One algorithm's labels for every customer, in canonical order (0 = largest)."""

    algorithm: str
    labels: np.ndarray
    parameters: dict
    inertia: float | None = None
    note: str | None = None
    fit_sample_size: int | None = None
    # The silhouette already computed on the fit sample's labels (KMeans sweep), if any.
    sample_silhouette: float | None = None
    # What scores a customer outside the fit (published in cluster_fit, applied in SQL by
    # cluster_scores): the centres in the order argmin sees them, each centre's canonical
    # cluster id (None: nearest to nobody), and customers whose label the fit itself set
    # (Ward's sample), by row position, with their canonical labels.
    centres: np.ndarray | None = None
    centre_ids: list[int | None] | None = None
    member_index: np.ndarray | None = None


@dataclass
class ClusteringResult:
    """Everything the dbt models publish from one fit."""

    customer_ids: np.ndarray
    scaled: np.ndarray
    fits: dict[str, AlgorithmFit]
    evaluation: pd.DataFrame
    kmeans_sweep: pd.DataFrame = field(default_factory=pd.DataFrame)
    scaler: Scaler | None = None


# --- features ----------------------------------------------------------------------


@dataclass(frozen=True)
class Scaler:
    """The fitted feature scaling: per feature, whether log1p applies, the median that
    imputes a missing value (after the log) and the mean and standard deviation that
    standardize it. Fitted on every customer, published in cluster_fit so SQL can
    apply it (cluster_scores)."""

    features: tuple[str, ...]
    is_log: tuple[bool, ...]
    medians: np.ndarray
    means: np.ndarray
    stds: np.ndarray


def _transformed(frame: pd.DataFrame, config: ClusteringConfig) -> pd.DataFrame:
    missing = [name for name in config.features if name not in frame.columns]
    if missing:
        raise KeyError(
            f"clustering features {missing} are not columns of the feature table; "
            f"available: {sorted(frame.columns)}"
        )
    values = frame[list(config.features)].astype(float).copy()
    for name in config.log_features:
        if name in values:
            values[name] = np.log1p(values[name].clip(lower=0))
    return values


def _scale(frame: pd.DataFrame, config: ClusteringConfig) -> tuple[np.ndarray, Scaler]:
    values = _transformed(frame, config)
    medians = values.median()
    matrix = values.fillna(medians).fillna(0.0).to_numpy()
    means = matrix.mean(axis=0)
    std = matrix.std(axis=0)
    std[std == 0] = 1.0
    scaler = Scaler(
        features=tuple(config.features),
        is_log=tuple(name in config.log_features for name in config.features),
        medians=medians.to_numpy(dtype=float),
        means=means,
        stds=std,
    )
    return (matrix - means) / std, scaler


def prepare_features(frame: pd.DataFrame, config: ClusteringConfig) -> np.ndarray:
    """Log-transform, impute (median) and standardize the configured feature columns."""
    return _scale(frame, config)[0]


def fit_scaler(frame: pd.DataFrame, config: ClusteringConfig) -> Scaler:
    """The scaling prepare_features applies, as parameters (see Scaler)."""
    return _scale(frame, config)[1]


def _sample(n: int, size: int, rng: np.random.Generator) -> np.ndarray:
    if n <= size:
        return np.arange(n)
    return np.sort(rng.choice(n, size, replace=False))


def fit_sample(n: int, config: ClusteringConfig) -> np.ndarray:
    """Sorted row positions of the one seeded sample every fit uses (everyone if n is small)."""
    return _sample(n, config.fit_sample_size, np.random.default_rng(config.random_state))


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


def _centre_ids(mapping: dict, n_centres: int) -> list[int | None]:
    """Canonical id of each raw centre 0..n-1; None for a centre nearest to nobody."""
    return [int(mapping[c]) if c in mapping else None for c in range(n_centres)]


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
    """The fallback fit: every customer in cluster 0, with the reason."""
    labels = np.zeros(len(x), dtype=int)
    inertia = float(((x - x.mean(axis=0)) ** 2).sum()) if len(x) else 0.0
    return AlgorithmFit(algorithm, labels, {"k": 1, "fallback": "single cluster"}, inertia, note)


def fit_kmeans(x: np.ndarray, config: ClusteringConfig) -> tuple[AlgorithmFit, pd.DataFrame]:
    """KMeans for every k in range on a sample; the best silhouette wins; elbow recorded.

    Too few distinct customers for k_min clusters: one cluster, with a note saying why.
    """
    index = fit_sample(len(x), config)
    sample = x[index]
    n_distinct = distinct_points(sample)
    ks = k_range(len(sample), n_distinct, config)
    note = too_few_points_note(len(sample), n_distinct, config)
    if note is not None:
        empty = pd.DataFrame({c: pd.Series(dtype=t) for c, t in SWEEP_COLUMNS.items()})
        return single_cluster("kmeans", x, note), empty.assign(is_elbow=False, is_chosen=False)
    if ks.stop - 1 < config.k_max:
        note = (
            f"k tried up to {ks.stop - 1}, not {config.k_max}: only {len(sample)} customers "
            f"with {n_distinct} distinct feature values"
        )
    models = {
        k: KMeans(n_clusters=k, n_init=4, random_state=config.random_state).fit(sample) for k in ks
    }
    # Every k's silhouette from one pass over the sampled points' distances.
    silhouettes = _silhouettes(sample, [model.labels_ for model in models.values()], config)
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
    nearest, _ = nearest_point(x, best.cluster_centers_, config.assign_chunk_rows)
    mapping = _canonical_mapping(nearest)
    labels = _relabel(nearest, mapping)
    parameters = {"k": best_k, "n_init": 4}
    fit = AlgorithmFit("kmeans", labels, parameters, float(best.inertia_), note, len(sample))
    fit.centres = best.cluster_centers_.copy()
    fit.centre_ids = _centre_ids(mapping, len(fit.centres))
    if np.array_equal(_canonical(best.labels_), _canonical(labels[index])):
        # Same partition of the same sample: the evaluation's silhouette is the sweep's.
        chosen = sweep.loc[sweep["is_chosen"], "silhouette"].iloc[0]
        fit.sample_silhouette = None if pd.isna(chosen) else float(chosen)
    return fit, sweep


def fit_dbscan(x: np.ndarray, config: ClusteringConfig) -> AlgorithmFit:
    """DBSCAN with eps at the knee of the k-distance curve; the rest join the nearest core."""
    index = fit_sample(len(x), config)
    sample = x[index]
    min_samples = min(config.dbscan_min_samples, len(sample) - 1)
    distances, _ = NearestNeighbors(n_neighbors=min_samples).fit(sample).kneighbors(sample)
    k_distance = np.sort(distances[:, -1])
    eps = float(k_distance[knee_index(k_distance)])
    eps = eps if eps > 0 else float(k_distance[k_distance > 0].min(initial=1e-6))
    model = DBSCAN(eps=eps, min_samples=min_samples).fit(sample)
    labels = np.full(len(x), NOISE, dtype=int)
    labels[index] = model.labels_
    rest = np.setdiff1d(np.arange(len(x)), index, assume_unique=True)
    core = model.core_sample_indices_
    if rest.size and core.size:
        position, distance = nearest_point(x[rest], sample[core], config.assign_chunk_rows)
        core_labels = model.labels_[core][position]
        labels[rest] = np.where(distance <= eps, core_labels, NOISE)
    parameters = {"eps": round(eps, 6), "min_samples": int(min_samples)}
    return AlgorithmFit("dbscan", _canonical(labels), parameters, fit_sample_size=len(index))


def fit_hierarchical(x: np.ndarray, n_clusters: int, config: ClusteringConfig) -> AlgorithmFit:
    """Ward agglomerative clustering on a sample; every customer joins the nearest centroid.

    The sample is the first `hierarchical_sample_size` of the fit sample (seeded).
    """
    shared = fit_sample(len(x), config)
    rng = np.random.default_rng(config.random_state + 2)
    index = shared[_sample(len(shared), config.hierarchical_sample_size, rng)]
    sample = x[index]
    n_clusters = min(n_clusters, len(sample))
    fitted = AgglomerativeClustering(n_clusters=n_clusters, linkage="ward").fit_predict(sample)
    centroids = np.vstack([sample[fitted == c].mean(axis=0) for c in range(n_clusters)])
    labels, _ = nearest_point(x, centroids, config.assign_chunk_rows)
    labels[index] = fitted
    parameters = {"n_clusters": int(n_clusters), "linkage": "ward"}
    mapping = _canonical_mapping(labels)
    fit = AlgorithmFit(
        "hierarchical", _relabel(labels, mapping), parameters, fit_sample_size=len(index)
    )
    fit.centres = centroids
    fit.centre_ids = _centre_ids(mapping, len(centroids))
    fit.member_index = index
    return fit


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
    """Silhouette (sampled), Davies-Bouldin and Calinski-Harabasz on the fit sample.

    The quality figures use the non-noise customers of the one fit sample (everyone
    when there are fewer than fit_sample_size); cluster count and noise share use
    every customer.
    """
    keep = fit.labels != NOISE
    n_clusters = len(np.unique(fit.labels[keep]))
    notes = [note for note in (fit.note, sample_note(fit, len(x))) if note]
    row = {
        "algorithm": fit.algorithm,
        "parameters": ", ".join(f"{k}={v}" for k, v in fit.parameters.items()),
        "n_clusters": n_clusters,
        "silhouette": None,
        "davies_bouldin": None,
        "calinski_harabasz": None,
        "inertia": fit.inertia,
        "noise_share": float(1 - keep.mean()) if len(keep) else 0.0,
        "fit_sample_size": fit.fit_sample_size if fit.fit_sample_size is not None else len(x),
        "note": "; ".join(notes) if notes else None,
    }
    sample = fit_sample(len(x), config)
    labels = fit.labels[sample]
    index = sample[labels != NOISE]
    if len(np.unique(fit.labels[index])) >= 2:
        row["silhouette"] = (
            fit.sample_silhouette
            if fit.sample_silhouette is not None
            else _silhouette(x[sample], labels, config)
        )
        row["davies_bouldin"] = float(davies_bouldin_score(x[index], fit.labels[index]))
        row["calinski_harabasz"] = float(calinski_harabasz_score(x[index], fit.labels[index]))
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
    position = pd.Series(np.arange(len(customer_ids)), index=customer_ids)
    previous = previous[previous["cluster_id"] != NOISE]
    previous = previous[previous["customer_id"].isin(position.index)]
    if previous.empty or not current:
        return labels
    old_ids = sorted(previous["cluster_id"].unique())
    old_centroids = np.vstack(
        [
            x[position[previous.loc[previous["cluster_id"] == old, "customer_id"]].to_numpy()].mean(
                axis=0
            )
            for old in old_ids
        ]
    )
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
            before = before[before["customer_id"].isin(assigned.loc[rows, "customer_id"])]
        if previous_error:
            continue
        if before.empty:
            origin[rows] = "no previous build"
        else:
            kept = assigned.loc[rows, "cluster_id"].isin(set(before["cluster_id"]))
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


def fit_all(frame: pd.DataFrame, config: ClusteringConfig) -> ClusteringResult:
    """Fit every algorithm on the features in `frame` (one row per customer_id).

    Memoized per process on the data and config: the dbt models that publish the
    assignments and the evaluation share one fit within a `dbt build`.
    """
    frame = frame.sort_values("customer_id", kind="stable").reset_index(drop=True)
    return _FIT_CACHE.get_or_compute(frame, config, lambda: _fit(frame, config))


def _fit(frame: pd.DataFrame, config: ClusteringConfig) -> ClusteringResult:
    with threadpool_limits(limits=config.native_threads):
        return _fit_all_algorithms(frame, config)


def _fit_all_algorithms(frame: pd.DataFrame, config: ClusteringConfig) -> ClusteringResult:
    x, scaler = _scale(frame, config)
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
    sample = fit_sample(len(x), config)
    pending = [fit for fit in fits.values() if fit.sample_silhouette is None]
    for fit, value in zip(
        pending, _silhouettes(x[sample], [f.labels[sample] for f in pending], config), strict=True
    ):
        fit.sample_silhouette = value
    rows = [evaluate(fit, x, config) for fit in fits.values()]
    evaluation = pd.DataFrame(rows)
    evaluation["is_primary"] = evaluation["algorithm"] == config.primary_algorithm
    return ClusteringResult(
        customer_ids=frame["customer_id"].to_numpy(),
        scaled=x,
        fits=fits,
        evaluation=evaluation,
        kmeans_sweep=sweep,
        scaler=scaler,
    )


def assignments(
    frame: pd.DataFrame,
    config: ClusteringConfig,
    previous: pd.DataFrame | None = None,
    scores: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Long table: one row per customer and algorithm with a stable cluster id and name.

    `scores` (customer_id, algorithm, cluster_id: cluster_scores) gives the canonical
    labels of the algorithms scored in SQL; the others come from the Python fit.
    """
    result = fit_all(frame, config)
    ordered = frame.sort_values("customer_id", kind="stable").reset_index(drop=True)
    parts = []
    for algorithm, fit_labels in scored_labels(result, scores).items():
        before = None
        if previous is not None and not previous.empty:
            before = previous.loc[previous["algorithm"] == algorithm, ["customer_id", "cluster_id"]]
        labels = match_previous(
            fit_labels, result.scaled, result.customer_ids, before, config.match_tolerance
        )
        names = name_clusters(ordered, labels)
        parts.append(
            pd.DataFrame(
                {
                    "customer_id": result.customer_ids,
                    "algorithm": algorithm,
                    "cluster_id": labels.astype("int64"),
                    "cluster_name": pd.Series(labels).map(names).to_numpy(),
                    "is_noise": labels == NOISE,
                    "is_primary": algorithm == config.primary_algorithm,
                }
            )
        )
    return pd.concat(parts, ignore_index=True)


def evaluation_table(
    frame: pd.DataFrame, config: ClusteringConfig, assigned: pd.DataFrame | None = None
) -> pd.DataFrame:
    """One row per algorithm (chosen fits) plus one per k of the KMeans sweep.

    With `assigned` (the published assignments), n_customers counts each
    algorithm's clustered (non-noise) customers there.
    """
    result = fit_all(frame, config)
    chosen = result.evaluation.assign(k=None, is_elbow=None, is_chosen=True)
    if assigned is not None:
        clustered = assigned[~assigned["is_noise"]].groupby("algorithm").size()
        chosen["n_customers"] = chosen["algorithm"].map(clustered).fillna(0)
    else:
        chosen["n_customers"] = [int((f.labels != NOISE).sum()) for f in result.fits.values()]
    sweep = result.kmeans_sweep.assign(
        algorithm="kmeans_sweep",
        parameters=lambda d: "k=" + d["k"].astype(str),
        n_clusters=lambda d: d["k"],
        davies_bouldin=None,
        calinski_harabasz=None,
        noise_share=0.0,
        is_primary=False,
        n_customers=len(result.customer_ids),
        fit_sample_size=result.fits["kmeans"].fit_sample_size or len(result.customer_ids),
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
    "cluster_id": "Int64",
    "is_log_transformed": "boolean",
    "value": "float64",
}


def fit_table(result: ClusteringResult) -> pd.DataFrame:
    """The fit's parameters, long: what cluster_scores needs to score any customer in SQL.

    - algorithm 'scaler', parameter median / mean / std: one row per feature
      (is_log_transformed: log1p of the value clipped at 0 comes first);
    - kmeans and hierarchical, parameter 'centre': one row per centre and feature in
      standardized units; centre_position is the order argmin breaks ties in,
      cluster_id the canonical id (largest cluster 0; null when nearest to nobody);
    - hierarchical, parameter 'member': the customers Ward itself labelled (its
      sample), whose label overrides the nearest centroid.
    DBSCAN is not in the table: it is scored in Python (nearest core customer
    within eps needs a spatial index over tens of thousands of cores).
    """
    scaler = result.scaler
    if scaler is None:
        raise ValueError("the clustering result carries no scaler: fit it with fit_all")
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
    for algorithm in SCORED_IN_SQL:
        fit = result.fits[algorithm]
        centres, centre_ids = fit.centres, fit.centre_ids
        if centres is None or centre_ids is None:
            # The single-cluster fallback: one centre, everyone nearest to it.
            centres, centre_ids = np.zeros((1, len(scaler.features))), [0]
        for centre_position, (centre, cluster_id) in enumerate(
            zip(centres, centre_ids, strict=True)
        ):
            for position, feature in enumerate(scaler.features):
                rows.append(
                    {
                        "algorithm": algorithm,
                        "parameter": "centre",
                        "feature": feature,
                        "feature_position": position,
                        "centre_position": centre_position,
                        "cluster_id": cluster_id,
                        "value": float(centre[position]),
                    }
                )
        if fit.member_index is not None:
            for index in fit.member_index:
                rows.append(
                    {
                        "algorithm": algorithm,
                        "parameter": "member",
                        "customer_id": result.customer_ids[index],
                        "cluster_id": int(fit.labels[index]),
                    }
                )
    table = pd.DataFrame(rows, columns=list(FIT_COLUMNS))
    return table.astype(FIT_COLUMNS)


def scored_labels(result: ClusteringResult, scores: pd.DataFrame | None) -> dict[str, np.ndarray]:
    """Per algorithm, the labels to publish: those scored in SQL (cluster_scores:
    customer_id, algorithm, cluster_id) where given, else the Python fit's own.

    The SQL scores must cover every fitted customer once, with a cluster id, and agree
    with the fit: a customer may differ only where two centres are equally near to
    rounding (see _check_scores_match_the_fit). Anything else means cluster_fit was
    built from another fit (a partial `dbt build --select`): a ValueError says so.
    """
    labels = {algorithm: fit.labels for algorithm, fit in result.fits.items()}
    if scores is None:
        return labels
    position = pd.Index(result.customer_ids)
    rebuild = "rebuild cluster_fit and cluster_scores together (dbt build -s +cluster_assignments)"
    for algorithm, rows in scores.groupby("algorithm"):
        if algorithm not in labels:
            continue
        at = position.get_indexer(rows["customer_id"])
        if (at < 0).any() or len(rows) != len(position) or len(np.unique(at)) != len(at):
            raise ValueError(
                f"cluster_scores scored {len(rows):,} customers for {algorithm}, but the "
                f"fit has {len(position):,} (missing, extra or repeated customer ids): " + rebuild
            )
        missing = rows["cluster_id"].isna()
        if missing.any():
            raise ValueError(
                f"cluster_scores gave {int(missing.sum()):,} customers no {algorithm} cluster "
                f"id (e.g. customer {rows.loc[missing, 'customer_id'].iloc[0]}: nearest to a "
                "centre no fitted customer was nearest to): " + rebuild
            )
        scored = np.full(len(position), NOISE - 1, dtype=np.int64)
        scored[at] = rows["cluster_id"].to_numpy(dtype=np.int64)
        _check_scores_match_the_fit(str(algorithm), result, scored, rebuild)
        labels[str(algorithm)] = scored
    return labels


# Two squared distances closer than this (relative) are a tie to rounding: SQL's ln(1 + x)
# and numpy's log1p, or another summation order, may pick either centre.
TIE_TOLERANCE = 1e-9


def _check_scores_match_the_fit(
    algorithm: str, result: ClusteringResult, scored: np.ndarray, rebuild: str
) -> None:
    """Raise unless every customer scored into another cluster than the fit's own
    nearest-centre label was equally near (to TIE_TOLERANCE) both centres."""
    fit = result.fits[algorithm]
    differ = np.flatnonzero(scored != fit.labels)
    if not len(differ):
        return
    position_of = {
        cluster_id: position
        for position, cluster_id in enumerate(fit.centre_ids or [])
        if cluster_id is not None
    }
    members = set() if fit.member_index is None else set(fit.member_index.tolist())

    def tied(index: int) -> bool:
        """Equally near (to rounding) the scored centre and the fit's own."""
        chosen, own = position_of.get(int(scored[index])), position_of.get(int(fit.labels[index]))
        if fit.centres is None or chosen is None or own is None or index in members:
            return False
        point = result.scaled[index]
        near_chosen = float(np.sum((point - fit.centres[chosen]) ** 2))
        near_own = float(np.sum((point - fit.centres[own]) ** 2))
        return abs(near_chosen - near_own) <= TIE_TOLERANCE * max(near_own, 1e-12)

    moved = [int(index) for index in differ if not tied(int(index))]
    if moved:
        index = moved[0]
        raise ValueError(
            f"cluster_scores put {len(moved):,} customers in another {algorithm} cluster "
            f"than the fit (e.g. customer {result.customer_ids[index]}: "
            f"{int(scored[index])}, the fit says {int(fit.labels[index])}), so cluster_fit "
            "comes from another fit or feature list: " + rebuild
        )
