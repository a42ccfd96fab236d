"""The vectorised model builder against the first, loop-based one (``reference_model``):
the same columns, rows and coefficients up to order, hence the same LP optimum (and MIP
optimum, checked on the smaller cases);
and ``encode``/``decode`` round-trip plans."""

from __future__ import annotations

import numpy as np
import pytest

from optimizer.routing import parse_problem
from optimizer.routing.generate import generate_problem
from optimizer.routing.greedy import greedy_allocation
from optimizer.routing.model import Model, build_model, highs_solve
from optimizer.routing.plan import allocation_cost

from .reference_model import reference_arrays

CASES = [(40, 4, 20, 1), (120, 6, 60, 2), (300, 8, 120, 3), (150, 12, 25, 4)]


def _rows(a: dict) -> list[tuple]:
    """Every row as (upper, sorted (cost, ub, integer, coefficient) of its terms): a
    description that does not depend on the order of columns or rows."""
    col = np.stack([a["cost"], a["upper"], a["integrality"]], axis=1)
    out = []
    for r in range(len(a["row_upper"])):
        lo, hi = a["start"][r], a["start"][r + 1]
        terms = sorted(tuple(np.round(col[j], 9)) + (round(float(v), 9),)
                       for j, v in zip(a["index"][lo:hi], a["value"][lo:hi]))
        out.append((float(a["row_upper"][r]), tuple(terms)))
    return sorted(out)


@pytest.mark.parametrize("orders,nodes,skus,seed", CASES)
def test_same_model_as_the_loop_builder(orders, nodes, skus, seed):
    problem = parse_problem(generate_problem(orders, nodes, skus, seed=seed))
    model = build_model(problem)
    ref, offset = reference_arrays(problem)
    assert model.offset == pytest.approx(offset)
    assert model.n_variables == len(ref["cost"]) > 0
    assert model.n_constraints == len(ref["row_upper"]) > 0
    assert len(model.arrays["value"]) == len(ref["value"])
    key = lambda a: sorted(zip(np.round(a["cost"], 9), a["upper"], a["integrality"]))  # noqa: E731
    assert key(model.arrays) == key(ref)
    assert _rows(model.arrays) == _rows(ref)
    reference = Model(ref, None, offset, np.zeros(0, dtype=np.int64),
                      np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64))
    for relax in (True, False) if orders <= 120 else (True,):
        new = highs_solve(model, time_limit_s=60, workers=1, seed=0, relax=relax,
                          relative_gap=0.0)
        old = highs_solve(reference, time_limit_s=60, workers=1, seed=0, relax=relax,
                          relative_gap=0.0)
        assert new.optimal and old.optimal
        assert new.objective == pytest.approx(old.objective, rel=1e-9, abs=1e-6)


@pytest.mark.parametrize("orders,nodes,skus,seed", CASES)
def test_encode_decode_round_trip(orders, nodes, skus, seed):
    problem = parse_problem(generate_problem(orders, nodes, skus, seed=seed))
    model = build_model(problem)
    greedy = greedy_allocation(problem)
    values = model.encode(greedy)
    # the encoded plan satisfies every row and costs what the plan costs
    a = model.arrays
    activity = np.add.reduceat(a["value"] * values[a["index"]], a["start"][:-1]) if len(
        a["value"]) else np.zeros(0)
    empty = np.diff(a["start"]) == 0
    activity[empty] = 0.0
    assert np.all(activity <= a["row_upper"] + 1e-9)
    assert np.all(values <= a["upper"] + 1e-9)
    cost = float(model.cost @ values) + model.offset
    assert cost == pytest.approx(allocation_cost(problem, greedy).total, rel=1e-9)
    assert sorted(model.decode(values)) == sorted(q for q in greedy if q[2] > 0)
