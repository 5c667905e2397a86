"""Peak memory and time of `grumble import` on a large CSV: the streaming import against the whole
file read at once (the way it worked before), each in a fresh process.

    python bench/import_memory.py [--rows 200000]

Writes a CSV of `rows` review-like rows (about 30 MB for 200,000) to a temporary folder, then imports
it into a new SQLite store twice: streamed in 1,000-row transactions (collect/file_import.import_file),
and read whole then stored in one transaction (read_file + import_mentions). Prints rows stored,
seconds and peak resident memory (VmHWM) of each, and their ratio.
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import tempfile
from pathlib import Path

CHILD = """
import json, sys, time
from pathlib import Path
from monitor.store.engine import connect
from monitor.collect.file_import import import_file
from monitor.sources.tabular import read_file
from monitor.store.mentions import import_mentions, count_mentions
mode, path, db = sys.argv[1], Path(sys.argv[2]), sys.argv[3]
engine = connect(f"sqlite:///{db}")
start = time.perf_counter()
if mode == "stream":
    import_file(engine, "acme", path)
else:
    import_mentions(engine, "acme", read_file(path).mentions)
seconds = time.perf_counter() - start
peak = next(int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("VmHWM:")) / 1024
print(json.dumps({"mode": mode, "rows": count_mentions(engine), "seconds": seconds, "peak_mb": peak}))
"""

WORDS = "the app crashed again after update and support never answered my refund request is still".split()  # noqa: SIM905


def write_csv(path: Path, rows: int) -> None:
    rng = random.Random(1)
    with path.open("w", encoding="utf-8") as handle:
        handle.write("id,text,author,url,created_at,rating\n")
        for i in range(rows):
            text = " ".join(rng.choice(WORDS) for _ in range(22))
            handle.write(
                f'r{i},"{text}",user{i % 5000},https://shop.example/r/{i},'
                f"2026-0{1 + i % 9}-1{i % 9}T10:{i % 60:02d}:00Z,{1 + i % 5}\n"
            )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=200_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        csv_path = Path(tmp) / "reviews.csv"
        write_csv(csv_path, args.rows)
        print(f"{args.rows} rows, {csv_path.stat().st_size / 1e6:.1f} MB of CSV")
        results = {}
        for mode in ("stream", "whole"):
            out = subprocess.run(
                [sys.executable, "-c", CHILD, mode, str(csv_path), str(Path(tmp) / f"{mode}.db")],
                check=True,
                capture_output=True,
                text=True,
            ).stdout
            results[mode] = json.loads(out.strip().splitlines()[-1])
            r = results[mode]
            print(f"{mode:>6}: {r['rows']} rows stored in {r['seconds']:.1f} s, peak {r['peak_mb']:.0f} MB")
        ratio = results["whole"]["peak_mb"] / results["stream"]["peak_mb"]
        print(f"peak memory: streamed import uses 1/{ratio:.1f} of the whole-file import's")


if __name__ == "__main__":
    main()
