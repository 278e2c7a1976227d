"""gunicorn settings for surveyapp: ``gunicorn -c gunicorn.conf.py wsgi:app``.

The README's "Serving" section explains each choice. Override any of them on the command line
(``-b 0.0.0.0:8000``, ``-w 4``) or in GUNICORN_CMD_ARGS; the application's own settings stay in
SURVEYAPP_* variables (surveyapp/config.py).
"""
import multiprocessing

bind = "127.0.0.1:8000"
# One process per core; each serves 2 requests at once with threads, so a resident whose
# request waits on the database does not hold a whole process. Not more: the threads of a
# process share one interpreter lock, and under 64 residents on 2 cores 4 threads gave the
# cycle a p99 of 237-321 ms where 2 gave 201-251 ms in 5 of 6 runs (benchmarks/RESULTS.md).
workers = multiprocessing.cpu_count()
worker_class = "gthread"
threads = 2
# Every worker builds its own application, engine and connection pool after the fork:
# nothing (threads, sockets, pooled connections) is shared with the master or a sibling.
preload_app = False
# A request that takes longer than this is cut and its worker replaced; a resident's submit
# takes milliseconds, a district report (the slowest page) a few seconds.
timeout = 60
graceful_timeout = 30
# Applies only with more connections than threads (on_starting): with as many, gunicorn keeps
# no connection alive and each response closes its own (a proxy in front keeps the clients').
keepalive = 5
# Workers are replaced after this many requests (spread by the jitter, so not all at once):
# bounds the memory any one process can accumulate. Not fewer: a worker serves ~400 requests/s
# at full load, and while its successor loads the app the other workers carry everything (at
# 5000 a worker was replaced every ~12 s, and the residents queued behind it waited seconds).
max_requests = 100_000
max_requests_jitter = 10_000
# No control socket: nothing here uses it, and it would be one more thread in the master.
control_socket_disable = True


def on_starting(server):
    """A gthread worker takes no more connections than it has threads (unless
    ``--worker-connections`` says otherwise): with gunicorn's default of 1000 a busy worker
    kept accepting and queued residents behind its own threads while its sibling was free.
    Under 64 residents on 2 cores, 4 threads: the cycle's p99 went 343-515 ms -> 237-321 ms
    (benchmarks/RESULTS.md)."""
    setting = server.cfg.settings["worker_connections"]
    if setting.value == setting.default:
        server.cfg.set("worker_connections", server.cfg.threads)


on_reload = on_starting  # a reload (SIGHUP) reads this file afresh, before the new workers


def post_fork(server, worker):
    """With request threads on Python 3.11, the cyclic collector runs only between requests:
    3.11's collection inside an allocation crashed gthread workers (surveyapp.gc_safepoints)."""
    if server.cfg.threads > 1:
        from surveyapp.gc_safepoints import collect_only_at_safe_points

        collect_only_at_safe_points()
