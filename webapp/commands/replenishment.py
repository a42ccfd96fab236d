"""``stockroute replenish``: solve a replenishment-contract problem file; no database, no app."""

from __future__ import annotations

import json

import click

from optimizer.replenishment import (ReplenishmentInputError, parse_problem, solve,
                                     validate_plan)
from optimizer.solver_args import MAX_SEED
from webapp.commands.solver_io import (fail, native_stdout_to_stderr, read_json_input,
                                        solver_options, write_output)


@click.command("replenish")
@solver_options("replenishment", ("optimal", "minmax"), min_time_limit_s=0.1,
                max_seed=MAX_SEED)
def replenish(input_file, output_file, strategy, time_limit_s, workers, seed):
    """Plan purchase orders: read a replenishment problem, write the plan."""
    document = read_json_input(input_file)
    try:
        problem = parse_problem(document)
    except ReplenishmentInputError as exc:
        fail("error: invalid replenishment problem\n" + "\n".join(
            f"  {e['field']}: {e['message']}" for e in exc.errors))
    with native_stdout_to_stderr():
        plan = solve(problem, strategy=strategy, time_limit_s=time_limit_s, workers=workers,
                     seed=seed)
    body = plan.to_json()
    validate_plan(problem, body)
    write_output(output_file, json.dumps(body, indent=2) + "\n")


commands = [replenish]
