"""Forecast error on held-back history, against a naive forecast (last period repeated)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .model import forecast_series


@dataclass(frozen=True)
class ForecastError:
    mape: float            # mean absolute percentage error over periods with demand > 0
    wape: float            # Σ|error| / Σ actual
    naive_mape: float
    naive_wape: float
    series: int


def _errors(actual: np.ndarray, predicted: np.ndarray) -> tuple[float, float, float, float]:
    abs_err = np.abs(actual - predicted)
    mask = actual > 0
    return (float((abs_err[mask] / actual[mask]).sum()), int(mask.sum()), float(abs_err.sum()),
            float(actual.sum()))


def holdout_error(series: dict, holdout: int, *, season_length: int = 52) -> ForecastError:
    """Fit each series on all but its last ``holdout`` periods, forecast them, compare."""
    sums = np.zeros(4)
    naive = np.zeros(4)
    n = 0
    for y in series.values():
        y = np.asarray(y, dtype=float)
        if len(y) <= holdout + 1:
            continue
        train, test = y[:-holdout], y[-holdout:]
        f = forecast_series(train, holdout, season_length=season_length).mean
        sums += _errors(test, f)
        naive += _errors(test, np.full(holdout, train[-1]))
        n += 1

    def ratio(a, b):
        return a / b if b else float("nan")

    return ForecastError(ratio(sums[0], sums[1]), ratio(sums[2], sums[3]),
                         ratio(naive[0], naive[1]), ratio(naive[2], naive[3]), n)
