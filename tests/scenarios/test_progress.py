"""``scenario run`` reports progress per simulated day: one run of the shipped examples takes
minutes, and its bar stood at 0/1 runs all that time."""

from __future__ import annotations

import yaml
from click.testing import CliRunner
from flask.cli import ScriptInfo

from scenarios.runner import run_all
from scenarios.spec import parse_scenario
from webapp import create_app
from webapp.cli import main
from webapp.config import TestConfig

SMALL = {"name": "p", "horizon_days": 3, "waves_per_day": 1, "replications": 2,
         "start": {"demo_seed": 7, "n_skus": 20}, "demand": {"orders_per_day": 50},
         "policies": {"routing": {"strategy": "greedy"}, "replenishment": {"strategy": "none"}}}


def events_of(**kwargs) -> list:
    events: list = []
    runs = run_all(parse_scenario(SMALL), on_day=lambda: events.append("day"),
                   progress=lambda done, total: events.append(("run", done, total)), **kwargs)
    assert len(runs) == 2
    return events


def test_days_are_reported_as_they_are_simulated():
    assert events_of(workers=1) == ["day"] * 3 + [("run", 1, 2)] + ["day"] * 3 + [("run", 2, 2)]


def test_a_local_pool_reports_the_days_of_its_workers():
    events = events_of(workers=2)
    assert events.count("day") == 6
    assert [e for e in events if e != "day"] == [("run", 1, 2), ("run", 2, 2)]
    assert events[0] == "day"      # before any run finished


def test_the_command_line_bar_counts_days(tmp_path):
    spec = tmp_path / "p.yaml"
    spec.write_text(yaml.safe_dump(SMALL))
    app = create_app(TestConfig(DATABASE_URL=f"sqlite:///{tmp_path / 'x.sqlite3'}"))
    result = CliRunner().invoke(main, ["scenario", "run", str(spec), "--no-store",
                                       "--out", str(tmp_path / "out")],
                                obj=ScriptInfo(create_app=lambda: app))
    assert result.exit_code == 0, result.output
    assert "6/6 [" in result.stderr and "day" in result.stderr
    assert "2/2 runs" in result.stderr
