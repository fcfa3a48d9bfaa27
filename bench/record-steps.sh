#!/usr/bin/env bash
# Where the recorder's CPU goes on a static 1080p desktop at 5 fps: ffmpeg is run alone on a private Xvnc
# display (two xterms of fixed text and a clock rewritten once a second) with more and more of SessionTrail's
# pipeline, and its user+system time over a steady window is printed as % of one core.
#   bench/record-steps.sh [SECONDS]          (default 30; needs Xvnc, xterm, ffmpeg — see .ci/run)
# With "alone" as the first argument only the full SessionTrail profile runs, for 60 s:
#   bench/record-steps.sh alone
set -euo pipefail
seconds=${1:-30}
only_full=0
if [ "${1:-}" = alone ]; then only_full=1; seconds=60; fi
for n in $(seq 300 399); do [ -e /tmp/.X$n-lock ] || [ -e /tmp/.X11-unix/X$n ] || { D=:$n; break; }; done
Xvnc "$D" -geometry 1920x1080 -depth 24 -SecurityTypes None -rfbport -1 -nolisten tcp >/dev/null 2>&1 & xvnc=$!
pids=()
cleanup() { kill "${pids[@]}" 2>/dev/null || true; kill "$xvnc" 2>/dev/null || true; }
trap cleanup EXIT
sleep 2
export DISPLAY=$D
xterm -geometry 120x40+20+20 -e sh -c 'seq 1 2000 | head -n 38; exec sleep 100000' 2>/dev/null & pids+=($!)
xterm -geometry 80x24+900+300 -e sh -c 'ls -la /usr/bin | head -n 22; exec sleep 100000' 2>/dev/null & pids+=($!)
xterm -geometry 12x1-10+10 -e sh -c 'while :; do printf "\r%s" "$(date +%T)"; sleep 1; done' 2>/dev/null & pids+=($!)
sleep 2
x264=(-c:v libx264 -preset fast -crf 22 -pix_fmt yuv420p -g 1500 -x264-params threads=1:lookahead-threads=1:scenecut=0:bframes=0:rc-lookahead=5:ref=3)
out=$(mktemp -d)
run() {
  local name=$1; shift
  ffmpeg -hide_banner -loglevel error -y -f x11grab -framerate 5 -draw_mouse 1 -i "$D" "$@" </dev/null & local f=$!
  sleep 5
  local t0 s0 t1 s1
  t0=$(awk '{print $14+$15}' /proc/$f/stat); s0=$(date +%s.%N)
  sleep "$seconds"
  t1=$(awk '{print $14+$15}' /proc/$f/stat); s1=$(date +%s.%N)
  kill "$f"; wait "$f" 2>/dev/null || true
  printf '%-28s %5.2f %% of one core (%s s, load %s)\n' "$name" "$(echo "($t1-$t0)/$(getconf CLK_TCK)/($s1-$s0)*100" | bc -l)" "$seconds" "$(cut -d' ' -f1 /proc/loadavg)"
}
full=(-vf fps=5,mpdecimate=max=4 -fps_mode vfr -sws_flags neighbor "${x264[@]}" -movflags +frag_keyframe+empty_moov+default_base_moof -frag_duration 2000000 -flush_packets 1 -f mp4 "$out/full.mp4")
if [ $only_full = 1 ]; then run "sessiontrail (alone)" "${full[@]}"; rm -rf "$out"; exit 0; fi
run "capture only" -f null -
run "+ yuv420p conversion" -sws_flags neighbor -vf format=yuv420p -f null -
run "+ mpdecimate" -sws_flags neighbor -vf fps=5,mpdecimate=max=4 -fps_mode vfr -f null -
run "+ gbrp before mpdecimate" -vf fps=5,format=gbrp,mpdecimate=max=4 -fps_mode vfr -f null -
run "+ x264 (fast)" "${full[@]}"
run "+ x264 (superfast)" -vf fps=5,mpdecimate=max=4 -fps_mode vfr -sws_flags neighbor -c:v libx264 -preset superfast -crf 22 -pix_fmt yuv420p -g 1500 -x264-params threads=1:lookahead-threads=1:scenecut=0:bframes=0:rc-lookahead=5:ref=3 -f mp4 "$out/superfast.mp4"
rm -rf "$out"
