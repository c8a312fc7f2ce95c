"""Throughput and accuracy of parse+score over a ham/ + spam/ corpus, next to SpamAssassin if installed.

Usage: python bench/spam_bench.py [--corpus DIR] [--sa-sample 300]
SpamAssassin runs as one spamd on loopback with local tests only (-L); prints one JSON line.
"throughput" is read+parse+score per CPU-second of this one process (one core), so other load on a
shared machine does not distort it; the goal is 300 messages a second per core.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from email_service.spam.corpus import CorpusFile, default_corpus_dir, is_holdout, list_corpus
from email_service.spam.evaluate import evaluate_dir, metrics
from email_service.spam.model import global_model, score_message


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_for(port: int, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.5)
    raise TimeoutError("spamd did not start")


def spamassassin(files: list[CorpusFile]) -> dict[str, Any] | None:
    """Score files through spamc against a private spamd (local tests only); None if SA is absent."""
    spamd, spamc = shutil.which("spamd") or "/usr/sbin/spamd", shutil.which("spamc")
    if not spamc or not Path(spamd).exists():
        return None
    port = _free_port()
    cmd = [spamd, "-L", "-p", str(port), "-i", "127.0.0.1", "-A", "127.0.0.1", "-m", "1", "-u", "nobody"]
    server = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _wait_for(port)
        predictions = []
        start = time.perf_counter()
        for item in files:
            done = subprocess.run(
                [spamc, "-p", str(port), "-c", "-s", "5000000"],
                input=item.path.read_bytes(),
                capture_output=True,
                check=False,
            )
            predictions.append(done.returncode == 1)
        result = metrics([f.label for f in files], predictions, time.perf_counter() - start)
    finally:
        server.terminate()
        server.wait(timeout=30)
    result["version"] = subprocess.run([spamd, "--version"], capture_output=True, text=True).stdout.split(
        "\n"
    )[0]
    return result


MIN_PER_CORE = 300.0


def throughput(files: list[CorpusFile]) -> dict[str, Any]:
    """Messages per CPU-second and per wall-second of read+parse+score in this process."""
    global_model()
    wall, cpu = time.perf_counter(), time.process_time()
    for item in files:
        score_message(item.path.read_bytes())
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    per_core = len(files) / cpu if cpu > 0 else None
    return {
        "messages": len(files),
        "msgs_per_cpu_second": round(per_core, 1) if per_core else None,
        "msgs_per_wall_second": round(len(files) / wall, 1) if wall > 0 else None,
        "goal_per_core": MIN_PER_CORE,
        "meets_goal": bool(per_core and per_core >= MIN_PER_CORE),
    }


def main() -> int:
    """Run both benchmarks and print one JSON line."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--corpus", type=Path, default=None)
    parser.add_argument("--sa-sample", type=int, default=300, help="messages for SpamAssassin (it is slow)")
    args = parser.parse_args()
    corpus = args.corpus or default_corpus_dir()
    ours = evaluate_dir(corpus)
    held_out = [f for f in list_corpus(corpus) if is_holdout(f.name)]  # a fixed sample (model v5 saw it)
    sample = random.Random(1).sample(held_out, k=min(args.sa_sample, len(held_out)))
    sample_ours = metrics(
        [f.label for f in sample], [score_single(f) for f in sample], 1.0
    )  # same sample for a fair comparison
    sample_ours.pop("msgs_per_second")
    report = {
        "email_service_full": ours,
        "email_service_sample": sample_ours,
        "throughput": throughput(list_corpus(corpus)),
        "spamassassin_sample": spamassassin(sample),
    }
    print(json.dumps(report))
    return 0


def score_single(item: CorpusFile) -> bool:
    """Shipped-model decision for one file."""
    return score_message(item.path.read_bytes()).is_spam


if __name__ == "__main__":
    sys.exit(main())
