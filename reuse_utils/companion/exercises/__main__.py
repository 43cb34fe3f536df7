"""``python -m reuse_utils.companion.exercises IN.ipynb OUT.ipynb``."""

from reuse_utils.companion.exercises import main

raise SystemExit(main())
