"""Compare the claims of two results folders, field by field: ``python -m tools.compare_claims A B``.

Prints, per claim of either ``A/claims.json`` or ``B/claims.json``, "identical" or each differing field
(floats compared exactly), apart from the fields that record when or how fast a run was: ``recorded``
and any field whose name holds ``seconds``. A refactor that keeps the numbers shows every claim
identical on two runs of the same preset and seeds (``python -m reuse_utils.companion.runner --preset
smoke --jobs 1 --results A``, once per checkout). The exit status is 1 when a claim differs.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path


def _claims(folder: Path) -> dict[str, dict]:
    return {c["id"]: c for c in json.loads((folder / "claims.json").read_text())["claims"]}


def differences(a, b, path: str = "") -> list[tuple[str, object, object]]:
    """Every (field path, value in a, value in b) where ``a`` and ``b`` differ, recursively."""
    if isinstance(a, dict) and isinstance(b, dict):
        return [d for k in sorted(set(a) | set(b), key=str)
                for d in (differences(a[k], b[k], f"{path}.{k}") if k in a and k in b
                          else [(f"{path}.{k}", a.get(k, "<missing>"), b.get(k, "<missing>"))])]
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        return [d for i, (x, y) in enumerate(zip(a, b, strict=True)) for d in differences(x, y, f"{path}[{i}]")]
    return [] if a == b else [(path, a, b)]


def _timing(field: str) -> bool:
    return field.endswith(".recorded") or "seconds" in field.rsplit(".", 1)[-1]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("a", type=Path)
    ap.add_argument("b", type=Path)
    args = ap.parse_args(argv)
    a, b = _claims(args.a), _claims(args.b)
    differ = False
    for cid in sorted(set(a) | set(b)):
        if cid not in a or cid not in b:
            print(f"{cid}: only in {args.a if cid in a else args.b}")
            differ = True
            continue
        found = [d for d in differences(a[cid], b[cid], cid) if not _timing(d[0])]
        print(f"{cid}: " + ("identical" if not found else f"{len(found)} field(s) differ"))
        for field, x, y in found:
            print(f"    {field}: {x!r:.100} -> {y!r:.100}")
        differ = differ or bool(found)
    return int(differ)


if __name__ == "__main__":
    raise SystemExit(main())
