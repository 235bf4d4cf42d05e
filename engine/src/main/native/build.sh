#!/usr/bin/env bash
# Rebuilds the bundled MKL dispatch shim (see mkl_intel_cpu.c) into the engine's resources. Needs gcc on linux-x86_64.
# The result is committed: the build and the tests do not need a C compiler.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
out="$here/../resources/dev/quarry/engine/native/linux-x86_64/libquarry_mkl_intel_cpu.so"
gcc -shared -fPIC -Os -nostdlib -s -Wl,--build-id=none -Wl,--hash-style=both -Wl,-z,noseparate-code \
    -Wl,-z,max-page-size=4096 -o "$out" "$here/mkl_intel_cpu.c"
nm -D "$out" | grep -q ' T mkl_serv_intel_cpu_true$'
echo "wrote $out ($(stat -c %s "$out") bytes)"
