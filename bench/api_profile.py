"""cProfile of the API's read paths in one process (Flask's test client, no gunicorn): where CPU goes.

    python bench/api_profile.py [--requests 2000] [--messages 2000] [--path task_status] [--top 30]

The same seeded mailbox and paths as bench/api_bench.py; prints the top functions by own time and by
cumulative time. The test client adds WSGI environ building of its own, which gunicorn's parser
replaces; everything from the app's first hook on is what a worker runs per request.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from api_bench import path_lists, seed  # noqa: E402
from api_servers import BENCH_ENV  # noqa: E402
from bench_env import bench_servers  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--path", default="task_status")
    parser.add_argument("--top", type=int, default=30)
    parser.add_argument("--plain", action="store_true", help="no profiler: CPU per request only")
    args = parser.parse_args()
    with bench_servers(env={**BENCH_ENV, "LOG_LEVEL": "WARNING"}):
        seeded = seed(args.messages)
        from email_service import create_app

        client = create_app().test_client()
        headers = {"Authorization": f"Bearer {seeded['token']}"}
        paths = path_lists(seeded)[args.path]
        for i in range(50):
            assert client.get(paths[i % len(paths)], headers=headers).status_code == 200
        profile = cProfile.Profile()
        started = time.process_time()
        if not args.plain:
            profile.enable()
        for i in range(args.requests):
            client.get(paths[i % len(paths)], headers=headers)
        profile.disable()
        cpu_ms = (time.process_time() - started) * 1000 / args.requests
    if args.plain:
        print(f"{args.path} cpu_ms_per_request {cpu_ms:.3f}")
        return
    out = io.StringIO()
    stats = pstats.Stats(profile, stream=out)
    stats.sort_stats("tottime").print_stats(args.top)
    stats.sort_stats("cumulative").print_stats(args.top)
    print(f"cpu_ms_per_request (profiled) {cpu_ms:.3f}")
    print(out.getvalue())


if __name__ == "__main__":
    main()
