"""Safety stock from demand variability, lead time and its variability, and a service level.

    safety_stock = z(service_level) · sqrt((L + R)·σ_d² + d̄²·σ_L²)

with σ_d the std of per-period demand (forecast error), d̄ the mean per-period demand,
L and σ_L the lead time and its std in periods, R the review period.
"""

from __future__ import annotations

import math
from statistics import NormalDist


def safety_stock(*, sigma_demand: float, mean_demand: float, lead_time_periods: float,
                 lead_time_std_periods: float = 0.0, service_level: float = 0.95,
                 review_periods: float = 1.0) -> int:
    if not 0.5 <= service_level < 1.0:
        raise ValueError("service_level must be in [0.5, 1)")
    if min(sigma_demand, mean_demand, lead_time_periods, lead_time_std_periods) < 0:
        raise ValueError("demand and lead time figures must be non-negative")
    z = NormalDist().inv_cdf(service_level)
    variance = (lead_time_periods + review_periods) * sigma_demand ** 2 \
        + mean_demand ** 2 * lead_time_std_periods ** 2
    return int(math.ceil(z * math.sqrt(variance) - 1e-9))
