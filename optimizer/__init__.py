"""Pure decision code: routing and replenishment models, baselines, forecasting.

No database, no Flask: problems come in as validated objects, plans go out.
"""
