#!/usr/bin/env bash
# Benchmarks of the sandbox against native (and gVisor when `runsc` is on PATH), printed as one
# table from one run on one machine. Not a test: numbers vary with the machine and its load.
#
#   trapped getppid   us per call, N calls of syscall(SYS_getppid) (tests/guests/bench.c)
#   clock_gettime     ns per call of glibc's clock_gettime(CLOCK_MONOTONIC), through the vDSO
#   open+close, stat  us per call on /etc/hostname; read/write MiB/s with 64 KiB transfers
#   fork+wait, fork+exec+wait, pipe round trip between two processes
#   mmap cycle        us to mmap 1 MiB, touch its 256 pages, munmap
#   page fault        us per first touch of a page (64 MiB mapping)
#   startup           wall ms of running a static `true` (tests/guests/true.c): best, median
#   Sentry peak RSS   MiB, VmHWM of the sandbox process running `sh -c` with a small pipeline
#
# Columns: native; `sandbox run --platform systrap` (the default, syscall-site patching on);
# `--platform ptrace`; systrap with `--systrap-patching off` (every syscall a SIGSYS); gVisor
# `runsc --rootless --network=none --platform=ptrace do`.
# Ratios are to native.
# Usage: scripts/bench.sh            (BENCH_CALLS=20000 BENCH_RUNS=20 to change the counts)
set -euo pipefail
cd "$(dirname "$0")/.."
export LC_ALL=C

calls=${BENCH_CALLS:-20000}
runs=${BENCH_RUNS:-20}
work=$(mktemp -d "${TMPDIR:-/tmp}/sandbox-bench.XXXXXX")
trap 'rm -rf "$work"' EXIT

gcc -O2 -static -o "$work/bench" tests/guests/bench.c
gcc -O2 -static -o "$work/true" tests/guests/true.c
head -c 33554432 /dev/urandom > "$work/data32"
mkdir -p "$work/w"
cargo build --release -p runsc >&2
sandbox="${CARGO_TARGET_DIR:-target}/release/sandbox"

names=(native "sandbox systrap" "sandbox ptrace" "systrap unpatched" "gVisor ptrace")
have_gvisor=0
command -v runsc >/dev/null 2>&1 && have_gvisor=1

# runner I PROGRAM ARGS...: PROGRAM under the I-th column's runner. With limit=(timeout 300)
# in the caller it is killed after 5 minutes; timed startup runs go without, to time only
# what they say.
limit=()
runner() {
  local i=$1
  shift
  case $i in
    0) "${limit[@]}" "$@" ;;
    1) "${limit[@]}" "$sandbox" run --platform systrap -- "$@" ;;
    2) "${limit[@]}" "$sandbox" run --platform ptrace -- "$@" ;;
    3) "${limit[@]}" "$sandbox" run --platform systrap --systrap-patching off -- "$@" ;;
    4) "${limit[@]}" runsc --rootless --network=none --platform=ptrace do "$@" ;;
  esac
}

available() { [ "$1" -ne 4 ] || [ "$have_gvisor" -eq 1 ]; }

# measure I NAME ARGS...: the figure bench prints for NAME under runner I, or "fail".
measure() {
  local i=$1 out
  shift
  local limit=(timeout 300)
  if out=$(runner "$i" "$work/bench" "$@" 2>/dev/null) && [ -n "$out" ]; then
    awk '{print $2}' <<<"$out"
  else
    echo fail
  fi
}

# startup I: "best median" in ms over $runs runs of the static true, or "fail fail".
startup_ms() {
  local i=$1 k t0 t1 times=()
  # Warm-up, under a time limit: a runner that hangs is reported, not waited for.
  local limit=(timeout 300)
  runner "$i" "$work/true" >/dev/null 2>&1 || { echo "fail fail"; return; }
  limit=()
  for ((k = 0; k < runs; k++)); do
    t0=$EPOCHREALTIME
    runner "$i" "$work/true" >/dev/null 2>&1 || { echo "fail fail"; return; }
    t1=$EPOCHREALTIME
    times+=("$(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.3f", (b-a)*1000}')")
  done
  printf '%s\n' "${times[@]}" | sort -g | awk '{v[NR]=$1} END{m=(NR%2)?v[(NR+1)/2]:(v[NR/2]+v[NR/2+1])/2; printf "%.3f %.3f\n", v[1], m}'
}

