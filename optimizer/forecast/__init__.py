"""Demand forecasting for replenishment: per-(SKU, node) period demand from daily history,
planner overrides and promotion uplifts, held-back error against a naive forecast, and
safety stock from demand and lead-time variability and a target service level."""

from .model import SeriesForecast, forecast_demand, forecast_series, period_series
from .error import ForecastError, holdout_error
from .safety import safety_stock

__all__ = ["ForecastError", "SeriesForecast", "forecast_demand", "forecast_series",
           "holdout_error", "period_series", "safety_stock"]
