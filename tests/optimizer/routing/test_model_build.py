"""The vectorised model builder against the first, loop-based one (``reference_model``):
the very same arrays;
and ``encode``/``decode`` round-trip plans."""

from __future__ import annotations

import numpy as np
import pytest

from optimizer.routing import parse_problem
from optimizer.routing.generate import generate_problem
from optimizer.routing.greedy import greedy_allocation
from optimizer.routing.model import build_model
from optimizer.routing.plan import allocation_cost

from .reference_model import reference_arrays

CASES = [(40, 4, 20, 1), (120, 6, 60, 2), (300, 8, 120, 3), (150, 12, 25, 4)]


@pytest.mark.parametrize("orders,nodes,skus,seed", CASES)
def test_same_model_as_the_loop_builder(orders, nodes, skus, seed):
    """Column for column, row for row, term for term: HiGHS's path depends on the order,
    so the vectorised builder keeps the loop's."""
    problem = parse_problem(generate_problem(orders, nodes, skus, seed=seed))
    model = build_model(problem)
    ref, offset = reference_arrays(problem)
    assert model.offset == pytest.approx(offset)
    assert model.n_variables > 0 and model.n_constraints > 0
    assert set(model.arrays) == set(ref)
    for name, expected in ref.items():
        np.testing.assert_array_equal(model.arrays[name], expected, err_msg=name)


def test_no_split_penalty_and_no_capacity_limits():
    doc = generate_problem(150, 6, 40, seed=7)
    doc["policy"]["split_penalty"] = 0.0
    for node in doc["nodes"]:
        node.pop("capacity_units", None)
        node.pop("capacity_orders", None)
    problem = parse_problem(doc)
    model = build_model(problem)
    ref, _ = reference_arrays(problem)
    for name, expected in ref.items():
        np.testing.assert_array_equal(model.arrays[name], expected, err_msg=name)


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
