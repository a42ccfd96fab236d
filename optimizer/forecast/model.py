"""Exponential smoothing per series: level, damped trend when the data supports it, and a
multiplicative seasonal pattern when at least two full seasons of history exist.

``period_series`` buckets daily history into periods of ``period_days`` ending the day
before ``start``; ``forecast_demand`` forecasts every (SKU, node) and applies planner
overrides (replace) and promotion uplifts (multiply).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

ALPHA = 0.3            # level smoothing
BETA = 0.1             # trend smoothing
PHI = 0.9              # trend damping: long horizons flatten out
MIN_TREND_PERIODS = 8  # fewer periods of history: level only
MAX_SERIES = 200_000
MAX_HISTORY_PERIODS = 520


@dataclass(frozen=True)
class SeriesForecast:
    mean: np.ndarray     # forecast per future period
    sigma: float         # std of one-step-ahead in-sample errors (demand variability)
    trend: bool
    seasonal: bool


def period_series(history: pd.DataFrame, *, start: dt.date, n_periods: int,
                  period_days: int) -> dict[tuple[str, str], np.ndarray]:
    """Units per (sku, node) in each of the n_periods periods before ``start`` (oldest first)."""
    if n_periods > MAX_HISTORY_PERIODS:
        raise ValueError(f"at most {MAX_HISTORY_PERIODS} history periods")
    if history.empty:
        return {}
    days = (pd.Timestamp(start) - pd.to_datetime(history["day"])).dt.days
    bucket = n_periods - 1 - (days - 1) // period_days
    keep = (days >= 1) & (bucket >= 0)
    frame = pd.DataFrame({"sku": history["sku"][keep], "node": history["node"][keep],
                          "b": bucket[keep].astype(int), "u": history["units"][keep]})
    out: dict[tuple[str, str], np.ndarray] = {}
    for (sku, node), g in frame.groupby(["sku", "node"], sort=True):
        series = np.zeros(n_periods)
        np.add.at(series, g["b"].to_numpy(), g["u"].to_numpy(dtype=float))
        out[(str(sku), str(node))] = series
    if len(out) > MAX_SERIES:
        raise ValueError(f"at most {MAX_SERIES} (sku, node) series")
    return out


def forecast_series(y: np.ndarray, horizon: int, *, season_length: int = 52) -> SeriesForecast:
    y = np.asarray(y, dtype=float)
    sold = np.flatnonzero(y > 0)
    y = y[sold[0]:] if len(sold) else y[:0]   # history starts at the first sale
    n = len(y)
    if n == 0:
        return SeriesForecast(np.zeros(horizon), 0.0, False, False)
    seasonal = season_length > 1 and n >= 2 * season_length and y.sum() > 0
    index = np.ones(season_length if seasonal else 1)
    if seasonal:
        seasons = y[n - (n // season_length) * season_length:].reshape(-1, season_length)
        means = seasons.mean(axis=1, keepdims=True)
        ratios = np.where(means > 0, seasons / np.where(means > 0, means, 1), 1.0)
        index = ratios.mean(axis=0)
        index = index / index.mean() if index.mean() > 0 else np.ones(season_length)
        index = np.clip(index, 0.1, 10.0)
    offset = (n - (n // season_length) * season_length) if seasonal else 0

    def season(t: int) -> float:
        return float(index[(t - offset) % season_length]) if seasonal else 1.0

    use_trend = n >= MIN_TREND_PERIODS
    level = y[: min(4, n)].mean() / 1.0
    trend = 0.0
    errors = []
    for t in range(n):
        f = (level + PHI * trend) * season(t)
        errors.append(y[t] - f)
        x = y[t] / season(t)
        new_level = ALPHA * x + (1 - ALPHA) * (level + PHI * trend)
        if use_trend:
            trend = BETA * (new_level - level) + (1 - BETA) * PHI * trend
        level = new_level
    steps = np.cumsum(PHI ** np.arange(1, horizon + 1)) if use_trend else np.zeros(horizon)
    mean = np.array([max(0.0, (level + steps[h] * trend) * season(n + h)) for h in range(horizon)])
    burn = min(len(errors) // 4, 4)
    sigma = float(np.std(errors[burn:])) if len(errors) - burn > 1 else float(np.std(y))
    return SeriesForecast(mean, sigma, use_trend, seasonal)


def forecast_demand(history: pd.DataFrame, *, start: dt.date, periods: int, period_days: int,
                    history_periods: int = 52, season_length: int | None = None,
                    overrides: list[dict] | None = None,
                    uplifts: list[dict] | None = None) -> dict[tuple[str, str], SeriesForecast]:
    """Forecast per (sku, node). ``overrides``: rows {sku, node, period, qty} replacing the
    forecast; ``uplifts``: rows {sku, node (None = every node), period, factor} multiplying it
    (promotions). ``season_length`` defaults to a year of periods."""
    season_length = season_length or max(1, round(364 / period_days))
    series = period_series(history, start=start, n_periods=history_periods,
                           period_days=period_days)
    out = {key: forecast_series(y, periods, season_length=season_length)
           for key, y in series.items()}
    for row in uplifts or []:
        for (sku, node), f in out.items():
            if sku == row["sku"] and row.get("node") in (None, node) and 0 <= row["period"] < periods:
                f.mean[row["period"]] *= float(row["factor"])
    for row in overrides or []:
        key = (row["sku"], row["node"])
        if key not in out:
            out[key] = SeriesForecast(np.zeros(periods), 0.0, False, False)
        if 0 <= row["period"] < periods:
            out[key].mean[row["period"]] = float(row["qty"])
    return out
