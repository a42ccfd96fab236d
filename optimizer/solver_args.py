"""Checks shared by the optimizers' ``solve`` entry points."""

from __future__ import annotations

import math

MAX_SEED = 2**31 - 1   # HiGHS's random_seed is a non-negative 32-bit integer


def checked_solver_args(time_limit_s: float, seed: int) -> tuple[float, int]:
    """The time limit and seed a solver is given, or ``ValueError``: a limit that is not
    a positive finite number of seconds (an infinite one would run without limit), or a
    negative seed (the searches' random generators refuse it, a crash in the middle of a
    large solve). A seed beyond HiGHS's range, which HiGHS would silently ignore (the
    scenario engine's may be), is taken modulo 2³¹."""
    if not math.isfinite(time_limit_s) or time_limit_s <= 0:
        raise ValueError(f"time_limit_s must be a positive number of seconds, "
                         f"not {time_limit_s!r}")
    if seed < 0:
        raise ValueError(f"seed must be a non-negative integer, not {seed!r}")
    return time_limit_s, seed % (MAX_SEED + 1)
