#!/bin/sh
# Compiles and runs probe.swift: the FMA peak of this machine and the AVX-512 GEMM block
# function of the working tree against the one at a git revision (default HEAD), timed
# interleaved in one process. By hand only:  sh benchmarks/kernel_probe/run.sh [rev] [rounds]
# The base revision's MicroKernels.swift joins the same module with EVERY public entry point
# renamed `...Base` (its private kernels are file-private already); the kernels' shared
# helpers (MultiplyAdd.swift: `fmadd`) come once, from the working tree.
set -e
cd "$(dirname "$0")/../.."
rev=${1:-HEAD}
out=${TMPDIR:-/tmp}/swiftconv-kernel-probe
mkdir -p "$out"
git show "$rev:Sources/SwiftConvKernelsAVX2/MicroKernels.swift" \
  | sed -e 's/public func \([A-Za-z0-9_]*\)(/public func \1Base(/' > "$out/BaseMicroKernels.swift"
k=Sources/SwiftConvKernelsAVX2
swiftc -O -wmo -parse-as-library -module-name KernelProbe -Xcc -march=x86-64-v4 -D SWIFTCONV_FMA -D SWIFTCONV_AVX512 \
  benchmarks/kernel_probe/probe.swift benchmarks/kernel_probe/FMAPeak.swift $k/InPlaceWeightKernels.swift $k/MicroKernels.swift $k/Packing.swift $k/MultiplyAdd.swift $k/LaneShuffles.swift \
  "$out/BaseMicroKernels.swift" -o "$out/probe"
"$out/probe" ${2:-15}
