"""gunicorn settings: ``gunicorn -c gunicorn.conf.py wsgi:app``.

Every value can be changed from the environment, so one file serves a laptop, a single
machine and several machines behind a load balancer.
"""

import multiprocessing
import os


def _int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    return int(value) if value else default


# where to listen: BIND wins ("0.0.0.0:8000", "unix:/run/techlab/web.sock"), else HOST:PORT;
# the default is loopback only, for a reverse proxy on the same machine
bind = [os.environ.get("BIND") or f"{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '8000')}"]

# processes × threads: one process per core, each with a few threads that overlap the
# request's database round trips. Measured with bench/booking_rush.py on 2 cores (README,
# Benchmarks): 2 × 4 gthread served the booking rush at least as fast as 2×1, 4×1 (sync),
# 2×2, 3×2 and the former 5 × 4 (2 × cores + 1 processes), and 5 × 4 had the longest tail
# (more transactions holding session locks while they wait for a core).
# WEB_CONCURRENCY is the name most platforms set; WORKER_CLASS=sync for one request per process
workers = _int("WEB_CONCURRENCY", _int("WORKERS", max(2, multiprocessing.cpu_count())))
worker_class = os.environ.get("WORKER_CLASS", "gthread")
threads = _int("THREADS", 4)

# each worker imports the app itself and opens its own database pool (never shared across a fork)
preload_app = False

timeout = _int("TIMEOUT", 60)  # a worker silent this long is restarted (exports take a few seconds)
graceful_timeout = _int("GRACEFUL_TIMEOUT", 30)
keepalive = _int("KEEPALIVE", 5)  # seconds; above the load balancer's idle timeout is not needed

# recycle workers now and then (slow leaks), not all at once
max_requests = _int("MAX_REQUESTS", 2000)
max_requests_jitter = _int("MAX_REQUESTS_JITTER", 200)

# which proxies may tell us the scheme (X-Forwarded-Proto); the app's ProxyFix (PROXY_COUNT)
# takes the client address from X-Forwarded-For
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1,::1")

# logs: gunicorn's own lines and the access log as JSON lines (LOG_FORMAT=text for people);
# the access line carries the request id the app puts in X-Request-ID
accesslog = os.environ.get("ACCESS_LOG", "-") or None
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "info").lower()
logger_class = (
    "app.ops.gunicorn_logging.TextLogger"
    if os.environ.get("LOG_FORMAT", "json").lower() == "text"
    else "app.ops.gunicorn_logging.JsonLogger"
)

# the app's own temporary files stay in memory-backed storage where there is one
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None
proc_name = "techlab-web"

# gunicorn's control socket (for `gunicornc`) defaults to one path per user, shared by every
# gunicorn of that user on the machine: off unless CONTROL_SOCKET names a path of its own
# (under systemd: RuntimeDirectory=techlab, CONTROL_SOCKET=/run/techlab/gunicorn.ctl)
if os.environ.get("CONTROL_SOCKET"):
    control_socket = os.environ["CONTROL_SOCKET"]
else:
    control_socket_disable = True
