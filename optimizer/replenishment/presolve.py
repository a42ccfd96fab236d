"""Presolve: the order options no plan can use.

An order option is (supplier item i, node n, order period t). Every legal order of it is at
least the item's smallest legal order ``q_i`` (the MOQ rounded up to the case pack, at least
one case: ``ReplenishmentProblem.item_min_qty``), so the option is removed when even ``q_i``
alone breaks a rule of the contract:

* rule 1: it would arrive after the horizon (t + L > T − 1);
* rule 3: ``q_i`` > the supplier's capacity in t;
* rule 4: ``q_i`` > the node's receiving capacity in the arrival period t + L;
* rule 5: ``unit_cost · q_i`` > the budget (when one is set).

No plan contains a removed option, so every relaxation (the Lagrangian subproblems, the
decoupled bound, the MIP) may leave them out and stays a relaxation; leaving them out is
what lets the bound see that, e.g., an MOQ above every capacity means nothing can be bought.
The exceptions use the same test to name the MOQ as the cause when it is what blocks.

Stored factored (items × periods, and nodes × periods for receiving) rather than as an
items × nodes × periods array, which could be large.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .problem import ReplenishmentProblem


@dataclass(frozen=True)
class OrderOptions:
    min_qty: np.ndarray     # [I] smallest legal order
    lead: np.ndarray        # [I] lead time of the item's supplier
    usable: np.ndarray      # [I, T] by ORDER period: arrives in the horizon, fits the
                            #   supplier's capacity and the budget (rules 1, 3, 5)
    recv: np.ndarray        # [N, T] receiving capacity by ARRIVAL period, -1 = unlimited

    @property
    def receiving_binds(self) -> bool:
        """Whether rule 4 removes anything (else the options do not depend on the node)."""
        limited = self.recv >= 0
        return bool(len(self.min_qty)) and bool(
            (limited & (self.recv < int(self.min_qty.max()))).any())

    def by_arrival(self) -> np.ndarray:
        """[I, T] by ARRIVAL period a: the option (i, a − L_i) passes rules 1, 3 and 5."""
        I, T = self.usable.shape
        t = np.arange(T)[None, :] - self.lead[:, None]                 # order period
        return (t >= 0) & np.take_along_axis(self.usable, np.clip(t, 0, T - 1), axis=1)

    def receiving_ok(self, n: int, items=None) -> np.ndarray:
        """[items, T] by ARRIVAL period: the smallest order fits node n's receiving capacity."""
        q = self.min_qty if items is None else self.min_qty[items]
        cap = self.recv[n]
        return (cap < 0)[None, :] | (q[:, None] <= cap[None, :])

    def ok(self, i: int, n: int, t: int) -> bool:
        """Whether option (item i, node n, order period t) survives the presolve."""
        T = self.usable.shape[1]
        if t < 0 or t >= T or not self.usable[i, t]:
            return False
        cap = int(self.recv[n, t + int(self.lead[i])])
        return cap < 0 or int(self.min_qty[i]) <= cap

    def first_arrival(self) -> np.ndarray:
        """[I] the earliest arrival period of any surviving option of the item (T = none)."""
        I, T = self.usable.shape
        arr = self.by_arrival()
        out = np.full(I, T, dtype=np.int64)
        for n in range(self.recv.shape[0]):
            ok = arr & self.receiving_ok(n)
            has = ok.any(axis=1)
            out = np.where(has, np.minimum(out, ok.argmax(axis=1)), out)
        return out

    def any(self) -> bool:
        return bool((self.first_arrival() < self.usable.shape[1]).any())


def order_options(p: ReplenishmentProblem) -> OrderOptions:
    S, N, T = p.shape
    I = len(p.item_sku)
    min_qty = np.array([p.item_min_qty(i) for i in range(I)], dtype=np.int64).reshape(I)
    lead = p.lead_time[p.item_supplier].astype(np.int64).reshape(I)
    U = len(p.supplier_ids)
    sup = np.array([[p.supplier_cap(u, t) for t in range(T)] for u in range(U)],
                   dtype=np.int64).reshape(U, T)
    recv = np.array([[p.receiving_cap(n, t) for t in range(T)] for n in range(N)],
                    dtype=np.int64).reshape(N, T)
    t = np.arange(T)[None, :]
    usable = (t + lead[:, None] <= T - 1)
    if I:
        cap = sup[p.item_supplier]                                    # [I, T]
        usable &= (cap < 0) | (min_qty[:, None] <= cap)
        if p.budget is not None:
            # (a relative 1e-9 of slack for floating point: keeping an option is always safe)
            budget = float(p.budget) * (1 + 1e-9)
            usable &= (p.item_unit_cost * min_qty <= budget)[:, None]
    return OrderOptions(min_qty, lead, usable.reshape(I, T), recv)
