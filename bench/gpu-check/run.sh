#!/bin/bash
# Part of bench/gpu-check (see its README.md); copied to .gpu/run.sh by bench/gpu-check/pack.sh.
# One-shot real-GPU check of localrec in headless Chromium: call 2 of 2 (after .gpu-p1/stage1.sh).
# Unpacks the carried Chromium headless shell, installs the GL/Vulkan loaders (.gl), serves
# .gpu/site, finds which GPU flag set gives a hardware WebGPU adapter / WebGL renderer, then
# trains per backend. Writes under $OUT: log.txt, server.log, chrome.log, results.json,
# summary.txt. Env: BACKENDS, MAX_SECONDS, PER_BACKEND, TOTAL_S, FLAG_SETS, CR_FLAGS, EXTRA_QUERY,
# SKIP_GL, PORT, OUT, CR_DIR, WORK_DIR.
set -u
export PATH="$PATH:/usr/sbin:/sbin"
START=$(date +%s)
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(dirname "$HERE")
OUT=${OUT:-/tmp/gpuout}
mkdir -p "$OUT"
BACKENDS=${BACKENDS:-auto webgpu webgl wasm}
MAX_SECONDS=${MAX_SECONDS:-45}
PER_BACKEND=${PER_BACKEND:-80}
TOTAL_S=${TOTAL_S:-330}
PORT=${PORT:-8765}
CR=${CR_DIR:-/tmp/cr}
WORK=${WORK_DIR:-/tmp/gpuwork}
rm -rf "$WORK"; mkdir -p "$WORK/home"
LOG=$OUT/log.txt
CLOG=$OUT/chrome.log
: >"$CLOG"
el() { echo $(( $(date +%s) - START )); }
left() { echo $(( TOTAL_S - $(date +%s) + START )); }
log() { echo "[$(el)s] $*" | tee -a "$LOG"; }

log "run.sh start: BACKENDS='$BACKENDS' MAX_SECONDS=$MAX_SECONDS PER_BACKEND=$PER_BACKEND TOTAL_S=$TOTAL_S"
[ -f "$HERE/PACKED.txt" ] && cat "$HERE/PACKED.txt" >>"$LOG"
{ uname -a; grep PRETTY /etc/os-release; ldd --version 2>&1 | head -1; nproc; free -g | head -2; } >>"$LOG" 2>&1

# shellcheck source=common.sh
. "$HERE/common.sh"
# ---- Chromium: the binary came in call 1 (.gpu-p1/stage1.sh), the rest comes here ----
MISSING=0
if [ ! -x "$CR/chromium-headless-shell" ] && [ -f "$REPO/.gpu-p1/chromium-headless-shell.xz" ]; then
  log "binary not in $CR: unpacking it from .gpu-p1 (left here by call 1 or carried)"
  mkdir -p "$CR"
  unxz_to "$REPO/.gpu-p1/chromium-headless-shell.xz" "$CR/chromium-headless-shell" && chmod +x "$CR/chromium-headless-shell"
fi
if [ ! -x "$CR/chromium-headless-shell" ]; then
  MISSING=1
  log "FATAL: $CR/chromium-headless-shell is missing: call 1 (bash .gpu-p1/stage1.sh, carry .gpu-p1 .gl) must run first on the same warm machine; this call can only report driver facts"
fi
if [ ! -e "$CR/.rest-ok" ]; then
  mkdir -p "$CR"
  untar_xz "$HERE/cr-rest.tar.xz" "$CR" && touch "$CR/.rest-ok" || log "FATAL: cannot unpack cr-rest.tar.xz"
fi
log "chromium in $CR: $(ls "$CR" | tr '\n' ' ')"

# ---- GL/Vulkan loaders ----
install_gl_loaders "$REPO" && log "installed .gl loaders"

# ---- driver facts ----
driver_facts >>"$LOG" 2>&1

VK_JSON=""
for j in /usr/share/vulkan/icd.d/nvidia_icd.json /etc/vulkan/icd.d/nvidia_icd.json \
  /usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json /usr/local/share/vulkan/icd.d/nvidia_icd.json; do
  [ -f "$j" ] && { VK_JSON=$j; break; }
done
[ -z "$VK_JSON" ] && VK_JSON=$(find /usr/local/nvidia /usr/share/vulkan /etc/vulkan -name 'nvidia_icd*.json' 2>/dev/null | head -1)
EGL_JSON=""
for j in /usr/share/glvnd/egl_vendor.d/10_nvidia.json /usr/local/nvidia/share/glvnd/egl_vendor.d/10_nvidia.json; do
  [ -f "$j" ] && { EGL_JSON=$j; break; }
