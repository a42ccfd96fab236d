"""``stockroute replenish`` driven through click, as a user would."""

from __future__ import annotations

import json
import os

import pytest
from click.testing import CliRunner

from optimizer.replenishment import parse_problem, validate_plan
from webapp.commands.replenishment import commands, replenish


def run(args, stdin=None):
    return CliRunner().invoke(replenish, args, input=stdin)


def test_replenish_reads_stdin_and_writes_a_valid_plan_to_stdout(doc):
    result = run(["--input", "-", "--time-limit", "5"], json.dumps(doc))
    assert result.exit_code == 0, result.output
    plan = json.loads(result.stdout)
    validate_plan(parse_problem(doc), plan)
    assert plan["status"] == "optimal"


def test_replenish_writes_the_output_file_with_the_chosen_strategy(doc, tmp_path):
    (tmp_path / "p.json").write_text(json.dumps(doc))
    result = run(["--input", str(tmp_path / "p.json"), "--output", str(tmp_path / "plan.json"),
                  "--strategy", "minmax"])
    assert result.exit_code == 0, result.output
    plan = json.loads((tmp_path / "plan.json").read_text())
    assert plan["status"] == "minmax"
    validate_plan(parse_problem(doc), plan)


def test_bad_input_exits_2_naming_the_field(doc):
    doc["demand"][3]["period"] = 99
    result = run(["--input", "-"], json.dumps(doc))
    assert result.exit_code == 2
    assert "demand[3].period" in result.stderr


def test_the_command_is_registered_for_the_cli():
    assert [c.name for c in commands] == ["replenish"]


def test_no_suppliers_is_a_valid_problem_whose_plan_backlogs_the_demand(doc):
    doc["suppliers"], doc["supplier_items"] = [], []
    for strategy in ("optimal", "minmax"):
        result = run(["--input", "-", "--strategy", strategy, "--time-limit", "5"],
                     json.dumps(doc))
        assert result.exit_code == 0, result.output
        plan = json.loads(result.stdout)
        validate_plan(parse_problem(doc), plan)
        assert plan["orders"] == []
        # 20 on hand, 10 a period over 6 periods: backlog 10, 20, 30, 40 at 2.0 a unit
        assert plan["cost"]["backlog"] == 200.0 and plan["cost"]["purchase"] == 0
        assert {e["detail"] for e in plan["exceptions"]} == {"lead time: no supplier sells TEE"}


def test_a_quantity_given_as_a_string_exits_2_naming_the_field(doc):
    doc["demand"][0]["qty"] = "5"
    doc["demand"][1]["node"] = "NOWHERE"
    result = run(["--input", "-"], json.dumps(doc))
    assert result.exit_code == 2
    assert "demand[0].qty: Input should be a valid integer" in result.stderr
    assert "demand[1].node: unknown node 'NOWHERE'" in result.stderr
    assert result.stdout == ""


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
def test_a_failed_write_is_an_error_message_not_a_traceback(doc):
    result = run(["--input", "-", "--output", "/dev/full", "--time-limit", "5"],
                 json.dumps(doc))
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit)
    assert "error: cannot write the plan to /dev/full" in result.stderr


def test_a_seed_outside_the_solvers_range_is_a_usage_error(doc):
    for seed in ("-1", str(2**31)):
        result = run(["--input", "-", "--seed", seed], json.dumps(doc))
        assert result.exit_code == 2, result.output
        assert "--seed" in result.stderr and result.stdout == ""


def test_a_document_that_is_not_an_object_is_named_as_the_document():
    # the path was empty: the CLI printed "  : expected a JSON object"
    result = run(["--input", "-"], "[1, 2]")
    assert result.exit_code == 2
    assert "  (document): expected a JSON object" in result.stderr
