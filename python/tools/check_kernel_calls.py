"""Checks that the kernel modules of the built engine call no Swift standard library code.

The per-tier kernels (`SwiftConvKernelsAVX512`, `...AVX2`, `...Baseline`) are written so
that every SIMD operation inlines into them: an out-of-line call into the standard library
from inside a micro-kernel or a register transpose costs a call, spills and a generic
shuffle per vector. The compiler's inlining can change without any source change here: in
session 5 it stopped inlining `SIMD32<Float>.evenHalf` into the 16x16 transposes once other
kernels joined the module, and grad_weight took 1.6-2.3x as long with identical results.
No test can see that; this check can. It disassembles the library (binutils' objdump) and
fails when a function of a kernel module calls a Swift standard library symbol (`$ss...`).
Calls to the C library (memcpy, memset) and to the runtime's allocator are allowed.

Usage: python3 python/tools/check_kernel_calls.py [path/to/libswiftconv.so]
Exit status 0: clean (or objdump missing: says so); 1: calls found (listed).
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

#: Mangled-name prefixes of the kernel modules (module name with its length, Swift mangling).
KERNEL_MODULES = ("$s22SwiftConvKernelsAVX512", "$s20SwiftConvKernelsAVX2", "$s24SwiftConvKernelsBaseline")
#: Calls into the Swift standard library (mangled `$ss...`).
STDLIB_CALL = re.compile(r"\bcall\s+\S+\s+<(\$ss[^>]*)>")
FUNCTION_START = re.compile(r"^[0-9a-f]+ <(.*)>:$")

DEFAULT_LIBRARY = Path(__file__).resolve().parents[1] / "swiftconv" / "libswiftconv.so"


def stdlib_calls_in_kernels(disassembly: str) -> Counter:
    """(kernel function, standard library callee) -> number of call sites."""
    found: Counter = Counter()
    function = ""
    for line in disassembly.splitlines():
        start = FUNCTION_START.match(line)
        if start:
            function = start.group(1)
            continue
        if function.startswith(KERNEL_MODULES):
            call = STDLIB_CALL.search(line)
            if call:
                found[(function, call.group(1))] += 1
    return found


def main(argv: list) -> int:
    library = Path(argv[1]) if len(argv) > 1 else DEFAULT_LIBRARY
    if not library.is_file():
        print(f"check_kernel_calls: {library} not found (run `make build` first)", file=sys.stderr)
        return 1
    objdump = shutil.which("objdump")
    if objdump is None:
        print("check_kernel_calls: skipped, objdump (binutils) is not installed")
        return 0
    disassembly = subprocess.run([objdump, "-d", "--no-show-raw-insn", str(library)],
                                 check=True, capture_output=True, text=True).stdout
    if not any(f"<{module}" in disassembly for module in KERNEL_MODULES):
        print(f"check_kernel_calls: no kernel module symbols in {library} (stripped?)", file=sys.stderr)
        return 1
    found = stdlib_calls_in_kernels(disassembly)
    if not found:
        print("check_kernel_calls: no kernel function calls the Swift standard library out of line")
        return 0
    print("check_kernel_calls: kernel functions call the Swift standard library out of line "
          "(an inlining failure; see this file's doc):", file=sys.stderr)
    for (function, callee), count in sorted(found.items()):
        print(f"  {function}\n    -> {callee} ({count} call site{'s' if count > 1 else ''})", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
