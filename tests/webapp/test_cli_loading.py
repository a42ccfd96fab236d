"""The command line imports an area's commands only when one of them runs."""

from __future__ import annotations

import importlib
import json
import subprocess
import sys

from webapp.cli import AREAS, COMMANDS, SUMMARIES


def test_the_command_map_matches_what_each_area_defines():
    defined = {}
    for area in AREAS:
        for command in importlib.import_module(f"webapp.commands.{area}").commands:
            defined[command.name] = area
    assert defined == COMMANDS


def test_the_help_listing_says_what_each_command_says_of_itself():
    for area in AREAS:
        for command in importlib.import_module(f"webapp.commands.{area}").commands:
            assert SUMMARIES[command.name] == command.get_short_help_str(limit=10**6)
    assert set(SUMMARIES) == set(COMMANDS)


def test_top_level_help_lists_only_stockroute_commands_and_imports_no_area():
    script = (
        "import sys\n"
        "from webapp.cli import main\n"
        "try:\n"
        "    main(['--help'], prog_name='stockroute')\n"
        "except SystemExit:\n"
        "    pass\n"
        "print(sorted(m for m in sys.modules if m.startswith('webapp.commands.')))\n"
        "print('sqlalchemy' in sys.modules, 'optimizer' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         timeout=120, check=True).stdout
    listing, loaded, heavy = out.rsplit("\n", 3)[:3]
    assert loaded == "[]" and heavy == "False False"
    commands = [line.split()[0] for line in listing.split("Commands:")[1].splitlines()
                if line.startswith("  ") and not line.startswith("   ")]
    assert sorted(commands) == sorted(COMMANDS)
    for flask_only in ("run", "routes", "shell", "--app", "--env-file"):
        assert flask_only not in listing.split(), flask_only


def test_route_runs_without_importing_the_other_areas(tmp_path):
    problem = {
        "nodes": [{"id": "DC"}],
        "inventory": [{"node": "DC", "sku": "A", "available": 5}],
        "lanes": [{"node": "DC", "region": "NE", "service": "standard",
                   "cost_per_shipment": 5.0, "cost_per_unit": 0.5, "transit_days": 2}],
        "orders": [{"id": "SO-1", "region": "NE", "lines": [{"sku": "A", "qty": 2}]},
                   {"id": "SO-2", "region": "NE", "lines": [{"sku": "A", "qty": 4}]}],
    }
    path = tmp_path / "problem.json"
    path.write_text(json.dumps(problem))
    script = (
        "import sys\n"
        "from webapp.cli import main\n"
        f"main(['route', '--input', {str(path)!r}, '--output', {str(path) + '.plan'!r}],"
        " standalone_mode=False)\n"
        "print(sorted(m for m in sys.modules if m.startswith('webapp.commands.')))\n"
        "print('pandas' in sys.modules, 'sqlalchemy' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         timeout=120, check=True).stdout.splitlines()
    assert out[-2] == "['webapp.commands.routing', 'webapp.commands.solver_io']"
    assert out[-1] == "False False"
    plan = json.loads((tmp_path / "problem.json.plan").read_text())
    assert plan["status"] == "optimal" and plan["backorders"][0]["qty"] == 1
