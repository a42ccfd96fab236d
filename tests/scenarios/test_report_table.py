"""``scenario compare``'s terminal table: columns separated and aligned whatever their widths."""

from __future__ import annotations

import json
import re

from scenarios.report import kpi_table


def _folder(root, name, points):
    (root / name).mkdir()
    (root / name / "summary.json").write_text(json.dumps({"summary": {
        point: {"kpis": {k: {"mean": v} for k, v in kpis.items()}}
        for point, kpis in points.items()}}))
    return root / name


def test_columns_never_run_together_and_line_up(tmp_path):
    a = _folder(tmp_path, "a", {"base": {"split_shipment_rate": 0.0529, "orders": 12000,
                                         "avg_inventory_value": 1073402.76}})
    b = _folder(tmp_path, "baseline-with-a-long-name", {
        "base": {"split_shipment_rate": 0.0, "orders": 9, "avg_inventory_value": 1073402.76},
        "demand.orders_per_day=400": {"split_shipment_rate": 0.25, "orders": 123456789,
                                      "avg_inventory_value": 12.5}})
    lines = kpi_table([a, b]).splitlines()
    cells = [re.split(r"\s{2,}", line) for line in lines]
    assert cells == [
        ["KPI", "a", "baseline-with-a-long-name",
         "baseline-with-a-long-name[demand.orders_per_day=400]"],
        ["Split-shipment rate", "0.0529", "0.0000 (-0.0529)", "0.2500 (+0.1971)"],
        ["Average inventory value", "1,073,402.76", "1,073,402.76 (+0.0000)",
         "12.50 (-1,073,390.26)"],
        ["Orders", "12,000", "9 (-11,991)", "123,456,789 (+123,444,789)"]]
    # right-aligned columns: every line ends at the same place, and each value column's
    # cells end at the same offset as its header
    assert len({len(line) for line in lines}) == 1
    for col in range(1, 4):
        ends = {line.index(cell) + len(cell) for line, row in zip(lines, cells)
                for cell in [row[col]]}
        assert len(ends) == 1, (col, ends)


def test_a_kpi_missing_from_a_later_run_shows_a_dash(tmp_path):
    a = _folder(tmp_path, "a", {"base": {"orders": 5, "inventory_turns": 3.5}})
    b = _folder(tmp_path, "b", {"base": {"orders": 7}})
    rows = [re.split(r"\s{2,}", line) for line in kpi_table([a, b]).splitlines()]
    assert rows[1:] == [["Inventory turns (annualised)", "3.5000", "—"],
                        ["Orders", "5", "7 (+2)"]]
