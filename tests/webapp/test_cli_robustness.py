"""The contract commands (``route``, ``replenish``) refuse bad options and undecodable input
with a clear error and exit code 2, never a traceback."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from click.testing import CliRunner

from optimizer.routing import parse_problem, validate_plan
from webapp.commands.replenishment import replenish
from webapp.commands.routing import route

COMMANDS = {"route": route, "replenish": replenish}
NOT_UTF8 = b"\xff\xfe"


def run(command, args, stdin=None):
    return CliRunner().invoke(COMMANDS[command], args, input=stdin)


def routing_doc(node="DC-Zürich"):
    return {"nodes": [{"id": node}], "inventory": [{"node": node, "sku": "TÉE", "available": 3}],
            "lanes": [{"node": node, "region": "NE", "service": "standard",
                       "cost_per_shipment": 1.0, "cost_per_unit": 0.5}],
            "orders": [{"id": "SO-1", "region": "NE", "lines": [{"sku": "TÉE", "qty": 2}]}]}


@pytest.mark.parametrize("command", sorted(COMMANDS))
@pytest.mark.parametrize("value", ["nan", "NaN", "inf", "-inf", "1e999"])
def test_a_time_limit_that_is_not_a_finite_number_is_refused(command, value, tmp_path):
    (tmp_path / "p.json").write_text("{}")
    result = run(command, ["--input", str(tmp_path / "p.json"), "--time-limit", value])
    assert result.exit_code == 2, result.output
    assert "--time-limit" in result.stderr
    assert "Traceback" not in result.output


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_stdin_that_is_not_utf8_is_an_error_not_a_traceback(command):
    result = run(command, ["--input", "-"], NOT_UTF8)
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith("error: input is not UTF-8 text")
    assert result.stdout == ""


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_a_binary_input_file_is_an_error_not_a_traceback(command, tmp_path):
    (tmp_path / "p.json").write_bytes(b'{"nodes": ["\x89PNG\r\n\x1a\n\x00\xff"]}')
    result = run(command, ["--input", str(tmp_path / "p.json")])
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith("error: input is not UTF-8 text")


def test_utf8_input_with_non_ascii_ids_still_routes():
    doc = routing_doc()
    result = run("route", ["--input", "-", "--time-limit", "5"], json.dumps(doc, ensure_ascii=False))
    assert result.exit_code == 0, result.output
    plan = json.loads(result.stdout)
    validate_plan(parse_problem(doc), plan)
    assert plan["shipments"][0]["node"] == "DC-Zürich"


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_a_real_pipe_of_bytes_that_are_not_utf8(command):
    script = ("from webapp.cli import main\n"
              f"main([{command!r}, '--input', '-'], prog_name='stockroute')\n")
    done = subprocess.run([sys.executable, "-c", script], input=NOT_UTF8, capture_output=True,
                          timeout=120)
    assert done.returncode == 2, done.stderr
    assert done.stderr.decode().startswith("error: input is not UTF-8 text")
    assert b"Traceback" not in done.stderr
