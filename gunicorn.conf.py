"""gunicorn settings: ``gunicorn -c gunicorn.conf.py wsgi:app``.

Web workers are stateless; every request opens its own unit of work.
Override any of these with GUNICORN_CMD_ARGS or flags.
"""

import multiprocessing
import os

bind = os.environ.get("STOCKROUTE_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", min(4, multiprocessing.cpu_count() * 2)))
threads = int(os.environ.get("STOCKROUTE_THREADS", "1"))
timeout = 60
graceful_timeout = 30
accesslog = "-"
errorlog = "-"
