"""The measured multiply-add peak of the kernel tier swiftconv runs (bench-only).

Issue 10's dense target is a share of the *measured* FMA peak of the tier in use, not of
an estimate from an assumed clock. When ``swiftc`` is on PATH this compiles
``kernel_probe/FMAPeak.swift`` + ``PeakMain.swift`` with the target flags of that tier's
kernel module (Package.swift: AVX-512 ``-march=x86-64-v4``, AVX2 ``-march=x86-64-v3``,
baseline none), caches the binary under ``$TMPDIR/swiftconv-fma-peak`` (keyed by the
sources and flags) and runs it: the best of 200 register-only runs of ~0.5 ms, one thread.
Without swiftc (or when the probe fails) ``measure`` returns None with the reason, and the
benches say they could not measure it. Nothing here is part of the library.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, Optional, Sequence, Tuple

PROBE = Path(__file__).resolve().parent / "kernel_probe"
SOURCES = (PROBE / "FMAPeak.swift", PROBE / "PeakMain.swift")

# The tier names `swiftconv.explain` prints ("kernels: AVX-512 build") -> swiftc flags.
TIER_FLAGS: Dict[str, Tuple[str, ...]] = {
    "AVX-512": ("-Xcc", "-march=x86-64-v4", "-D", "SWIFTCONV_FMA", "-D", "SWIFTCONV_AVX512"),
    "AVX2+FMA": ("-Xcc", "-march=x86-64-v3", "-D", "SWIFTCONV_FMA"),
    "baseline": (),
}
WHAT = {"AVX-512": "zmm fused multiply-adds", "AVX2+FMA": "ymm fused multiply-adds",
        "baseline": "unfused multiply + add"}


@dataclass(frozen=True)
class Peak:
    tier: str
    float32: float  # GFLOP/s per thread
    how: str

    @property
    def float64(self) -> float:
        return self.float32 / 2  # the same instructions on half the lanes

    def per_thread(self, dtype: str) -> float:
        return self.float64 if dtype == "float64" else self.float32


def tier_of(kernels: str) -> Optional[str]:
    """The tier key of an explain "kernels:" text ("AVX-512 build" -> "AVX-512")."""
    for tier in TIER_FLAGS:
        if kernels.startswith(tier):
            return tier
    return None


def measure(kernels: str, runs: int = 200) -> Tuple[Optional[Peak], str]:
    """(peak, "") for the tier named by ``kernels``, or (None, why not)."""
    tier = tier_of(kernels)
    if tier is None:
        return None, f"unknown kernel tier {kernels!r}"
    swiftc = shutil.which("swiftc")
    if swiftc is None:
        return None, "swiftc is not on PATH: the FMA peak could not be measured"
    flags = TIER_FLAGS[tier]
    key = hashlib.sha256(b"".join(p.read_bytes() for p in SOURCES) + " ".join(flags).encode()).hexdigest()[:16]
    out_dir = Path(os.environ.get("TMPDIR", tempfile.gettempdir())) / "swiftconv-fma-peak"
    binary = out_dir / f"peak-{key}"
    try:
        if not binary.exists():
            out_dir.mkdir(parents=True, exist_ok=True)
            tmp = out_dir / f"peak-{key}.{os.getpid()}"
            subprocess.run([swiftc, "-O", "-parse-as-library", *flags, *map(str, SOURCES), "-o", str(tmp)],
                           check=True, capture_output=True, text=True, timeout=600)
            tmp.replace(binary)
        text = subprocess.run([str(binary), str(runs)], check=True, capture_output=True,
                              text=True, timeout=120).stdout
    except (OSError, subprocess.SubprocessError) as e:
        detail = getattr(e, "stderr", None) or str(e)
        return None, f"the FMA peak probe failed: {detail.strip().splitlines()[-1] if detail.strip() else e}"
    m = re.search(r"float32_gflops_per_thread ([0-9.]+)", text)
    if not m:
        return None, f"the FMA peak probe printed no figure: {text.strip()!r}"
    return Peak(tier, float(m.group(1)),
                f"measured: {WHAT[tier]}, register-only, best of {runs} runs, one thread "
                f"(benchmarks/kernel_probe/FMAPeak.swift)"), ""


def median_of(readings: Sequence[Peak]) -> Peak:
    """One peak from several readings taken through a long run: their median. On a shared VM
    the probe's reading moves with the moment (182-217 GFLOP/s for the AVX-512 binary within
    minutes on the 2-vCPU Xeon), so a single reading taken before a ten-minute bench can sit
    15% away from the clock the layers actually ran at."""
    values = sorted(r.float32 for r in readings)
    mid = len(values) // 2
    median = values[mid] if len(values) % 2 else (values[mid - 1] + values[mid]) / 2
    first = readings[0]
    if len(values) == 1:
        return first
    return Peak(first.tier, median, f"{first.how}; median of {len(values)} readings taken through the run, "
                                    f"{values[0]:.1f}-{values[-1]:.1f}")


if __name__ == "__main__":
    import sys
    for name in sys.argv[1:] or list(TIER_FLAGS):
        peak, why = measure(name)
        print(f"{name}: {peak.float32:.1f} GFLOP/s float32 per thread" if peak else f"{name}: {why}")
