"""gunicorn settings: ``gunicorn -c gunicorn.conf.py wsgi:app``.

Web workers are stateless; every request opens its own unit of work.
Override any of these with GUNICORN_CMD_ARGS or flags, except the timeout:
set STOCKROUTE_WORKER_TIMEOUT, which the app's solve limit is checked against.
"""

import multiprocessing
import os

from webapp.config import max_solve_seconds, worker_timeout_seconds

bind = os.environ.get("STOCKROUTE_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", min(4, multiprocessing.cpu_count() * 2)))
threads = int(os.environ.get("STOCKROUTE_THREADS", "1"))
# One setting for both: an HTTP solve may take at most STOCKROUTE_MAX_SOLVE_SECONDS,
# which must stay SOLVE_MARGIN_S below this timeout (checked here, at start).
# Change it with STOCKROUTE_WORKER_TIMEOUT, not --timeout, so the two stay consistent.
timeout = worker_timeout_seconds()
max_solve_seconds(timeout)
graceful_timeout = 30
accesslog = "-"
errorlog = "-"

# Prometheus multi-process mode: every worker writes its metrics to files in
# this folder and /metrics adds them up. It must be set before the workers
# import the app, i.e. here; files of a previous run are cleared at start.
if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    import tempfile
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="stockroute-metrics-")


def on_starting(server):
    folder = os.environ["PROMETHEUS_MULTIPROC_DIR"]
    os.makedirs(folder, exist_ok=True)
    for name in os.listdir(folder):
        if name.endswith(".db"):
            os.remove(os.path.join(folder, name))


def child_exit(server, worker):
    from prometheus_client import multiprocess
    multiprocess.mark_process_dead(worker.pid)
