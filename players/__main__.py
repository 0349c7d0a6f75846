"""Record real-browser runs as data: ``python -m players OUT_DIR [--seconds 90] ...``.

Writes one folder per integration and download condition under ``OUT_DIR``
(``hls/``, ``hls-slow/``, ``videojs/``, ``videojs-slow/``), each with the sandbox's
``pings.ndjson`` and the pages' ``truth.json`` (see :func:`players.harness.record`).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from . import harness


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m players", description=__doc__)
    parser.add_argument("out", type=Path)
    parser.add_argument("--seconds", type=int, default=90, help="length of the test video")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--seeds", type=int, nargs="*", default=None,
        help="record these seeds' viewers together, one folder per group (instead of --seed)",
    )  # fmt: skip
    parser.add_argument("--integrations", nargs="*", default=["hls", "videojs"])
    parser.add_argument("--kinds", nargs="*", default=["pauser", "scrubber", "reloader", "ender"])
    parser.add_argument("--parallel", type=int, default=4)
    parser.add_argument(
        "--conditions", nargs="*", default=["full", "slow"], choices=["full", "slow"],
        help="full: the video downloads at full speed; slow: still downloading as it plays",
    )  # fmt: skip
    args = parser.parse_args(argv)
    missing = harness.requirements()
    if missing:
        print("cannot record: " + "; ".join(missing), file=sys.stderr)
        return 2
    for integration in args.integrations:
        for throttled in [c == "slow" for c in args.conditions]:
            group = [
                v
                for seed in (args.seeds if args.seeds else [args.seed])
                for v in harness.viewers(
                    args.seconds,
                    integration=integration,
                    seed=seed,
                    kinds=args.kinds,
                    throttled=throttled,
                )
            ]
            name = integration + ("-slow" if throttled else "")
            rec = harness.record(
                args.out / name, group, seconds=args.seconds, parallel=args.parallel
            )
            print(f"{name}: {len(group)} viewers in {rec.run.seconds:.0f} s, "
                  f"errors: {rec.run.errors or 'none'}", flush=True)  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
