"""Bad input raises ValueError naming the column and the row (or the series)."""

import numpy as np
import pytest

import gpulstm
from conftest import SMALL


def test_h_other_than_one(sample_pd):
    with pytest.raises(ValueError, match=r"h=2: only one-step-ahead"):
        gpulstm.cross_validation(sample_pd, h=2, **SMALL)


def test_missing_column(sample_pd):
    with pytest.raises(ValueError, match=r'column "y" \(target_col\) is not in the frame'):
        gpulstm.cross_validation(sample_pd.drop(columns="y"), **SMALL)
    with pytest.raises(ValueError, match=r'column "series" \(id_col\)'):
        gpulstm.cross_validation(sample_pd, id_col="series", **SMALL)


def test_nan_in_y(sample_pd):
    df = sample_pd.copy()
    df.loc[7, "y"] = np.nan
    with pytest.raises(ValueError, match=r'row 7 \(column "y", series "AAPL".*NaN is not a finite number'):
        gpulstm.cross_validation(df, **SMALL)


def test_unsorted_dates(sample_pd):
    df = sample_pd.copy()
    df.loc[[10, 11]] = df.loc[[11, 10]].to_numpy()
    with pytest.raises(ValueError, match=r'row 11 \(column "ds"\): series "AAPL" goes back in time'):
        gpulstm.cross_validation(df, **SMALL)


def test_duplicate_dates(sample_pd):
    df = sample_pd.copy()
    df.loc[12, "ds"] = df.loc[11, "ds"]
    with pytest.raises(ValueError, match=r'rows 11 and 12 \(column "ds"\): series "AAPL" has the date .* twice'):
        gpulstm.cross_validation(df, **SMALL)


def test_series_too_short(sample_pd):
    pd = pytest.importorskip("pandas")
    short = sample_pd.head(30).assign(unique_id="TINY")
    with pytest.raises(ValueError, match=r"TINY"):
        gpulstm.cross_validation(pd.concat([sample_pd, short], ignore_index=True), **SMALL)


def test_wrong_dtypes(sample_pd):
    with pytest.raises(ValueError, match=r'column "y" has dtype object; expected numbers'):
        gpulstm.cross_validation(sample_pd.assign(y=sample_pd["y"].astype(str).astype(object)), **SMALL)
    with pytest.raises(ValueError, match=r'column "ds" has dtype .*expected dates'):
        gpulstm.cross_validation(sample_pd.assign(ds=sample_pd["ds"].dt.strftime("%Y-%m-%d")), **SMALL)
    with pytest.raises(ValueError, match=r'row 0 \(column "ds"\): .* has a time of day'):
        gpulstm.cross_validation(sample_pd.assign(ds=sample_pd["ds"] + np.timedelta64(9, "h")), **SMALL)


def test_bad_settings(sample_pd):
    with pytest.raises(ValueError, match=r"window='sliding'"):
        gpulstm.cross_validation(sample_pd, **{**SMALL, "window": "sliding"})
    with pytest.raises(ValueError, match=r"--layers|layer"):
        gpulstm.cross_validation(sample_pd, **{**SMALL, "layers": "lstm:8"})
    with pytest.raises(TypeError, match=r"pandas or polars DataFrame"):
        gpulstm.cross_validation({"y": [1.0]}, **SMALL)
