"""frames.is_in must answer exactly what pandas' isin answers, for every dtype."""

import numpy as np
import pandas as pd
import pytest

from marketing_engine.frames import is_in

TEXT = pd.Series(["C1", None, "C3", "C2", "C1", ""], dtype="str")


@pytest.mark.parametrize(
    "allowed",
    [
        ["C1"],
        pd.Index(["C2", "C3", "C9"]),
        pd.Series(["C1", None], dtype="str"),
        {"", "C3"},
        np.array(["C2"], dtype=object),
        [],
        [None],
        [1, "C1"],
        {"C1": 1},
        pd.Index([1, 2]),
    ],
    ids=[
        "list",
        "index",
        "with-null",
        "set",
        "object-array",
        "empty",
        "only-null",
        "mixed",
        "dict",
        "numbers",
    ],
)
def test_text_membership_equals_pandas_isin(allowed):
    expected = TEXT.isin(allowed).to_numpy(dtype=bool)
    got = is_in(TEXT, allowed)
    assert got.dtype == bool
    assert got.tolist() == expected.tolist()


def test_other_dtypes_keep_pandas_isin():
    numbers = pd.Series([1, 2, 3, 2])
    assert is_in(numbers, [2]).tolist() == [False, True, False, True]
    objects = pd.Series([None, np.nan, "C1", 1], dtype=object)
    for allowed in ([np.nan], ["C1", 1], [None]):
        assert is_in(objects, allowed).tolist() == objects.isin(allowed).tolist()


def test_a_generator_of_ids_is_read_once_and_matched():
    matched = is_in(TEXT, (v for v in ["C2", "C3"]))
    assert matched.tolist() == [False, False, True, True, False, False]


def test_many_ids_against_a_large_set_match_pandas():
    rng = np.random.default_rng(7)
    ids = pd.Series([f"C{i:07d}" for i in rng.permutation(200_000)], dtype="str")
    allowed = pd.Index([f"C{i:07d}" for i in range(0, 300_000, 3)])
    assert np.array_equal(is_in(ids, allowed), ids.isin(allowed).to_numpy())
