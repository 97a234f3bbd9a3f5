"""`make bench`: run every bench/bench_*.py (or those named on the command line)."""

from __future__ import annotations

import runpy
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> None:
    sys.path.insert(0, str(HERE))
    wanted = sys.argv[1:]
    for path in sorted(HERE.glob("bench_*.py")):
        if wanted and path.stem not in wanted and path.stem.removeprefix("bench_") not in wanted:
            continue
        print(f"== {path.stem}")
        runpy.run_path(str(path), run_name="__main__")


if __name__ == "__main__":
    main()
