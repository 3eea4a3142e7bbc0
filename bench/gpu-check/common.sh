# Part of bench/gpu-check (see its README.md); copied beside stage1.sh and run.sh by pack.sh
# (each device call carries its own folder) and sourced by both.

# xz may be missing from the image: fall back to python's lzma/tarfile.
unxz_to() { if command -v xz >/dev/null; then xz -dc "$1" >"$2"; else python3 -c 'import lzma,shutil,sys; shutil.copyfileobj(lzma.open(sys.argv[1]), open(sys.argv[2],"wb"), 1<<20)' "$1" "$2"; fi; }
untar_xz() { if command -v xz >/dev/null; then tar -xJf "$1" -C "$2"; else python3 -c 'import tarfile,sys; tarfile.open(sys.argv[1],"r:xz").extractall(sys.argv[2])' "$1" "$2"; fi; }

# install_gl_loaders REPO: the carried .gl debs into / (skipped with SKIP_GL=1); 0 when installed.
install_gl_loaders() {
  [ "${SKIP_GL:-0}" != 1 ] && ls "$1"/.gl/*.deb >/dev/null 2>&1 || return 1
  for f in "$1"/.gl/*.deb; do dpkg -x "$f" /; done
  ldconfig
}

# driver_facts: what the machine's NVIDIA driver offers, to stdout.
driver_facts() {
  grep PRETTY /etc/os-release; ldd --version 2>&1 | head -1
  echo "== nvidia-smi"; timeout 20 nvidia-smi 2>&1 | head -20
  echo "== ls -R /usr/local/nvidia | head -60"; ls -R /usr/local/nvidia 2>&1 | head -60
  echo "== ldconfig -p (vulkan/EGL/GLX/nvidia)"; ldconfig -p | grep -Ei 'libvulkan|libEGL|libGLX|libGLdispatch|nvidia' | head -30
  echo "== ICD / vendor json files"
  find /usr/share/vulkan /etc/vulkan /usr/local/share/vulkan /usr/local/nvidia /usr/share/glvnd /etc/glvnd \
    -name '*.json' 2>/dev/null | while read -r j; do echo "$j: $(tr -d '\n ' <"$j" | head -c 300)"; done
  echo "== env (NVIDIA/VK/EGL/LD)"; env | grep -E '^(NVIDIA|VK_|__EGL|__GLX|LD_LIBRARY_PATH|CUDA)' | head -20
}
