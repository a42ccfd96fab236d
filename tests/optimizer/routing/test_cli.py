"""``stockroute route`` driven through click, as a user would."""

from __future__ import annotations

import json
import os

import pytest
from click.testing import CliRunner

from optimizer.routing import parse_problem, validate_plan
from optimizer.routing.generate import generate_problem
from webapp.commands.routing import commands, route


def run(args, stdin=None):
    return CliRunner().invoke(route, args, input=stdin)


def test_route_reads_stdin_and_writes_a_valid_plan_to_stdout():
    doc = generate_problem(20, 4, 15, seed=3)
    result = run(["--input", "-", "--time-limit", "5"], json.dumps(doc))
    assert result.exit_code == 0, result.output
    plan = json.loads(result.stdout)
    validate_plan(parse_problem(doc), plan)
    assert plan["status"] in ("optimal", "feasible")


def test_route_writes_the_output_file_with_the_chosen_strategy(tmp_path):
    doc = generate_problem(10, 3, 8, seed=4)
    (tmp_path / "p.json").write_text(json.dumps(doc))
    result = run(["--input", str(tmp_path / "p.json"), "--output", str(tmp_path / "plan.json"),
                  "--strategy", "greedy", "--explain"])
    assert result.exit_code == 0, result.output
    plan = json.loads((tmp_path / "plan.json").read_text())
    assert plan["status"] == "greedy"
    validate_plan(parse_problem(doc), plan)
    assert all("explanation" in s for s in plan["shipments"] + plan["backorders"])


def test_bad_input_exits_2_naming_the_field():
    doc = generate_problem(3, 2, 3, seed=1)
    doc["orders"][2]["lines"][0]["qty"] = -4
    result = run(["--input", "-"], json.dumps(doc))
    assert result.exit_code == 2
    assert "orders[2].lines[0].qty" in result.stderr
    assert result.stdout == ""


def test_invalid_json_exits_2():
    result = run(["--input", "-"], "{nope")
    assert result.exit_code == 2 and "not valid JSON" in result.stderr


def test_route_is_registered_as_a_command():
    assert commands == [route] and route.name == "route"


def test_an_empty_batch_plans_nothing_with_every_strategy():
    doc = {"nodes": [{"id": "A"}], "inventory": [], "lanes": [], "orders": []}
    for strategy in ("optimal", "greedy"):
        result = run(["--input", "-", "--strategy", strategy, "--explain"], json.dumps(doc))
        assert result.exit_code == 0, result.output
        plan = json.loads(result.stdout)
        validate_plan(parse_problem(doc), plan)
        assert (plan["objective"], plan["bound"], plan["gap"]) == (0.0, 0.0, 0.0)
        assert plan["shipments"] == [] and plan["backorders"] == []
        assert plan["status"] == ("optimal" if strategy == "optimal" else "greedy")


def test_a_seed_outside_the_solvers_range_is_a_usage_error():
    doc = generate_problem(3, 2, 3, seed=1)
    for seed in ("-1", str(2**31)):
        result = run(["--input", "-", "--seed", seed], json.dumps(doc))
        assert result.exit_code == 2, result.output
        assert "--seed" in result.stderr and result.stdout == ""


def test_an_output_path_that_cannot_be_written_is_refused_before_solving(tmp_path,
                                                                        monkeypatch):
    # The output file was opened only to write the plan: a typo in its folder was found
    # after the whole solve (up to an hour), and reported with exit code 1.
    solved = []
    monkeypatch.setattr("webapp.commands.routing.solve",
                        lambda *a, **k: solved.append(1) or pytest.fail("solved"))
    doc = generate_problem(3, 2, 3, seed=1)
    for target in (tmp_path / "missing" / "plan.json", tmp_path):
        result = run(["--input", "-", "--output", str(target)], json.dumps(doc))
        assert result.exit_code == 2, result.output
        assert "--output" in result.stderr and str(target) in result.stderr
    assert solved == [] and list(tmp_path.iterdir()) == []


def test_bad_input_leaves_an_existing_output_file_alone(tmp_path):
    (tmp_path / "plan.json").write_text("the last plan\n")
    result = run(["--input", "-", "--output", str(tmp_path / "plan.json")], "{nope")
    assert result.exit_code == 2
    assert (tmp_path / "plan.json").read_text() == "the last plan\n"


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
def test_a_failed_write_is_an_error_message_not_a_traceback():
    doc = generate_problem(3, 2, 3, seed=1)
    result = run(["--input", "-", "--output", "/dev/full"], json.dumps(doc))
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit)
    assert "error: cannot write the plan to /dev/full" in result.stderr
