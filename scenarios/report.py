"""Report folders: summary.json, CSVs, PNG charts and one self-contained HTML page."""

from __future__ import annotations

import base64
import html
import json
from pathlib import Path

import matplotlib
matplotlib.use("Agg")  # files only; no display
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

KPI_LABELS = {
    "fill_rate_units": "Fill rate (units)", "fill_rate_orders": "Fill rate (orders, first pass)",
    "backorder_units_end": "Backorder units at end", "backorder_value_end": "Backorder value at end",
    "backorder_unit_days": "Backorder unit-days", "split_shipment_rate": "Split-shipment rate",
    "cost_per_order": "Shipping + handling per order", "cycle_time_days": "Order cycle time (days)",
    "node_utilisation": "Node utilisation", "stockout_sku_days": "Stockout SKU-days",
    "po_spend": "PO spend", "avg_inventory_value": "Average inventory value",
    "inventory_turns": "Inventory turns (annualised)", "orders": "Orders",
}


def _daily_frame(run: dict) -> pd.DataFrame:
    frame = pd.DataFrame(run["daily"])
    frame["date"] = pd.to_datetime(frame["date"])
    frame["fill_rate"] = (frame["units_shipped"] / frame["units_ordered"]).clip(upper=1.0)
    return frame


def _charts(runs_by_label: dict[str, dict], out: Path) -> list[Path]:
    paths = []
    fig, ax = plt.subplots(2, 1, figsize=(9, 6), sharex=True)
    for label, run in runs_by_label.items():
        f = _daily_frame(run)
        ax[0].plot(f["date"], f["fill_rate"], label=label)
        ax[1].plot(f["date"], f["backorder_units"], label=label)
    ax[0].set_ylabel("daily fill rate")
    ax[1].set_ylabel("open backorder units")
    ax[0].legend(loc="lower left", fontsize=8)
    fig.autofmt_xdate()
    fig.tight_layout()
    paths.append(out / "fill_rate_and_backorders.png")
    fig.savefig(paths[-1], dpi=110)
    plt.close(fig)

    first_label, first = next(iter(runs_by_label.items()))
    for key, name, ylabel in (("inventory_value_by_node", "inventory_by_node.png",
                               "inventory value (at cost)"),
                              ("utilisation_by_node", "node_utilisation.png",
                               "share of daily unit capacity")):
        f = pd.DataFrame([d[key] for d in first["daily"]],
                         index=pd.to_datetime([d["date"] for d in first["daily"]]))
        fig, axis = plt.subplots(figsize=(9, 4))
        if f.columns.empty:   # nothing stocked anywhere (a world that starts empty)
            axis.text(0.5, 0.5, "no stock at any node", ha="center", va="center",
                      transform=axis.transAxes)
        elif key == "inventory_value_by_node":
            axis.stackplot(f.index, f.T.fillna(0).values, labels=f.columns)
        else:
            for col in f.columns:
                axis.plot(f.index, f[col], label=col)
        axis.set_ylabel(ylabel)
        axis.set_title(f"{first_label}")
        if not f.columns.empty:
            axis.legend(loc="upper left", fontsize=7, ncol=4)
        fig.autofmt_xdate()
        fig.tight_layout()
        paths.append(out / name)
        fig.savefig(paths[-1], dpi=110)
        plt.close(fig)
    return paths


def _fmt(v) -> str:
    if isinstance(v, float):
        return f"{v:,.4f}" if abs(v) < 10 else f"{v:,.2f}"
    return "" if v is None else f"{v:,}" if isinstance(v, int) else str(v)


def write_report(name: str, runs: list[dict], summary: dict, out: Path) -> Path:
    """Write the report folder for one scenario run; returns the HTML path."""
    out.mkdir(parents=True, exist_ok=True)
    (out / "summary.json").write_text(json.dumps(
        {"scenario": name, "summary": summary,
         "runs": [{"seed": r["seed"], "params": r["params"], "kpis": r["kpis"],
                   "seconds": r["seconds"]} for r in runs]}, indent=2, default=str))
    pd.DataFrame([{"seed": r["seed"], **{f"param:{k}": v for k, v in r["params"].items()},
                   **r["kpis"], "seconds": r["seconds"]} for r in runs]).to_csv(
        out / "kpis.csv", index=False)
    daily = []
    for r in runs:
        for d in r["daily"]:
            row = {k: v for k, v in d.items() if not isinstance(v, dict)}
            daily.append({"seed": r["seed"], **{f"param:{k}": v for k, v in r["params"].items()},
                          **row})
    pd.DataFrame(daily).to_csv(out / "daily.csv", index=False)
    by_label = {}
    for r in runs:
        label = " ".join(f"{k}={v}" for k, v in sorted(r["params"].items())) or "base"
        by_label.setdefault(label, r)  # first replication of each point
    charts = _charts(by_label, out)
    return _html(name, summary, charts, out / "report.html")


