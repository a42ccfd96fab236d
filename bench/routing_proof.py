"""What limits the 500-order proof: HiGHS proving the benchmark instance when it is
handed the optimum, against the pipeline as shipped.

    .venv/bin/python bench/routing_proof.py [--seed 1] [--solver-seeds 0,1,2,3]
                                            [--inject-after 2.0] [--limit 30]

1. The optimum of the 500-order instance (HiGHS, exact, no time limit that matters).
2. Per solver seed:
   - ``solve()`` as shipped (2 workers, the benchmark's 5 s target; here with
     ``--limit``): the time to prove the gap <= 0.01%;
   - two oracle runs: HiGHS on one thread (the other core would run the primal
     heuristic), handed the optimum through its user-solution callback at its first
     query after ``--inject-after`` seconds (once its root cut loop has mostly
     converged; handed over at the start, it makes HiGHS restart its root again and
     again): with restarts and its RINS/RENS sub-MIPs off ("lean"), and with HiGHS's
     defaults. The time they take is what proving costs even with a perfect primal
     heuristic beside the prover.

The dual bound at the hand-over is printed too: the bound the root cuts reach, against
the optimum minus 0.01% that a proof needs. Last, HiGHS as a prover only (no restarts,
none of its sub-MIP or root heuristics) on one thread, given the optimum as its start
solution: what proving costs when the plan is known from the start.
"""

from __future__ import annotations

import argparse
import ctypes
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from optimizer.routing import parse_problem, solve
from optimizer.routing.generate import generate_problem
from optimizer.routing.model import (
    _CALLBACK,
    _CALLBACK_MIP_INTERRUPT,
    _highs,
    _ptr,
    build_model,
    highs_solve,
)

GAP = 1e-4
# HiGHS as a prover only: no restarts, none of its sub-MIP or root heuristics
PROVER = {"mip_allow_restart": False, "mip_heuristic_run_rins": False,
          "mip_heuristic_run_rens": False, "mip_heuristic_run_root_reduced_cost": False,
          "mip_heuristic_run_feasibility_jump": False}
_MIP_USER_SOLUTION = 9   # HiGHS 1.12's kCallbackMipUserSolution


class _DataIn(ctypes.Structure):
    """HiGHS 1.12's HighsCallbackDataIn."""
    _fields_ = [("user_interrupt", ctypes.c_int),
                ("user_solution", ctypes.POINTER(ctypes.c_double)),
                ("cbdata", ctypes.c_void_p), ("user_has_solution", ctypes.c_int),
                ("user_solution_size", ctypes.c_int32)]


