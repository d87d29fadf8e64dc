"""gunicorn settings of the web process: ``gunicorn -c python:tracker.gunicorn_conf``.

They ship in the package, so a checkout and an installed site start the same way (in a checkout
``gunicorn -c gunicorn.conf.py`` reads them too). Flags on the command line override them.

Threads, not one request per process: a long response (a CSV export of every event, a slow
client) holds one thread, and ``tracker.exports.limits`` lets exports take at most half of a
process's threads, so page views always find one free. ``tests/load/test_export_isolation.py``
measures page latency beside concurrent exports with exactly these settings.
"""

wsgi_app = "tracker.wsgi:application"
bind = "127.0.0.1:8000"
worker_class = "gthread"
workers = 3
threads = 8  # exports.limits.MAX_PER_PROCESS = 4 of them at most serve CSV exports
# With gthread this bounds a hung worker process, not a request: a long export is not killed.
timeout = 60
accesslog = "-"
