"""Scenario files are checked whole: the channel mix, and every name against the world."""

from __future__ import annotations

import pytest
import yaml
from click.testing import CliRunner
from flask.cli import ScriptInfo

from scenarios.engine import Simulation
from scenarios.runner import check_jobs
from scenarios.spec import ScenarioError, parse_scenario, world_errors
from scenarios.world import world_from_demo
from webapp import create_app
from webapp.cli import main
from webapp.config import TestConfig

WORLD = world_from_demo(7, n_skus=20)
DATES = {"from": "2026-11-20", "to": "2026-11-21"}
BASE = {"name": "t", "horizon_days": 2, "waves_per_day": 1,
        "start": {"demo_seed": 7, "n_skus": 20}, "demand": {"orders_per_day": 100},
        "policies": {"routing": {"strategy": "greedy"}, "replenishment": {"strategy": "none"}}}


def scenario(**overrides):
    return parse_scenario({**BASE, **overrides})


def errors_of(**overrides):
    with pytest.raises(ScenarioError) as err:
        scenario(**overrides)
    return {e["field"]: e["message"] for e in err.value.errors}


@pytest.mark.parametrize("mix,says", [
    ({"web": 2, "marketplace": -1}, "marketplace is -1.0"),
    ({"web": 0, "b2b": 0}, "sum to more than 0"),
    ({}, "sum to more than 0"),
    ({"web": float("inf")}, "web is inf"),
    ({"web": float("nan")}, "web is nan"),
])
def test_a_bad_channel_mix_is_rejected_naming_the_field(mix, says):
    found = errors_of(demand={"orders_per_day": 100, "channel_mix": mix})
    assert says in found["demand.channel_mix"]


def test_the_channel_mix_is_normalised_to_shares():
    percent = scenario(demand={"orders_per_day": 100, "channel_mix": {"web": 60, "b2b": 40}})
    shares = scenario(demand={"orders_per_day": 100, "channel_mix": {"web": .6, "b2b": .4}})
    assert percent.demand.channel_shares() == {"web": 0.6, "b2b": 0.4}
    a, b = Simulation(percent, WORLD, 1).run(), Simulation(shares, WORLD, 1).run()
    assert a.daily == b.daily and a.kpis["orders"] > 0
    zero = scenario(demand={"orders_per_day": 100, "channel_mix": {"web": 1, "b2b": 0}})
    run = Simulation(zero, WORLD, 1).run()
    assert run.kpis["orders"] > 0


def test_names_the_world_lacks_are_reported_by_field():
    sc = scenario(
        demand={"orders_per_day": 100, "channel_mix": {"web": 1, "telepathy": 1},
                "uplifts": [{"factor": 2, "sku": "NO-SKU", "dates": DATES},
                            {"factor": 2, "category": "spaceships", "dates": DATES},
                            {"factor": 2, "channel": "tv", "dates": DATES}]},
        disruptions=[{"kind": "node_outage", "node": "NOPE", "dates": DATES},
                     {"kind": "node_capacity", "node": "DC-EAST", "factor": 0.5, "dates": DATES},
                     {"kind": "supplier_delay", "supplier": "SUP-X", "days": 3, "dates": DATES},
                     {"kind": "lane_cost", "factor": 2, "node": "DC-X", "region": "XX",
                      "dates": DATES}])
    found = {e["field"]: e["message"] for e in world_errors(sc, WORLD)}
    assert set(found) == {"disruptions[0].node", "disruptions[2].supplier",
                          "disruptions[3].node", "disruptions[3].region",
                          "demand.uplifts[0].sku", "demand.uplifts[1].category",
                          "demand.uplifts[2].channel", "demand.channel_mix.telepathy"}
    assert found["disruptions[0].node"].startswith("unknown node 'NOPE' (the world has ")
    with pytest.raises(ScenarioError):      # the engine never runs it with the outage ignored
        Simulation(sc, WORLD, 1)


def test_sweep_points_are_checked_and_named():
    sc = scenario(disruptions=[{"kind": "node_outage", "node": "DC-EAST", "dates": DATES}],
                  sweep={"disruptions.0.node": ["DC-WEST", "DC-NOWHERE"]})
    with pytest.raises(ScenarioError) as err:
        check_jobs(sc)
    assert err.value.errors == [{
        "field": "disruptions[0].node",
        "message": "unknown node 'DC-NOWHERE' (the world has 3PL-CENTRAL, DC-EAST, DC-WEST, "
                   "DROP-ACME, STORE-CHI, STORE-MIA, STORE-NYC, STORE-SEA) in sweep point "
                   "disruptions.0.node=DC-NOWHERE"}]
    ok = scenario(disruptions=[{"kind": "node_outage", "node": "DC-EAST", "dates": DATES}],
                  sweep={"disruptions.0.node": ["DC-WEST", "DC-EAST"]}, replications=2)
    assert len(check_jobs(ok, WORLD)) == 4


