"""``stockroute route``: solve a routing-contract problem file; no database, no app."""

from __future__ import annotations

import json

import click

from optimizer.routing import (RoutingInputError, explain_plan, parse_problem, solve,
                               validate_plan)
from optimizer.solver_args import MAX_SEED
from webapp.commands.solver_io import (fail, native_stdout_to_stderr, read_json_input,
                                        solver_options, write_output)


@click.command("route")
@solver_options("routing", ("optimal", "greedy"), min_time_limit_s=0.01, max_seed=MAX_SEED)
@click.option("--explain", is_flag=True,
              help="Add an 'explanation' to every shipment and backorder.")
def route(input_file, output_file, strategy, time_limit_s, workers, seed, explain):
    """Route a batch of orders: read a routing problem, write the plan."""
    document = read_json_input(input_file)
    try:
        problem = parse_problem(document)
    except RoutingInputError as exc:
        fail("error: invalid routing problem\n" + "\n".join(
            f"  {e['field']}: {e['message']}" for e in exc.errors))
    with native_stdout_to_stderr():
        plan = solve(problem, strategy=strategy, time_limit_s=time_limit_s, workers=workers,
                     seed=seed)
    validate_plan(problem, plan)
    body = explain_plan(problem, plan) if explain else plan.to_json()
    write_output(output_file, json.dumps(body, indent=2) + "\n")


commands = [route]
