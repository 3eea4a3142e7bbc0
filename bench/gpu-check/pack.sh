#!/bin/bash
# Part of bench/gpu-check (see its README.md): builds the generated, git-ignored bundle folders
# .gpu/ (call 2: scripts, page, worker build, data, Chromium's other files and libraries),
# .gpu-p1/ (call 1: the xz'd Chromium headless-shell binary) and .gl/ (GL/Vulkan loader debs)
# from scratch. Needs Debian 12 on x86-64 with apt, the npm deps installed (npm ci), and the
# libraries Chromium links against (ldd must resolve them: apt-get install chromium brings them).
# Run from anywhere: bash bench/gpu-check/pack.sh
# Env:
#   OUT_ROOT          where .gpu, .gpu-p1, .gl are (re)made (default: the repo root)
#   XZ_LEVEL          xz preset, e.g. -0 for a quick test (default -9e: the binary then gets
#                     --x86 --lzma2=preset=9e,dict=192MiB -T1, ~54 MB; a weaker level may not fit)
#   CHROMIUM_VERSION  Debian version of chromium-headless-shell + chromium-common (default: apt's candidate)
#   APT_LISTS         private apt lists folder, amd64 only (default /tmp/amd64)
#   APT_UPDATE=0      skip `apt-get update` of APT_LISTS (when it is fresh)
#   DEB_DIR           folder to keep/reuse the downloaded Chromium debs (default: a temp folder)
set -euo pipefail
export PATH="$PATH:/usr/sbin:/sbin"
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
OUT_ROOT=${OUT_ROOT:-$REPO}
XZ_LEVEL=${XZ_LEVEL:--9e}
LEVEL=${XZ_LEVEL#-}
APT_LISTS=${APT_LISTS:-/tmp/amd64}
say() { echo "[pack] $*"; }
die() { echo "[pack] FATAL: $*" >&2; exit 1; }

[ "$(uname -m)" = x86_64 ] || die "needs an x86-64 machine (ldd must run the amd64 binary)"
for c in apt-get apt-cache dpkg ldd xz tar sha256sum node npx; do
  command -v "$c" >/dev/null || die "missing command: $c"
done
[[ $LEVEL =~ ^[0-9]e?$ ]] || die "XZ_LEVEL must look like -0 .. -9 or -9e, not '$XZ_LEVEL'"
if [ "$LEVEL" = 9e ]; then
  XZ_BIN=(--x86 "--lzma2=preset=9e,dict=192MiB" -T1)
else
  XZ_BIN=(--x86 "--lzma2=preset=$LEVEL" -T1)
fi

cd "$REPO"
[ -f node_modules/comlink/dist/esm/comlink.mjs ] || die "node_modules/comlink missing: run npm ci first"
if [ ! -f dist/localrec.worker.js ] || ! ls dist/*.wasm >/dev/null 2>&1; then
  say "dist/ incomplete: npm run build"
  npm run build
fi

TMP=$(mktemp -d "${TMPDIR:-/tmp}/gpucheck-pack.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
STAGE=$TMP/out
G=$STAGE/.gpu
P1=$STAGE/.gpu-p1
GL=$STAGE/.gl
mkdir -p "$G/site/dist" "$G/site/comlink" "$P1" "$GL"

# ---- apt: a private amd64 list folder (as /work/.library/device/README.md does for .gl) ----
APT_O=(-oAPT::Architecture=amd64 -oAPT::Architectures=amd64 "-oDir::State::Lists=$APT_LISTS")
# As root, apt's _apt user cannot write into the temp folders: download as root without the warning.
if [ "$(id -u)" = 0 ]; then APT_O+=(-oAPT::Sandbox::User=root); fi
mkdir -p "$APT_LISTS/partial"
if [ "${APT_UPDATE:-1}" != 0 ]; then
  say "apt-get update (lists in $APT_LISTS)"
  apt-get -q "${APT_O[@]}" update >"$TMP/apt-update.log" 2>&1 || {
    cat "$TMP/apt-update.log"
    die "apt-get update failed"
  }
fi
V=${CHROMIUM_VERSION:-$(apt-cache "${APT_O[@]}" policy chromium-headless-shell | awk '/Candidate:/ {print $2}')}
[ -n "$V" ] && [ "$V" != "(none)" ] || die "apt has no chromium-headless-shell candidate"
say "Chromium: chromium-headless-shell=$V chromium-common=$V (amd64)"

DEB_DIR=${DEB_DIR:-$TMP/debs}
mkdir -p "$DEB_DIR"
X=$TMP/x
for pkg in chromium-headless-shell chromium-common; do
  deb="$DEB_DIR/${pkg}_${V//:/%3a}_amd64.deb"
  if [ -f "$deb" ]; then
    say "reusing $deb"
  else
    (cd "$DEB_DIR" && apt-get -q "${APT_O[@]}" download "$pkg=$V")
  fi
  [ -f "$deb" ] || die "no $deb after apt-get download"
  dpkg -x "$deb" "$X"
done
D=$X/usr/lib/chromium
BIN=$D/chromium-headless-shell
[ -x "$BIN" ] || die "no $BIN in the debs"

# ---- call 1: the binary alone ----
say "compressing the binary ($(stat -c %s "$BIN") bytes): xz ${XZ_BIN[*]}"
xz -c "${XZ_BIN[@]}" <"$BIN" >"$P1/chromium-headless-shell.xz"
sha256sum "$BIN" | cut -d' ' -f1 >"$P1/chromium-headless-shell.sha256"
cp "$HERE/stage1.sh" "$HERE/common.sh" "$HERE/gpuprobe.py" "$P1/"
chmod +x "$P1/stage1.sh"

# ---- call 2: Chromium's other files + every library ldd lists except glibc's ----
R=$TMP/rest
mkdir -p "$R/lib"
REST_FILES=(icudtl.dat snapshot_blob.bin v8_context_snapshot.bin headless_command_resources.pak
  headless_lib_data.pak libEGL.so libGLESv2.so libvk_swiftshader.so vk_swiftshader_icd.json libvulkan.so.1)
for f in "${REST_FILES[@]}"; do
  [ -f "$D/$f" ] || die "no $f in the Chromium debs"
  cp -p "$D/$f" "$R/"
done
LDD_OUT=$TMP/ldd.txt
for f in "$BIN" "$D/libvk_swiftshader.so" "$D/libvulkan.so.1" "$D/libEGL.so" "$D/libGLESv2.so"; do
  ldd "$f" >>"$LDD_OUT" || die "ldd $f failed"
done
if grep -q 'not found' "$LDD_OUT"; then
  grep 'not found' "$LDD_OUT" | sort -u >&2
  die "libraries above are not installed here (apt-get install chromium brings them)"
fi
GLIBC='^(libc|libm|libdl|libpthread|librt)\.so\.|^ld-linux'
NSS_DIR=""
while read -r name path; do
  [[ $name =~ $GLIBC ]] && continue
  [ -e "$R/lib/$name" ] || cp -L "$path" "$R/lib/$name"
  if [ "$name" = libnss3.so ]; then NSS_DIR=$(dirname "$(readlink -f "$path")"); fi
done < <(awk '$2 == "=>" && $3 ~ /^\// {print $1, $3}' "$LDD_OUT" | sort -u)
# NSS loads its modules with dlopen, so ldd does not list them.
[ -n "$NSS_DIR" ] || die "the binary does not link libnss3.so?"
for m in libfreebl3.so libfreeblpriv3.so libnssckbi.so libnssdbm3.so libsmime3.so libsoftokn3.so libssl3.so; do
  [ -f "$NSS_DIR/$m" ] || die "no NSS module $NSS_DIR/$m (package libnss3)"
  cp -L "$NSS_DIR/$m" "$R/lib/$m"
done
say "cr-rest: ${#REST_FILES[@]} Chromium files + $(find "$R/lib" -type f | wc -l) libraries; xz -$LEVEL"
tar -C "$R" --sort=name --owner=0 --group=0 --numeric-owner -cf - . | xz -c "-$LEVEL" -T1 >"$G/cr-rest.tar.xz"

cp "$HERE/run.sh" "$HERE/common.sh" "$HERE/serve.py" "$HERE/gpuprobe.py" "$G/"
chmod +x "$G/run.sh"
cp "$HERE/site/index.html" "$HERE/site/run.js" "$G/site/"
cp dist/localrec.worker.js dist/*.wasm "$G/site/dist/"
cp node_modules/comlink/dist/esm/comlink.mjs "$G/site/comlink/"
say "protocol data: npx tsx bench/gpu-check/prep.ts"
npx tsx "$HERE/prep.ts" "$G/site/data.json.gz"
{
  echo "packed $(date -u +%FT%TZ) on $(uname -n) from localrec $(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo '?')"
  echo "chromium-headless-shell=$V chromium-common=$V; binary xz ${XZ_BIN[*]}; cr-rest xz -$LEVEL"
} >"$G/PACKED.txt"

# ---- GL/Vulkan loaders (installed with dpkg -x on the GPU machine) ----
(cd "$GL" && apt-get -q "${APT_O[@]}" download libvulkan1 libegl1 libglvnd0 libopengl0 libgl1 libglx0 libgles2)

# ---- swap in ----
mkdir -p "$OUT_ROOT"
for d in .gpu .gpu-p1 .gl; do
  rm -rf "${OUT_ROOT:?}/$d"
  mv "$STAGE/$d" "$OUT_ROOT/$d"
done
bytes() { du -sb "$@" | awk '{s += $1} END {print s}'; }
size() { bytes "$@" | awk '{printf "%.1f MiB", $1 / 1048576}'; }
say "done in $OUT_ROOT: .gpu $(size "$OUT_ROOT/.gpu"), .gpu-p1 $(size "$OUT_ROOT/.gpu-p1"), .gl $(size "$OUT_ROOT/.gl")"
say "call 1 carries .gpu-p1 + .gl ($(size "$OUT_ROOT/.gpu-p1" "$OUT_ROOT/.gl")), call 2 .gpu + .gl ($(size "$OUT_ROOT/.gpu" "$OUT_ROOT/.gl")); each must fit 64 MiB with the tracked tree"
for pair in ".gpu-p1 .gl" ".gpu .gl"; do
  # shellcheck disable=SC2086
  if [ "$(cd "$OUT_ROOT" && bytes $pair)" -gt $((60 << 20)) ]; then
    say "WARNING: $pair is over 60 MiB: with the tracked tree it may not fit one device call (64 MiB)"
  fi
done
cat "$OUT_ROOT/.gpu/PACKED.txt"