def _html(title: str, summary: dict, charts: list[Path], path: Path) -> Path:
    rows = []
    points = list(summary)
    names = [k for k in KPI_LABELS if k in summary[points[0]]["kpis"]]
    head = "".join(f"<th>{html.escape(p)}</th>" for p in points)
    for k in names:
        cells = "".join(
            f"<td class=num>{_fmt(summary[p]['kpis'][k]['mean'])}"
            + (f" <small>± {_fmt(summary[p]['kpis'][k]['std'])}</small>"
               if summary[p]["replications"] > 1 else "") + "</td>" for p in points)
        rows.append(f"<tr><th>{KPI_LABELS[k]}</th>{cells}</tr>")
    images = "".join(
        f'<figure><img alt="{p.stem}" src="data:image/png;base64,'
        f'{base64.b64encode(p.read_bytes()).decode()}"></figure>' for p in charts)
    path.write_text(f"""<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>{html.escape(title)} — stockroute scenario</title>
<style>body{{font:14px/1.45 system-ui,sans-serif;margin:2rem;color:#1d2330}}
table{{border-collapse:collapse}}th,td{{padding:.3rem .7rem;border-bottom:1px solid #dfe3ea;text-align:left}}
.num{{text-align:right;font-variant-numeric:tabular-nums}}small{{color:#5b6475}}img{{max-width:100%}}</style>
</head><body><h1>{html.escape(title)}</h1>
<p>Mean over replications (± standard deviation where there are several).</p>
<table><thead><tr><th>KPI</th>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>
{images}</body></html>""")
    return path


def compare(run_dirs: list[Path], out: Path) -> Path:
    """Several report folders side by side: KPI table with deltas against the first."""
    out.mkdir(parents=True, exist_ok=True)
    loaded = []
    for d in run_dirs:
        data = json.loads((Path(d) / "summary.json").read_text())
        for point, s in data["summary"].items():
            loaded.append((f"{data['scenario']} [{point}]" if point != "base" else data["scenario"],
                           {k: v["mean"] for k, v in s["kpis"].items()}))
    base_label, base = loaded[0]
    rows = []
    for k, label in KPI_LABELS.items():
        if k not in base:
            continue
        cells = [f"<td class=num>{_fmt(base[k])}</td>"]
        for _, kp in loaded[1:]:
            delta = kp.get(k, 0) - base[k]
            pct = f" ({delta / base[k] * 100:+.1f}%)" if base[k] else ""
            cells.append(f"<td class=num>{_fmt(kp.get(k))} <small>{delta:+,.4g}{pct}</small></td>")
        rows.append(f"<tr><th>{label}</th>{''.join(cells)}</tr>")
    frames = {}
    for d in run_dirs:
        daily = pd.read_csv(Path(d) / "daily.csv")
        first_seed = daily["seed"].iloc[0]
        frames[Path(d).name] = daily[daily["seed"] == first_seed]
    fig, ax = plt.subplots(2, 1, figsize=(9, 6), sharex=True)
    for label, f in frames.items():
        dates = pd.to_datetime(f["date"])
        ax[0].plot(dates, (f["units_shipped"] / f["units_ordered"]).clip(upper=1), label=label)
        ax[1].plot(dates, f["backorder_units"], label=label)
    ax[0].set_ylabel("daily fill rate")
    ax[1].set_ylabel("open backorder units")
    ax[0].legend(fontsize=8)
    fig.autofmt_xdate()
    fig.tight_layout()
    chart = out / "compare.png"
    fig.savefig(chart, dpi=110)
    plt.close(fig)
    head = "".join(f"<th>{html.escape(l)}</th>" for l, _ in loaded)
    path = out / "compare.html"
    path.write_text(f"""<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>Scenario comparison</title><style>body{{font:14px/1.45 system-ui,sans-serif;margin:2rem}}
table{{border-collapse:collapse}}th,td{{padding:.3rem .7rem;border-bottom:1px solid #dfe3ea}}
.num{{text-align:right}}small{{color:#5b6475}}img{{max-width:100%}}</style></head><body>
<h1>Scenario comparison</h1><p>Deltas against {html.escape(base_label)}.</p>
<table><thead><tr><th>KPI</th>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>
<img alt="compare" src="data:image/png;base64,{base64.b64encode(chart.read_bytes()).decode()}">
</body></html>""")
    return path


def _fmt_delta(d) -> str:
    if isinstance(d, float):
        return f"{d:+,.4f}" if abs(d) < 10 else f"{d:+,.2f}"
    return f"{d:+,}"


def kpi_table(paths: list[Path]) -> str:
    """A plain-text KPI table for the terminal (``scenario compare``): one column per run
    (each sweep point its own), later runs with their difference from the first; every
    column as wide as its widest cell, separated by at least two spaces."""
    loaded = []
    for d in paths:
        data = json.loads((Path(d) / "summary.json").read_text())
        for point, s in data["summary"].items():
            loaded.append((Path(d).name + ("" if point == "base" else f"[{point}]"),
                           {k: v["mean"] for k, v in s["kpis"].items()}))
    base = loaded[0][1]
    table = [["KPI"] + [name for name, _ in loaded]]
    for k, label in KPI_LABELS.items():
        if k not in base:
            continue
        row = [label, _fmt(base[k])]
        for _, kp in loaded[1:]:
            v = kp.get(k)
            row.append("—" if v is None else f"{_fmt(v)} ({_fmt_delta(v - base[k])})")
        table.append(row)
    widths = [max(len(row[c]) for row in table) for c in range(len(table[0]))]
    return "\n".join(
        "  ".join([row[0].ljust(widths[0])] + [cell.rjust(w) for cell, w in
                                               zip(row[1:], widths[1:])]).rstrip()
        for row in table)