def test_the_cli_refuses_unknown_names_and_bad_mixes_with_exit_2(tmp_path):
    app = create_app(TestConfig(DATABASE_URL=f"sqlite:///{tmp_path / 'x.sqlite3'}"))

    def run(spec):
        path = tmp_path / "s.yaml"
        path.write_text(yaml.safe_dump(spec))
        return CliRunner().invoke(main, ["scenario", "run", str(path), "--no-store",
                                         "--out", str(tmp_path / "out")],
                                  obj=ScriptInfo(create_app=lambda: app))

    result = run({**BASE, "disruptions": [{"kind": "node_outage", "node": "NOPE",
                                           "dates": DATES}]})
    assert result.exit_code == 2, result.output
    assert "disruptions[0].node: unknown node 'NOPE'" in result.output
    result = run({**BASE, "demand": {"channel_mix": {"web": 2, "marketplace": -1}}})
    assert result.exit_code == 2, result.output
    assert "demand.channel_mix" in result.output and "Traceback" not in result.output
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("probabilities,field,says", [
    ([-1, 2], "demand.lines_per_order", "1 line is -1.0"),
    ([0, 0], "demand.lines_per_order", "sum to more than 0"),
    ([0.5, float("nan")], "demand.lines_per_order", "2 lines is nan"),
    ([float("inf")], "demand.lines_per_order", "1 line is inf"),
])
def test_bad_lines_per_order_are_rejected_naming_the_field(probabilities, field, says):
    # they reached the engine: numpy refused negative probabilities, an all-zero list
    # divided by zero, and a NaN became null in the workers' copy of the scenario
    found = errors_of(demand={"orders_per_day": 100, "lines_per_order": probabilities})
    assert says in found[field]


def test_lines_per_order_are_normalised_like_the_channel_mix():
    sc = scenario(demand={"orders_per_day": 100, "lines_per_order": [0.5, 0.6]})
    assert Simulation(sc, WORLD, 1).run().kpis["orders"] > 0


@pytest.mark.parametrize("path,value", [
    (("demand", "noise"), float("nan")),
    (("demand", "orders_per_day"), float("nan")),
    (("policies", "routing", "split_penalty"), float("inf")),
    (("policies", "replenishment", "holding_rate_per_week"), float("inf")),
    (("policies", "replenishment", "backlog_cost_share"), float("nan")),
])
def test_numbers_must_be_finite(path, value):
    data = {**BASE, "demand": dict(BASE["demand"]),
            "policies": {"routing": {"strategy": "greedy"}, "replenishment": {"strategy": "none"}}}
    node = data
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    with pytest.raises(ScenarioError) as err:
        parse_scenario(data)
    assert ".".join(path) in {e["field"] for e in err.value.errors}


def test_the_cli_refuses_non_finite_yaml_numbers_with_exit_2(tmp_path):
    app = create_app(TestConfig(DATABASE_URL=f"sqlite:///{tmp_path / 'x.sqlite3'}"))
    path = tmp_path / "s.yaml"
    text = yaml.safe_dump(BASE).replace("orders_per_day: 100",
                                    "orders_per_day: 100\n  lines_per_order: [0.5, .nan]")
    path.write_text(text)
    result = CliRunner().invoke(main, ["scenario", "run", str(path), "--no-store",
                                       "--out", str(tmp_path / "out")],
                                obj=ScriptInfo(create_app=lambda: app))
    assert result.exit_code == 2, result.output
    assert "demand.lines_per_order" in result.output and "Traceback" not in result.output
    assert not (tmp_path / "out").exists()


def test_a_world_without_nodes_or_skus_is_an_error_before_anything_runs():
    # `scenario run --from-db` on an empty database: a traceback from the planner, mid-run
    from dataclasses import replace
    empty = replace(WORLD, skus=[], nodes=[], lanes=[], channels=[], suppliers=[],
                    supplier_items=[], stock={}, inbound=[], popularity={}, node_share={})
    with pytest.raises(ScenarioError) as err:
        check_jobs(scenario(), empty)
    assert [e["field"] for e in err.value.errors] == ["start"]
    message = err.value.errors[0]["message"]
    assert "no nodes" in message and "no SKUs" in message


def test_a_world_without_stock_still_gets_its_report(tmp_path):
    # nodes, SKUs and lanes but no stock at all (an import without `stock`): the run
    # works, and the inventory chart, with nothing to stack, broke the report
    from dataclasses import replace

    from scenarios import report
    from scenarios.runner import run_all, summarise
    bare = replace(WORLD, stock={}, inbound=[])
    runs = run_all(scenario(), world=bare)
    html = report.write_report("bare", runs, summarise(runs), tmp_path / "out")
    assert html.exists() and (tmp_path / "out" / "inventory_by_node.png").exists()


@pytest.mark.parametrize("day", ["0001-01-01", "1969-12-31", "9000-01-01", "9999-12-20"])
def test_a_start_date_outside_the_calendar_the_engine_can_draw_is_refused(day):
    # both ends failed mid-run: dates past 9999 overflowed, and matplotlib draws no
    # dates before the year 1
    found = errors_of(start_date=day)
    assert "start_date" in found and "1970-01-01" in found["start_date"]


def test_start_dates_inside_the_calendar_are_fine():
    assert scenario(start_date="1970-01-01").start_date.year == 1970
    assert scenario(start_date="8999-12-31").start_date.year == 8999