done
[ -z "$EGL_JSON" ] && EGL_JSON=$(find /usr/local/nvidia /usr/share/glvnd -name '*nvidia*.json' -path '*egl_vendor*' 2>/dev/null | head -1)
if [ -n "$VK_JSON" ]; then export VK_DRIVER_FILES=$VK_JSON VK_ICD_FILENAMES=$VK_JSON; fi
if [ -n "$EGL_JSON" ]; then export __EGL_VENDOR_LIBRARY_FILENAMES=$EGL_JSON; fi
NVLIB=""
for d in /usr/local/nvidia/lib64 /usr/local/nvidia/lib; do [ -d "$d" ] && NVLIB="$NVLIB:$d"; done
# Only Chromium gets the carried libraries first; python (server, probes) keeps the image's.
SYS_LD="${NVLIB}${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"; SYS_LD=${SYS_LD#:}
CR_LD="$CR/lib:$CR${NVLIB}${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
if [ -n "$SYS_LD" ]; then export LD_LIBRARY_PATH="$SYS_LD"; else unset LD_LIBRARY_PATH; fi
export HOME=$WORK/home
log "VK_DRIVER_FILES=${VK_DRIVER_FILES:-} __EGL_VENDOR_LIBRARY_FILENAMES=${__EGL_VENDOR_LIBRARY_FILENAMES:-} chromium LD_LIBRARY_PATH=$CR_LD"
if LD_LIBRARY_PATH=$CR_LD ldd "$CR/chromium-headless-shell" | grep -q 'not found'; then
  log "WARNING: missing libraries:"; LD_LIBRARY_PATH=$CR_LD ldd "$CR/chromium-headless-shell" | grep 'not found' | tee -a "$LOG"
fi
{ echo "== gpuprobe (carried libvulkan + system libEGL)"; timeout 30 python3 "$HERE/gpuprobe.py" "$CR/libvulkan.so.1" 2>&1; } >>"$LOG" 2>&1
grep -A8 '== gpuprobe' "$LOG" | tail -8

if [ "$MISSING" = 1 ]; then
  echo "stage 1 missing: no browser run (see log.txt)" >"$OUT/summary.txt"
  log "run.sh end (no browser)"; exit 2
fi

# ---- server ----
python3 "$HERE/serve.py" "$HERE/site" "$PORT" "$OUT" "$WORK" >>"$OUT/server.log" 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null' EXIT
for _ in $(seq 50); do
  python3 -c "import urllib.request as u; u.urlopen('http://127.0.0.1:$PORT/index.html', timeout=2)" 2>/dev/null && break
  sleep 0.2
done
log "server up on $PORT (pid $SERVER)"

BASE_FLAGS="--headless --no-sandbox --disable-dev-shm-usage --disable-background-networking \
--disable-component-update --disable-sync --no-first-run --disable-quic --disable-default-apps \
--disable-domain-reliability --metrics-recording-only --disable-breakpad --mute-audio \
--enable-logging=stderr --log-level=0"
declare -A SETS
SETS[vulkan]="--enable-gpu --ignore-gpu-blocklist --enable-unsafe-webgpu --enable-unsafe-swiftshader \
--enable-features=Vulkan,VulkanFromANGLE,DefaultANGLEVulkan --use-angle=vulkan --use-vulkan=native \
--disable-vulkan-surface"
SETS[egl]="--enable-gpu --ignore-gpu-blocklist --enable-unsafe-webgpu --enable-unsafe-swiftshader \
--use-gl=angle --use-angle=gl-egl"
SETS[blog]="--ignore-gpu-blocklist --enable-unsafe-webgpu --enable-unsafe-swiftshader \
--enable-features=Vulkan --use-angle=vulkan --disable-vulkan-surface"
SETS[eglvk]="${SETS[egl]} --enable-features=Vulkan --disable-vulkan-surface"
SETS[plain]="--enable-unsafe-webgpu --enable-unsafe-swiftshader"

# run_page KEY FLAGS QUERY TIMEOUT: one chromium per page, killed when the page posted or at TIMEOUT
run_page() {
  local key=$1 flags=$2 query=$3 limit=$4
  local url="http://127.0.0.1:$PORT/index.html?key=$key&$query&budget=$((limit - 6))"
  local clog=$WORK/chrome-$key.log
  log "launch $key (limit ${limit}s): $url"
  # shellcheck disable=SC2086
  LD_LIBRARY_PATH=$CR_LD setsid "$CR/chromium-headless-shell" $BASE_FLAGS $flags --user-data-dir="$WORK/prof-$key" "$url" >"$clog" 2>&1 &
  local pid=$! t=0
  while [ $t -lt "$limit" ]; do
    [ -e "$WORK/done-$key" ] && break
    kill -0 $pid 2>/dev/null || { log "chromium for $key exited early (rc: $(wait $pid; echo $?))"; break; }
    sleep 1; t=$((t + 1))
  done
  [ -e "$WORK/done-$key" ] || log "no final result from $key after ${t}s"
  kill -TERM -- -$pid 2>/dev/null; sleep 1; kill -KILL -- -$pid 2>/dev/null; wait $pid 2>/dev/null
  {
    echo "===== $key: $flags"
    grep -v -e 'dbus' -e 'Floss manager' "$clog" >"$clog.f"
    if [ "$(wc -l <"$clog.f")" -gt 140 ]; then head -n 70 "$clog.f"; echo "... ($(wc -l <"$clog.f") lines)"; tail -n 70 "$clog.f"; else cat "$clog.f"; fi
  } | cut -c1-400 >>"$CLOG"
  log "done $key after ${t}s"
}

# ---- which flag set reaches the GPU ----
if [ -n "${CR_FLAGS:-}" ]; then
  SETS[custom]=$CR_FLAGS
  CHOICE="auto=custom webgpu=custom webgl=custom wasm=custom cpu=custom"
else
  for s in ${FLAG_SETS:-vulkan blog eglvk egl plain}; do
    run_page "env-$s" "${SETS[$s]}" "backend=none" 20
  done
  CHOICE=$(python3 - "$OUT/results.json" ${FLAG_SETS:-vulkan blog eglvk egl plain} <<'PY'
import json, os, sys
res = json.load(open(sys.argv[1])) if os.path.exists(sys.argv[1]) else {}
sets = sys.argv[2:]
def score(s):
    env = (res.get('env-' + s) or {}).get('env') or {}
    gpu = 0
    for a in ((env.get('webgpu') or {}).get('adapters') or {}).values():
        i = (a or {}).get('info') or {}
        if i and not i.get('isFallbackAdapter') and 'swiftshader' not in json.dumps(i).lower() \
           and (i.get('vendor') or i.get('description')):
            gpu = 2
        elif i and gpu == 0:
            gpu = 1
    gl = env.get('webgl2') or {}
    r = (gl.get('unmaskedRenderer') or gl.get('renderer') or '').lower()
    usable = gl.get('noMajorPerformanceCaveat')  # what TF.js needs
    hw = r and 'swiftshader' not in r and 'llvmpipe' not in r
    webgl = (2 if hw else 1) if usable else 0
    return gpu, webgl
sc = {s: score(s) for s in sets}
# Ties go to the earlier set in FLAG_SETS.
pick = lambda f: max(sets, key=lambda s: (f(sc[s]), -sets.index(s)))
wg = pick(lambda x: (x[0], x[1]))
gl = pick(lambda x: (x[1], x[0]))
both = pick(lambda x: (x[0] == 2) + (x[1] == 2) + (x[0] > 0) * 0.1 + (x[1] > 0) * 0.1)
print(' '.join(['auto=' + both, 'webgpu=' + wg, 'webgl=' + gl, 'wasm=' + both, 'cpu=' + both]
               + ['score-%s=%d/%d' % (s, *sc[s]) for s in sets]))
PY
)
fi
log "flag choice: $CHOICE (score webgpu/webgl: 2 hardware, 1 software, 0 none or refused by TF.js)"

# ---- training per backend ----
for b in $BACKENDS; do
  set_name=$(echo "$CHOICE" | tr ' ' '\n' | sed -n "s/^$b=//p"); set_name=${set_name:-vulkan}
  limit=$PER_BACKEND; l=$(left); [ "$l" -lt "$limit" ] && limit=$l
  if [ "$limit" -lt 25 ]; then log "SKIP $b: only ${l}s left of TOTAL_S"; continue; fi
  secs=$MAX_SECONDS; [ $((limit - 30)) -lt "$secs" ] && secs=$((limit - 30))
  [ "$secs" -lt 10 ] && secs=10
  run_page "$b" "${SETS[$set_name]}" "backend=$b&maxSeconds=$secs${EXTRA_QUERY:-}" "$limit"
done

# ---- summary ----
python3 - "$OUT/results.json" >"$OUT/summary.txt" 2>&1 <<'PY'
import json, sys
try:
    res = json.load(open(sys.argv[1]))
except Exception as e:
    print('no results.json: %s' % e); sys.exit()
for k, r in res.items():
    env = r.get('env') or {}
    print('%s%s: %s' % (k, ' (PARTIAL)' if r.get('partial') else '', env.get('summary', '-')))
    st = r.get('status') or {}
    if st: print('   init: %s: %s' % (st.get('backend'), st.get('reason')))
    if r.get('summary'): print('   ' + r['summary'])
    if r.get('train') and r['train'].get('last') and not r.get('summary'):
        print('   last progress: %s' % json.dumps(r['train']['last']))
    rec = r.get('recommend') or {}
    if rec.get('msMedian') is not None: print('   recommend median %.2f ms' % rec['msMedian'])
    if rec.get('error'): print('   recommend error: ' + rec['error'])
    if r.get('probe'):
        print('   probe: ' + ' '.join('%s=%s%s%s' % (b['name'], 'ok' if b['ok'] else 'no', '(sw)' if b.get('software') else '',
              '' if b['ok'] else '[' + str(b.get('error', ''))[:80] + ']') for b in r['probe'].get('backends', [])))
    if r.get('error'): print('   ERROR: ' + str(r['error'])[:300])
PY
cat "$OUT/summary.txt"
log "run.sh end"
