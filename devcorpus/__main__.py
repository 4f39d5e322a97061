"""Build a competition folder from the development corpus: python -m devcorpus TASK OUT [--rows N]."""

from __future__ import annotations

import argparse

from devcorpus import TASKS, build


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("task", choices=sorted(TASKS))
    parser.add_argument("out")
    parser.add_argument("--rows", type=int, default=None)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--overwrite", action="store_true")
    args = parser.parse_args()
    print(build(args.task, args.out, rows=args.rows, seed=args.seed, overwrite=args.overwrite))


if __name__ == "__main__":
    main()