def oracle_proof(model, optimum: np.ndarray, seed: int, inject_after: float,
                 limit: float, lean: bool = True) -> tuple[float, float | None, bool]:
    """(seconds, dual bound when the optimum was handed over, proven). ``lean``: restarts
    and the RINS/RENS sub-MIPs off (otherwise HiGHS's defaults)."""
    lib = _highs()   # sets the callback functions' signatures
    lib.Highs_setCallbackSolution.argtypes = [ctypes.c_void_p, ctypes.c_int32,
                                              ctypes.POINTER(ctypes.c_double)]
    a, n = model.arrays, model.n_variables
    values = np.ascontiguousarray(optimum, dtype=np.float64)
    # HiGHS 1.12 compares a user solution's objective, offset included, with its own
    # incumbent's, offset excluded: the model goes in without its offset (added back
    # below), and the proof is judged here, not by HiGHS's relative gap.
    offset = float(model.offset)
    target = float(a["cost"] @ values)
    state = {"handed": None, "proven": False}
    start = time.perf_counter()

    def read(dout, name):
        return ctypes.cast(lib.Highs_getCallbackDataOutItem(dout, name),
                           ctypes.POINTER(ctypes.c_double))[0]

    def callback(kind, _message, dout, din, _user):
        if kind == _CALLBACK_MIP_INTERRUPT:
            bound = read(dout, b"mip_dual_bound")
            if target - bound <= GAP * max(1.0, abs(target + offset)):
                state["proven"] = True
                ctypes.cast(din, ctypes.POINTER(_DataIn))[0].user_interrupt = 1
        elif (kind == _MIP_USER_SOLUTION and state["handed"] is None
              and time.perf_counter() - start >= inject_after):
            state["handed"] = read(dout, b"mip_dual_bound") + offset
            lib.Highs_setCallbackSolution(din, n, _ptr(values, ctypes.c_double))
            # HiGHS 1.12's C API drops the flag it sets through Highs_setCallbackSolution
            # when it copies the caller's struct back; set it on the struct as well.
            data_in = ctypes.cast(din, ctypes.POINTER(_DataIn))[0]
            data_in.user_has_solution = 1
            data_in.user_solution = _ptr(values, ctypes.c_double)
            data_in.user_solution_size = n

    handler = _CALLBACK(callback)
    h = lib.Highs_create()
    try:
        lib.Highs_setBoolOptionValue(h, b"output_flag", 0)
        lib.Highs_setIntOptionValue(h, b"threads", 1)
        lib.Highs_setIntOptionValue(h, b"random_seed", seed)
        lib.Highs_setDoubleOptionValue(h, b"mip_rel_gap", 0.0)
        lib.Highs_setDoubleOptionValue(h, b"time_limit", limit)
        for name in (b"mip_allow_restart", b"mip_heuristic_run_rins",
                     b"mip_heuristic_run_rens") if lean else ():
            lib.Highs_setBoolOptionValue(h, name, 0)
        dbl, i32 = ctypes.c_double, ctypes.c_int32
        lib.Highs_passMip(
            h, n, model.n_constraints, len(a["value"]), 2, 1, 0.0,
            _ptr(a["cost"], dbl), _ptr(a["lower"], dbl), _ptr(a["upper"], dbl),
            _ptr(a["row_lower"], dbl), _ptr(a["row_upper"], dbl), _ptr(a["start"], i32),
            _ptr(a["index"], i32), _ptr(a["value"], dbl), _ptr(a["integrality"], i32))
        lib.Highs_setCallback(h, handler, None)
        lib.Highs_startCallback(h, _CALLBACK_MIP_INTERRUPT)
        lib.Highs_startCallback(h, _MIP_USER_SOLUTION)
        lib.Highs_run(h)
        if lib.Highs_getModelStatus(h) == 7:   # optimal: HiGHS closed the gap itself
            state["proven"] = True
    finally:
        lib.Highs_destroy(h)
    return time.perf_counter() - start, state["handed"], state["proven"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=1, help="instance seed")
    parser.add_argument("--solver-seeds", default="0,1,2,3")
    parser.add_argument("--inject-after", type=float, default=2.0)
    parser.add_argument("--limit", type=float, default=30.0)
    args = parser.parse_args()
    load = os.getloadavg()
    print(f"500-order proof: instance seed {args.seed}, {os.cpu_count()} CPUs, load average "
          f"{load[0]:.2f} {load[1]:.2f} {load[2]:.2f}", flush=True)
    problem = parse_problem(generate_problem(500, 8, 200, seed=args.seed))
    model = build_model(problem)
    t = time.perf_counter()
    exact = highs_solve(model, time_limit_s=600, workers=2, seed=0, relative_gap=0.0)
    if not exact.optimal:
        sys.exit("the exact solve did not finish")
    need = exact.objective - GAP * max(1.0, abs(exact.objective))
    print(f"optimum {exact.objective:.2f} (exact solve {time.perf_counter() - t:.1f} s); "
          f"a proof needs a bound >= {need:.2f}", flush=True)
    print(f"{'solver seed':>11} {'solve() s':>10} {'oracle lean s':>13} "
          f"{'oracle defaults s':>17} {'bound at hand-over':>19} {'prover, optimum at start s':>26}")
    for seed in (int(s) for s in args.solver_seeds.split(",")):
        t = time.perf_counter()
        plan = solve(problem, strategy="optimal", time_limit_s=args.limit, workers=2,
                     seed=seed)
        shipped = time.perf_counter() - t
        shipped_s = f"{shipped:.2f}" if plan.gap <= GAP else f">{args.limit:.0f}"
        cells = []
        for lean in (True, False):
            seconds, handed, proven = oracle_proof(model, exact.values, seed,
                                                   args.inject_after, args.limit, lean)
            cells.append(f"{seconds:.2f}" if proven else f">{args.limit:.0f}")
        handed_s = f"{handed:.2f}" if handed is not None else "-"
        t = time.perf_counter()
        prover = highs_solve(model, time_limit_s=args.limit, workers=1, seed=seed,
                             relative_gap=GAP, start=exact.values, options=PROVER)
        prover_s = (f"{time.perf_counter() - t:.2f}" if prover.optimal
                    else f">{args.limit:.0f}")
        print(f"{seed:>11} {shipped_s:>10} {cells[0]:>13} {cells[1]:>17} {handed_s:>19} "
              f"{prover_s:>26}", flush=True)


if __name__ == "__main__":
    main()
