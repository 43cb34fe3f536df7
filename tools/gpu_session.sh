#!/usr/bin/env bash
# Everything a short GPU session measures, as one command that stays inside one time budget:
#
#   bash tools/gpu_session.sh [total s, default 585] [paper limit s, default 500; 0: bench only]
#
# 1. The `paper` preset end to end (tools/run_paper_gpu.sh, at most the paper limit).
# 2. With the seconds left of the total: if the paper run was cut by its limit, the same script again
#    (it resumes from results_paper/cache); if it finished, the sweep benchmark (`python -m benchmarks
#    sweep`) at the paper preset — first
#    the paper Bob grid (engine on all its runs, the plain loop on seed 0's runs, its seconds scaled to
#    the grid: --reference-seeds 1; its Alices loaded from the paper run's cache: --alice-cache), then
#    Alices of 5 worlds (engine vs one at a time).
#    Each bench row is written as soon as it is measured, so a row cut by the total is the only loss.
# A second call on the still-warm machine with paper limit 0 runs only the bench (e.g. when the first
# call's seconds ran out before it): `bash tools/gpu_session.sh 240 0`.
# Results: results_paper/ (and, packed, $OUT) and $OUT/measured/*.json (copy them to benchmarks/measured/).
# A dry run on a CPU (smoke scale, what to do before spending GPU time):
#   PRESET=smoke DEVICE=cpu RES=/tmp/dry OUT=/tmp/dry_out JOBS=2 bash tools/gpu_session.sh 300 200
set -u
TOTAL=${1:-585}
PAPER=${2:-500}
OUT=${OUT:-paper_out}
PRESET=${PRESET:-paper}
DEVICE=${DEVICE:-cuda}
RES=${RES:-results_paper}
export OUT PRESET DEVICE RES  # run_paper_gpu.sh reads the same four
START=$(date +%s)
left() { echo $((TOTAL - ($(date +%s) - START))); }

if [ "$PAPER" -gt 0 ]; then
    bash "$(dirname "$0")/run_paper_gpu.sh" "$PAPER"
    RC=$?
    echo "[session] paper run exit $RC; $(left) s left of $TOTAL"
else
    RC=skipped
fi
ALICES=()
[ -d "$RES/cache/alice" ] && ALICES=(--alice-cache "$RES/cache")
if [ "$RC" = "124" ] || [ "$RC" = "143" ]; then
    [ "$(left)" -gt 60 ] && bash "$(dirname "$0")/run_paper_gpu.sh" "$(( $(left) - 20 ))"
elif [ "$(left)" -gt 90 ]; then
    PYTHONPATH="$(dirname "$0")/..${PYTHONPATH:+:$PYTHONPATH}" timeout "$(( $(left) - 10 ))" \
        python3 -m benchmarks sweep --preset "$PRESET" --device "$DEVICE" \
        --grids quick,alices --alice-worlds 5 --reference-seeds 1 "${ALICES[@]}" --out "$OUT/measured"
    echo "[session] bench exit $?"
fi
ls -la "$OUT" "$OUT/measured" 2>/dev/null
echo "[session] $(( $(date +%s) - START )) s in all"
