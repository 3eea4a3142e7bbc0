#!/bin/bash
# Part of bench/gpu-check (see its README.md); copied to .gpu-p1/stage1.sh by bench/gpu-check/pack.sh.
# Call 1 of 2 of the localrec GPU check (the whole Chromium does not fit one call's 64 MiB):
# unpacks the headless-shell binary into $CR_DIR (default /tmp/cr), installs the .gl loaders, and reports
# what the driver offers (nvidia-smi, ICD files, Vulkan devices, EGL vendor). Call 2
# (`bash .gpu/run.sh`, carry .gpu and .gl) must follow while this machine is still warm.
set -u
export PATH="$PATH:/usr/sbin:/sbin"
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(dirname "$HERE")
OUT=${OUT:-/tmp/gpuout}
mkdir -p "$OUT"
CR=${CR_DIR:-/tmp/cr}
# shellcheck source=common.sh
. "$HERE/common.sh"
exec > >(tee -a "$OUT/stage1.txt") 2>&1
echo "== stage1 $(date -u +%FT%TZ) on $(uname -n)"
mkdir -p "$CR"
if unxz_to "$HERE/chromium-headless-shell.xz" "$CR/chromium-headless-shell.tmp" &&
  [ "$(sha256sum "$CR/chromium-headless-shell.tmp" | cut -d' ' -f1)" = "$(cat "$HERE/chromium-headless-shell.sha256")" ]; then
  chmod +x "$CR/chromium-headless-shell.tmp"
  mv "$CR/chromium-headless-shell.tmp" "$CR/chromium-headless-shell"
  echo "binary unpacked and verified: $CR/chromium-headless-shell"
else
  echo "FATAL: binary did not unpack or verify"
fi
install_gl_loaders "$REPO" && echo "installed .gl loaders"
driver_facts
VK=$(find /usr/share/vulkan /etc/vulkan /usr/local/nvidia -name 'nvidia_icd*.json' 2>/dev/null | head -1)
EG=$(find /usr/share/glvnd /usr/local/nvidia -path '*egl_vendor*' -name '*nvidia*.json' 2>/dev/null | head -1)
NVLIB=""
for d in /usr/local/nvidia/lib64 /usr/local/nvidia/lib; do [ -d "$d" ] && NVLIB="$NVLIB:$d"; done
echo "== gpuprobe with the image's defaults"
timeout 30 python3 "$HERE/gpuprobe.py" /usr/lib/x86_64-linux-gnu/libvulkan.so.1
echo "== gpuprobe with VK_DRIVER_FILES=$VK __EGL_VENDOR_LIBRARY_FILENAMES=$EG (+$NVLIB)"
LD=${NVLIB#:}${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
env ${VK:+VK_DRIVER_FILES=$VK VK_ICD_FILENAMES=$VK} ${EG:+__EGL_VENDOR_LIBRARY_FILENAMES=$EG} ${LD:+LD_LIBRARY_PATH=$LD} \
  timeout 30 python3 "$HERE/gpuprobe.py" /usr/lib/x86_64-linux-gnu/libvulkan.so.1
echo "== stage1 done: now run call 2 (bash .gpu/run.sh) at once"
