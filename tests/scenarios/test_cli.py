"""``stockroute scenario run`` and ``compare`` as a user runs them."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from flask.cli import ScriptInfo
from sqlalchemy import func, select

from ledger.db import read_only
from ledger.models import ScenarioRun
from webapp import create_app
from webapp.cli import main
from webapp.config import TestConfig

SMALL = {"name": "cli-test", "horizon_days": 3, "waves_per_day": 1,
         "start": {"demo_seed": 7, "n_skus": 40}, "demand": {"orders_per_day": 100},
         "policies": {"routing": {"strategy": "greedy"}, "replenishment": {"strategy": "none"}},
         "replications": 2}


def invoke(app, args):
    return CliRunner().invoke(main, args, obj=ScriptInfo(create_app=lambda: app))


def test_a_scenario_runs_writes_its_report_and_is_stored(tmp_path, database_url, sessions):
    app = create_app(TestConfig(DATABASE_URL=database_url))
    spec = tmp_path / "s.yaml"
    spec.write_text(yaml.safe_dump(SMALL))
    result = invoke(app, ["scenario", "run", str(spec), "--out", str(tmp_path / "r1")])
    assert result.exit_code == 0, result.output
    assert "2 run(s)" in result.output and "stored as scenario run" in result.output
    assert (tmp_path / "r1" / "report.html").exists()
    with read_only(sessions) as s:
        assert s.scalar(select(func.count(ScenarioRun.id))) == 1
    again = invoke(app, ["scenario", "run", str(spec), "--replications", "1", "--no-store",
                         "--out", str(tmp_path / "r2")])
    assert again.exit_code == 0, again.output
    table = invoke(app, ["scenario", "compare", str(tmp_path / "r1"), str(tmp_path / "r2")])
    assert table.exit_code == 0 and "Fill rate (units)" in table.output


def test_a_bad_scenario_file_exits_2_naming_the_field(tmp_path):
    spec = tmp_path / "bad.yaml"
    spec.write_text(yaml.safe_dump({**SMALL, "horizon_days": 0}))
    app = create_app(TestConfig(DATABASE_URL=f"sqlite:///{tmp_path / 'x.sqlite3'}"))
    result = invoke(app, ["scenario", "run", str(spec)])
    assert result.exit_code == 2
    assert "horizon_days" in result.output


def test_the_shipped_examples_are_valid():
    from scenarios.spec import load_scenario
    examples = sorted((Path(__file__).parents[2] / "scenarios" / "examples").glob("*.yaml"))
    assert [p.stem for p in examples] == ["black-friday", "dc-outage", "supplier-delay-peak"]
    for p in examples:
        assert load_scenario(p).horizon_days >= 21


def test_stored_runs_are_listed_shown_and_compared_over_the_api(tmp_path, database_url, sessions):
    from ledger.access import create_token
    from ledger.db import unit_of_work
    app = create_app(TestConfig(DATABASE_URL=database_url))
    spec = tmp_path / "s.yaml"
    for n, orders in enumerate((100, 300)):
        spec.write_text(yaml.safe_dump({**SMALL, "demand": {"orders_per_day": orders},
                                        "name": f"run-{n}", "replications": 1}))
        assert invoke(app, ["scenario", "run", str(spec), "--out", str(tmp_path / f"r{n}")]
                      ).exit_code == 0
    with unit_of_work(sessions) as s:
        _, token = create_token(s, "analyst", ["scenarios:read"])
    c, h = app.test_client(), {"Authorization": f"Bearer {token}"}
    runs = c.get("/api/v1/scenarios/runs", headers=h).get_json()["items"]
    assert [r["name"] for r in runs] == ["run-1", "run-0"]
    one = c.get(f"/api/v1/scenarios/runs/{runs[0]['id']}", headers=h).get_json()
    assert one["summary"]["base"]["kpis"]["orders"]["mean"] > 0
    cmp = c.get(f"/api/v1/scenarios/compare?ids={runs[1]['id']},{runs[0]['id']}",
                headers=h).get_json()
    orders = next(r for r in cmp["kpis"] if r["kpi"] == "orders")
    assert orders["deltas"][0] == 0 and orders["deltas"][1] > 0
    assert c.get("/api/v1/scenarios/compare?ids=1", headers=h).status_code == 422
    assert c.get("/api/v1/scenarios/runs/999", headers=h).status_code == 404
    assert c.get("/api/v1/scenarios/runs").status_code == 401


@pytest.mark.parametrize("address, says", [
    ("tcp://127.0.0.1:1", "cannot reach"),      # nothing listens there
    ("http://127.0.0.1:8786", "unknown address scheme"),
    ("scheduler", "missing port"),
])
def test_a_dask_scheduler_that_cannot_be_used_is_an_error_naming_the_option(tmp_path, address,
                                                                            says):
    import dask
    import distributed  # noqa: F401 - its config defaults, before the set() below restores
    spec = tmp_path / "s.yaml"
    spec.write_text(yaml.safe_dump(SMALL))
    app = create_app(TestConfig(DATABASE_URL=f"sqlite:///{tmp_path / 'x.sqlite3'}"))
    with dask.config.set({"distributed.comm.timeouts.connect": "2s"}):
        result = invoke(app, ["scenario", "run", str(spec), "--no-store", "--dask", address,
                              "--out", str(tmp_path / "out")])
    assert result.exit_code == 2, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output
    assert result.stderr.startswith(f"connecting to the Dask scheduler at {address}")
    assert "error (--dask)" in result.stderr and says in result.stderr
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("content", ["{", "[]", '{"summary": 3}', '{"scenario": "x"}'])
def test_compare_refuses_a_folder_whose_summary_is_not_a_report(tmp_path, content):
    app = create_app(TestConfig(DATABASE_URL=f"sqlite:///{tmp_path / 'x.sqlite3'}"))
    spec = tmp_path / "s.yaml"
    spec.write_text(yaml.safe_dump({**SMALL, "replications": 1}))
    assert invoke(app, ["scenario", "run", str(spec), "--no-store",
                        "--out", str(tmp_path / "good")]).exit_code == 0
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "summary.json").write_text(content)
    result = invoke(app, ["scenario", "compare", str(tmp_path / "good"), str(tmp_path / "bad")])
    assert result.exit_code == 2, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "is not a scenario report folder" in result.output and "summary.json" in result.output
