#!/bin/sh
# Compiles and runs probe.swift: the FMA peak of this machine and the AVX-512 GEMM block
# function of the working tree against the one at a git revision (default HEAD), timed
# interleaved in one process. By hand only:  sh benchmarks/kernel_probe/run.sh [rev] [rounds]
set -e
cd "$(dirname "$0")/../.."
rev=${1:-HEAD}
out=${TMPDIR:-/tmp}/swiftconv-kernel-probe
mkdir -p "$out"
git show "$rev:Sources/SwiftConvKernelsAVX2/MicroKernels.swift" \
  | sed -e 's/public func sgemmBlock(/public func sgemmBlockBase(/' -e 's/public func dgemmBlock(/public func dgemmBlockBase(/' > "$out/BaseMicroKernels.swift"
swiftc -O -wmo -parse-as-library -module-name KernelProbe -Xcc -march=x86-64-v4 -D SWIFTCONV_FMA -D SWIFTCONV_AVX512 \
  benchmarks/kernel_probe/probe.swift Sources/SwiftConvKernelsAVX2/MicroKernels.swift Sources/SwiftConvKernelsAVX2/Packing.swift "$out/BaseMicroKernels.swift" -o "$out/probe"
"$out/probe" ${2:-15}
