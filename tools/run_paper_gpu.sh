#!/usr/bin/env bash
# The `paper` preset end to end on one GPU, as one command: the runner that `make reproduce` calls
# (every notebook, case studies on the stand-in), timed, with the GPU's utilisation sampled every
# 2 s; results go to results_paper/ and, packed, to $OUT (or ./paper_out).
#
#   bash tools/run_paper_gpu.sh [time limit in s, default 540]   (exits with the runner's status)
#
# JOBS (default 3) notebooks run side by side, each after the ones it needs (the runner's --jobs):
# the chain 03 -> 04 -> 05 decides the wall time; 01, 02, 07 -> 08 and 06 run beside it.
# A run cut by the limit ends `stopped` with its report; its checkpoints and records stay in
# $RES/cache (git-ignored), so running the script again on the same machine resumes there (the
# call's timing.json times only that call; an earlier timing.json is kept as timing.<unix time>.json).
# Needs the package's dependencies importable (e.g. `pip install -e .` in a CUDA environment).
# A dry run of the same script on a CPU (what to do before spending GPU time):
#   PRESET=smoke DEVICE=cpu RES=/tmp/dry OUT=/tmp/dry_out JOBS=2 bash tools/run_paper_gpu.sh 600
set -u
LIMIT=${1:-540}
OUT=${OUT:-paper_out}
JOBS=${JOBS:-3}
RES=${RES:-results_paper}
PRESET=${PRESET:-paper}
DEVICE=${DEVICE:-cuda}
mkdir -p "$OUT" "$RES"
[ -f "$RES/timing.json" ] && mv "$RES/timing.json" "$RES/timing.$(date +%s).json"
export PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=utilization.gpu,memory.used --format=csv,noheader,nounits -l 2 > "$OUT/gpu_util.csv" 2>/dev/null &
SMI=$!
T0=$(date +%s.%N)
timeout "$LIMIT" python3 -m reuse_utils.companion.runner --notebooks notebooks --results "$RES" --preset "$PRESET" \
    --device "$DEVICE" --jobs "$JOBS" --quiet 2>&1 | tee "$OUT/reproduce.log"
RC=${PIPESTATUS[0]}
T1=$(date +%s.%N)
kill $SMI 2>/dev/null
python3 - "$OUT" "$RES" "$T0" "$T1" "$RC" "$LIMIT" "$PRESET" <<'EOF'
import json, subprocess, sys
from pathlib import Path
import torch
out, res, t0, t1, rc, limit = Path(sys.argv[1]), Path(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6])
run = json.loads((res / "run.json").read_text()) if (res / "run.json").exists() else {}
util = [line.split(",") for line in (out / "gpu_util.csv").read_text().splitlines() if line.strip()]
u = [float(a) for a, _ in util]
m = [float(b) for _, b in util]
timing = {"preset": sys.argv[7], "device": torch.cuda.get_device_name(0) if torch.cuda.is_available() else "cpu",
          "torch": torch.__version__, "seconds": t1 - t0, "runner_exit": rc, "jobs": run.get("jobs"),
          "notebook_seconds": run.get("seconds"), "notebook_cpu_seconds": run.get("cpu_seconds"),
          "time_limit_s": limit, "timed_out": rc == 124,
          "gpu_util_mean_pct": sum(u) / len(u) if u else None, "gpu_util_samples": len(u),
          "gpu_mem_peak_mib": max(m) if m else None,
          "commit": subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True).stdout.strip() or None}
(res / "timing.json").write_text(json.dumps(timing, indent=2))
print(json.dumps(timing, indent=1))
EOF
cp "$OUT/reproduce.log" "$RES/reproduce.log"
tar czf "$OUT/paper_results.tar.gz" --exclude="$RES/cache" --exclude="$RES/notebooks" "$RES"
tar czf "$OUT/paper_notebooks.tar.gz" "$RES/notebooks" 2>/dev/null
tar czf "$OUT/paper_records.tar.gz" "$RES/cache/bob" "$RES/cache/case" 2>/dev/null
ls -la "$OUT"
exit "$RC"  # the runner's status (124: cut by the limit), for a caller such as gpu_session.sh