# peak_rss I: peak RSS in MiB of the process the runner starts, running a small shell pipeline
# (VmHWM sampled from /proc every 2 ms): the shell natively, the Sentry under the sandbox (its
# mapping of guest memory included); n/a for gVisor, whose Sentry is not the process started.
peak_rss() {
  local i=$1 pid hwm=0 v cmd
  case $i in
    0) cmd=() ;;
    1) cmd=("$sandbox" run --platform systrap --) ;;
    2) cmd=("$sandbox" run --platform ptrace --) ;;
    3) cmd=("$sandbox" run --platform systrap --systrap-patching off --) ;;
    *) echo n/a; return ;;
  esac
  "${cmd[@]}" /bin/sh -c 'ls /usr/bin | sort | wc -l' >/dev/null 2>&1 &
  pid=$!
  while kill -0 "$pid" 2>/dev/null; do
    v=$(awk '/^VmHWM/{print $2}' "/proc/$pid/status" 2>/dev/null || true)
    [ -n "$v" ] && [ "$v" -gt "$hwm" ] && hwm=$v
    sleep 0.002
  done
  wait "$pid" 2>/dev/null || true
  awk -v k="$hwm" 'BEGIN{printf "%.1f", k/1024}'
}

declare -a rss getppid clock openclose stat read write forkwait spawn pipe mmapc fault best median
for i in 0 1 2 3 4; do
  if available "$i"; then
    getppid[i]=$(measure "$i" getppid "$calls")
    clock[i]=$(measure "$i" clock 1000000)
    openclose[i]=$(measure "$i" openclose /etc/hostname)
    stat[i]=$(measure "$i" stat /etc/hostname)
    read[i]=$(measure "$i" read "$work/data32")
    write[i]=$(measure "$i" write /tmp)
    forkwait[i]=$(measure "$i" forkwait)
    spawn[i]=$(measure "$i" spawn "$work/true")
    pipe[i]=$(measure "$i" pipe)
    mmapc[i]=$(measure "$i" mmap)
    fault[i]=$(measure "$i" fault)
    read -r best[i] median[i] <<<"$(startup_ms "$i")"
    rss[i]=$(peak_rss "$i")
  else
    getppid[i]=n/a clock[i]=n/a openclose[i]=n/a stat[i]=n/a read[i]=n/a write[i]=n/a forkwait[i]=n/a spawn[i]=n/a pipe[i]=n/a mmapc[i]=n/a fault[i]=n/a best[i]=n/a median[i]=n/a rss[i]=n/a
  fi
done

# cell VALUE NATIVE: "value (ratio x)".
cell() {
  awk -v v="$1" -v n="$2" 'BEGIN{
    if (v !~ /^[0-9.]+$/) { printf "%s", v; exit }
    if (n ~ /^[0-9.]+$/ && n > 0) printf "%.3f (%.1fx)", v, v / n; else printf "%.3f", v }'
}

row() {
  local label=$1
  shift
  local -n vals=$1
  printf '%-30s' "$label"
  for i in 0 1 2 3 4; do
    if [ "$i" -eq 0 ]; then printf ' %18s' "${vals[0]}"; else printf ' %22s' "$(cell "${vals[i]}" "${vals[0]}")"; fi
  done
  echo
}

echo "sandbox benchmarks: $(nproc) CPUs, Linux $(uname -r), $(git rev-parse --short HEAD 2>/dev/null || echo '?'), $(date -u +%Y-%m-%dT%H:%MZ)"
printf '%-30s %18s' figure "${names[0]}"
for i in 1 2 3 4; do printf ' %22s' "${names[i]}"; done
echo
row "trapped getppid (us/call)" getppid
row "clock_gettime (ns/call)" clock
row "open+close (us)" openclose
row "stat (us)" stat
row "read 64K, cached (MiB/s)" read
row "write 64K to /tmp (MiB/s)" write
row "fork+wait (us)" forkwait
row "fork+exec+wait (us)" spawn
row "pipe round trip (us)" pipe
row "mmap+touch+munmap 1M (us)" mmapc
row "page fault (us/page)" fault
row "run static true, best (ms)" best
row "run static true, median (ms)" median
row "peak RSS, sh pipeline (MiB)" rss
[ "$have_gvisor" -eq 1 ] || echo "(gVisor: runsc is not on PATH; apt-get install runsc to compare)"
