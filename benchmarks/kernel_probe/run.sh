#!/bin/sh
# Compiles and runs probe.swift: the FMA peak of this machine and the AVX-512 GEMM block
# function of the working tree against the one at a git revision (default HEAD), timed
# interleaved in one process. By hand only:  sh benchmarks/kernel_probe/run.sh [rev] [rounds] [all|blocks|layers|tiles|case-name filter]
# The base revision's MicroKernels.swift joins the same module with EVERY public entry point
# renamed `...Base` (and its internal kernels; its private ones are file-private already); the kernels' shared
# helpers (MultiplyAdd.swift: `fmadd`) come once, from the working tree.
set -e
cd "$(dirname "$0")/../.."
rev=${1:-HEAD}
# Set TMPDIR to a directory of your own when others may run the probe at the same time.
out=${TMPDIR:-/tmp}/swiftconv-kernel-probe
mkdir -p "$out"
base=$(git show "$rev:Sources/SwiftConvKernelsAVX2/MicroKernels.swift")
# Its internal kernels (kernel12x16, ...) renamed too, at every use in it.
renames=$(printf '%s\n' "$base" | sed -n 's/^func \([A-Za-z0-9_]*\)(.*/-e s\/\\b\1(\/\1Base(\/g/p')
printf '%s\n' "$base" | sed -e 's/public func \([A-Za-z0-9_]*\)(/public func \1Base(/' $renames > "$out/BaseMicroKernels.swift"
k=Sources/SwiftConvKernelsAVX2
# MicroKernels.swift imports CSwiftConv (sc_prefetch_l2): a module map for its header.
printf 'module CSwiftConv {\n  header "%s/Sources/CSwiftConv/include/swiftconv_kernels.h"\n  export *\n}\n' "$(pwd)" > "$out/module.modulemap"
swiftc -O -wmo -parse-as-library -module-name KernelProbe -I "$out" -Xcc -march=x86-64-v4 -D SWIFTCONV_FMA -D SWIFTCONV_AVX512 \
  benchmarks/kernel_probe/probe.swift benchmarks/kernel_probe/FMAPeak.swift benchmarks/kernel_probe/Tile6x64.swift $k/InPlaceWeightKernels.swift $k/MicroKernels.swift $k/EdgeKernels.swift $k/Packing.swift $k/MultiplyAdd.swift $k/LaneShuffles.swift \
  "$out/BaseMicroKernels.swift" -o "$out/probe"
"$out/probe" ${2:-15} ${3:-all}
