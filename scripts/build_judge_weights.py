"""Rebuild the default judge's scorer weights (src/distillscope/ice/data/judge-weights.bin) from the
shared data and the audited labels in bench/data, byte for byte.

    python scripts/build_judge_weights.py            # write the package's file
    python scripts/build_judge_weights.py --out F    # write elsewhere (e.g. to use with --judge-weights F)
    python scripts/build_judge_weights.py --check    # exit 1 if a rebuild differs from the committed file

Needs ../shared/data (paper-ice-labels.jsonl and ice-gold/) beside the repository and scikit-learn.
What is trained on what, and why, is in distillscope/ice/judges/training.py and docs/guides/judge.md.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared" / "data"
PACKAGE_FILE = REPO / "src" / "distillscope" / "ice" / "data" / "judge-weights.bin"


def audits(shared: Path = SHARED) -> list[Path]:
    """The audited labels the scorer trains on: ice-gold's dev-gold first, then the project's audits."""
    from distillscope.ice.judges.training import AUDIT_FILES

    return [shared / "ice-gold" / "dev-gold.jsonl", *(REPO / "bench" / "data" / name for name in AUDIT_FILES)]


def build_bytes(shared: Path = SHARED) -> bytes:
    from distillscope.ice.judges.training import build, load_examples

    examples = load_examples(shared / "paper-ice-labels.jsonl", audits(shared))
    strata_pop = json.loads((shared / "ice-gold" / "strata.json").read_text(encoding="utf-8"))["strata_pop"]
    return build(examples, {str(k): int(v) for k, v in strata_pop.items()}).to_bytes()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=PACKAGE_FILE)
    ap.add_argument(
        "--shared", type=Path, default=SHARED, help="the shared data folder (default ../shared/data)"
    )
    ap.add_argument("--check", action="store_true", help="compare a rebuild with --out instead of writing it")
    args = ap.parse_args(argv)
    if not (args.shared / "paper-ice-labels.jsonl").is_file():
        print(f"{args.shared}: no paper-ice-labels.jsonl (the shared data folder is needed)", file=sys.stderr)
        return 2
    data = build_bytes(args.shared)
    if args.check:
        same = args.out.is_file() and args.out.read_bytes() == data
        print(f"{args.out}: {'identical to a rebuild' if same else 'DIFFERS from a rebuild'}")
        return 0 if same else 1
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_bytes(data)
    print(f"wrote {args.out} ({len(data):,} bytes)")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(REPO / "src"))
    raise SystemExit(main())
