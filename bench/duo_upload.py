"""Benchmark: memory and time of a DUO upload through the web page (issue 14 item 8).

Builds a DUO locations file of the given size (default 32 MB, the upload limit) from the
real file's rows, each under a location code of its own (so every row is a new school:
the heaviest import), uploads it as an administrator through the test client, and prints
the Python heap peak (tracemalloc) during the request, the process's peak RSS and the time.

    .venv/bin/python bench/duo_upload.py            # 32 MB, SQLite in a temporary directory
    .venv/bin/python bench/duo_upload.py --mb 8
    DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1/techlab_bench .venv/bin/python bench/duo_upload.py
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
LOCATIONS = ROOT / "data/duo/02.-alle-schoolvestigingen-basisonderwijs.csv"
ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def _brin(n: int) -> str:
    chars = []
    for _ in range(4):
        n, r = divmod(n, 36)
        chars.append(ALPHABET[r])
    return "".join(reversed(chars))


def make_locations_file(path: Path, size: int) -> int:
    """A DUO locations file of about ``size`` bytes with a new location code on every row; its row count."""
    from app.schools.duo import decode

    lines = decode(LOCATIONS.read_bytes()).splitlines()
    header, rows = lines[0], [r.split(";") for r in lines[1:] if r.strip()]
    cols = header.split(";")
    i_brin, i_loc = cols.index("INSTELLINGSCODE"), cols.index("VESTIGINGSCODE")
    written, n = 0, 0
    with open(path, "w", encoding="utf-8", newline="") as f:
        f.write(header + "\r\n")
        written += len(header) + 2
        while True:
            row = list(rows[n % len(rows)])
            brin = _brin(n // 100)
            row[i_brin], row[i_loc] = brin, f"{brin}{n % 100:02d}"
            line = ";".join(row) + "\r\n"
            if written + len(line.encode("utf-8")) > size:
                break
            f.write(line)
            written += len(line.encode("utf-8"))
            n += 1
    return n


def measure_upload(client, path: Path) -> dict:
    """Upload one DUO file through the page; the heap peak during the request, RSS and time."""
    import gc

    gc.collect()
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    tracemalloc.start()
    started = time.perf_counter()
    with open(path, "rb") as f:
        resp = client.post(
            "/regiobeheer/schoolgegevens/duo",
            data={"files": (f, path.name), "from_year": "2019"},
            content_type="multipart/form-data",
        )
    elapsed = time.perf_counter() - started
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return {
        "status": resp.status_code,
        "heap_peak": peak,
        "seconds": elapsed,
        "rss_before": rss_before,
        "rss_peak": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
        "body": resp.get_data(as_text=True),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument(
        "--mb", type=float, default=32.0, help="the file's size; the upload limit leaves 16 KB for the form"
    )
    args = parser.parse_args()
    os.environ.setdefault("APP_ENV", "testing")
    from app import create_app
    from app.auth.models import Role
    from app.auth.services import create_user
    from app.extensions import db

    with tempfile.TemporaryDirectory() as tmp:
        url = os.environ.get("DATABASE_URL") or f"sqlite:///{tmp}/bench.sqlite3"
        app = create_app(
            {
                "TESTING": True,
                "SQLALCHEMY_DATABASE_URI": url,
                "WTF_CSRF_ENABLED": False,
                "MAIL_BACKEND": "console",
                "SECRET_KEY": "bench",
            }
        )
        with app.app_context():
            db.drop_all()
            db.create_all()
            create_user(email="bench-admin@example.org", role=Role.ADMIN, password="bench-password-123")
            db.session.commit()
        path = Path(tmp) / "02.-alle-schoolvestigingen-bench.csv"
        rows = make_locations_file(path, int(args.mb * 1024 * 1024) - 16 * 1024)
        client = app.test_client()
        assert (
            client.post(
                "/inloggen", data={"email": "bench-admin@example.org", "password": "bench-password-123"}
            ).status_code
            == 302
        )
        result = measure_upload(client, path)
        if result["status"] >= 400 and os.environ.get("BENCH_DEBUG"):
            print(result["body"][-3000:])
        mb = 1024 * 1024
        print(
            f"DUO upload of {path.stat().st_size / mb:.1f} MB ({rows} rows, every one a new school), "
            f"{app.config['SQLALCHEMY_DATABASE_URI'].split(':')[0]}"
        )
        print(f"  answer {result['status']} in {result['seconds']:.1f} s (under tracemalloc)")
        print(f"  Python heap peak during the request: {result['heap_peak'] / mb:.0f} MB (tracemalloc)")
        print(
            f"  process peak RSS: {result['rss_peak'] / mb:.0f} MB (before the upload: {result['rss_before'] / mb:.0f} MB)"
        )


if __name__ == "__main__":
    main()
