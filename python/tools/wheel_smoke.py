#!/usr/bin/env python3
"""Smoke-test the swiftconv wheel as a machine without Swift would run it: `make wheel-test`.

    python python/tools/wheel_smoke.py [WHEEL] [--keep] [--no-namespace] [--no-qemu]

WHEEL defaults to the newest dist/swiftconv-*.whl for the Python running this script (`make
wheel` writes it; the smoke test's venv is made by the same Python). The script:

1. creates a fresh virtual environment in a new temporary folder outside the source tree
   and installs the wheel into it with pip (numpy from PyPI, binary wheels only), with the
   Swift toolchain hidden as below: installing must not need it;
2. copies itself into that folder and runs there, each time in a fresh process of the venv's
   interpreter (`python -I`: no PYTHONPATH, no user site, not the script's folder on
   sys.path), the checks of `--inside`:
   - with the kernels this CPU gets at load time;
   - with SWIFTCONV_KERNEL_TIER=avx2 and =baseline (the engine clamps the tier to what the
     CPU has; an engine without the variable ignores it);
   - when qemu-x86_64 (Debian's qemu-user) is installed, on emulated CPUs that lack
     AVX-512 (Haswell) and AVX (Nehalem), where the engine's own CPU check must choose
     kernels the CPU can run (an instruction it lacks would stop the process).

The Swift toolchain is hidden from those processes:
- PATH keeps no folder that holds `swift` or `swiftc` or lies inside the toolchain;
  PYTHONPATH, PYTHONHOME and LD_LIBRARY_PATH are unset;
- when `unshare --mount` works (root, or user namespaces), they also run in a private mount
  namespace with an empty tmpfs mounted over the toolchain's folder (/opt/swift here), so
  the toolchain's files do not exist for them at all, as on a machine without Swift. Nothing
  outside that namespace sees the mount. `--no-namespace` skips this (PATH only).

Checks inside (each prints ok/FAIL): no `swift` on PATH, the toolchain folder empty (in the
namespace), swiftconv imported from the venv and not from the source tree, the extension and
libswiftconv.so side by side in the installed package with `ldd` resolving every library and
naming nothing from the toolchain, the process's memory maps holding libswiftconv.so from the
venv and nothing from the toolchain, and conv2d (float32 and float64, with bias),
conv_transpose2d and conv2d_backward against small results worked out by hand.

The last line is "wheel-smoke: N passed, N failed" over all runs (a run that dies before
its summary counts as one failure). Exits non-zero when anything fails.
"""
from __future__ import annotations

import argparse
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# (what, extra environment, command prefix) of each run of the inside checks.
RUNS = [("kernels chosen at load time", {}, []),
        ("SWIFTCONV_KERNEL_TIER=avx2", {"SWIFTCONV_KERNEL_TIER": "avx2"}, []),
        ("SWIFTCONV_KERNEL_TIER=baseline", {"SWIFTCONV_KERNEL_TIER": "baseline"}, [])]
# CPUs without AVX-512 and without AVX, emulated by qemu-user when it is installed, so the
# engine's load-time choice meets a CPU that lacks those instructions (an instruction the
# emulated CPU lacks stops the process). Nehalem is x86-64-v2 (SSE4.2, no AVX): NumPy 2.4
# needs v2 itself, so plain x86-64 (qemu64) can only be tried with an older NumPy.
QEMU_CPUS = [("Haswell", "x86-64-v3: AVX2 + FMA, no AVX-512"), ("Nehalem", "x86-64-v2: no AVX")]


# --------------------------------------------------------------------------------------------
# Outside: the driver (standard library only; runs under the build's Python).

def toolchain_root() -> Path | None:
    """The Swift toolchain's top folder (/opt/swift for /opt/swift/usr/bin/swift), or None."""
    swift = shutil.which("swift") or shutil.which("swiftc")
    if not swift:
        return None
    binary = Path(swift).resolve()
    parts = binary.parent.parts
    root = Path(*parts[:-2]) if parts[-2:] == ("usr", "bin") else binary.parent.parent
    return root


def hidden_env(venv: Path, toolchain: Path | None) -> dict[str, str]:
    """This environment less everything that leads to Swift or to the source tree."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONPATH", "PYTHONHOME", "LD_LIBRARY_PATH", "VIRTUAL_ENV",
                        "SWIFTCONV_KERNEL_TIER")}
    kept = []
    for entry in env.get("PATH", "").split(os.pathsep):
        if not entry:
            continue
        folder = Path(entry)
        if (folder / "swift").exists() or (folder / "swiftc").exists():
            continue
        if toolchain and str(folder.resolve()).startswith(str(toolchain) + os.sep):
            continue
        kept.append(entry)
    env["PATH"] = os.pathsep.join([str(venv / "bin")] + kept)
    env["VIRTUAL_ENV"] = str(venv)
    return env


def namespace_prefix(toolchain: Path | None, wanted: bool) -> list[str]:
    """The command prefix that runs a command with the toolchain's folder covered by an
    empty tmpfs in a private mount namespace, or [] when that is not possible or not asked."""
    if not wanted or toolchain is None or len(toolchain.parts) < 3 or not shutil.which("unshare"):
        # Never cover /, /usr or the like: only a toolchain in a folder of its own.
        return []
    prefix = ["unshare", "--mount", "--propagation", "private", "--",
              "sh", "-c", f'mount -t tmpfs -o ro,size=64k swiftconv-no-swift "{toolchain}" && exec "$@"',
              "sh"]
    probe = subprocess.run(prefix + [f"{sys.executable}", "-c", "pass"], capture_output=True)
    return prefix if probe.returncode == 0 else []


def run(command: list[str], env: dict[str, str], cwd: Path) -> int:
    print("+ " + shlex.join(command), flush=True)
    return subprocess.run(command, env=env, cwd=cwd).returncode


def run_counting(command: list[str], env: dict[str, str], cwd: Path) -> tuple[int, tuple[int, int] | None]:
    """Runs an inside check, echoing its output; returns its exit status and its counts."""
    print("+ " + shlex.join(command), flush=True)
    process = subprocess.Popen(command, env=env, cwd=cwd, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True)
    counts = None
    assert process.stdout is not None
    for line in process.stdout:
        match = re.fullmatch(r"wheel-smoke: (\d+) passed, (\d+) failed\s*", line)
        if match:
            counts = (int(match.group(1)), int(match.group(2)))
            line = f"  ({counts[0]} passed, {counts[1]} failed)\n"
        print(line, end="", flush=True)
    return process.wait(), counts


def drive(args: argparse.Namespace) -> int:
    started = time.monotonic()
    wheel = args.wheel
    if wheel is None:
        pattern = f"swiftconv-*-cp{sys.version_info[0]}{sys.version_info[1]}-*.whl"
        found = sorted((ROOT / "dist").glob(pattern), key=lambda p: p.stat().st_mtime)
        if not found:
            print(f"wheel-smoke: no dist/{pattern}; run `make wheel` first", file=sys.stderr)
            return 2
        wheel = found[-1]
    wheel = wheel.resolve()
    print(f"wheel-smoke: testing {wheel.name} ({wheel.stat().st_size / 1e6:.1f} MB)", flush=True)

    toolchain = toolchain_root()
    prefix = namespace_prefix(toolchain, not args.no_namespace)
    if toolchain is None:
        print("wheel-smoke: no Swift toolchain on this machine's PATH: nothing to hide")
    elif prefix:
        print(f"wheel-smoke: hiding Swift: PATH without it, and {toolchain} covered by an empty "
              f"tmpfs in a private mount namespace")
    else:
        print(f"wheel-smoke: hiding Swift from PATH only ({toolchain} stays readable: "
              f"{'--no-namespace' if args.no_namespace else 'unshare --mount is not available'})")

    outside = Path(tempfile.mkdtemp(prefix="swiftconv-wheel-smoke-"))
    if outside.resolve().is_relative_to(ROOT):
        print(f"wheel-smoke: the temporary folder {outside} is inside the source tree", file=sys.stderr)
        return 2
    venv = outside / "venv"
    try:
        env = hidden_env(venv, toolchain)
        t = time.monotonic()
        if run([sys.executable, "-m", "venv", str(venv)], env, outside) != 0:
            return 1
        install = [str(venv / "bin" / "python"), "-m", "pip", "install", "-q",
                   "--only-binary", ":all:", str(wheel)]
        if run(prefix + install, env, outside) != 0:
            print("wheel-smoke: installing the wheel failed", file=sys.stderr)
            return 1
        print(f"wheel-smoke: fresh venv and install in {time.monotonic() - t:.0f} s", flush=True)

        script = outside / "swiftconv_wheel_smoke.py"
        shutil.copy2(__file__, script)
        passed = failed = failed_runs = 0
        runs = list(RUNS)
        qemu = shutil.which("qemu-x86_64")
        if args.no_qemu:
            print("wheel-smoke: emulated CPUs skipped (--no-qemu)")
        elif qemu and os.uname().machine == "x86_64":
            runs += [(f"emulated {cpu} ({what})", {}, [qemu, "-cpu", cpu]) for cpu, what in QEMU_CPUS]
        else:
            print("wheel-smoke: emulated CPUs skipped: no qemu-x86_64 (Debian's qemu-user)")
        for what, extra, wrapper in runs:
            tier_env = dict(env, **extra)
            print(f"--- {what}", flush=True)
            command = wrapper + [str(venv / "bin" / "python"), "-I", str(script), "--inside",
                       "--source-root", str(ROOT), "--toolchain", str(toolchain or ""),
                       "--namespace" if prefix else "--no-namespace"]
            status, counts = run_counting(prefix + command, tier_env, outside)
            if counts is None:  # died before its summary: count the run as one failure
                counts = (0, 1)
            passed += counts[0]
            failed += counts[1]
            failed_runs += status != 0 or counts[1] != 0
    finally:
        if args.keep:
            print(f"wheel-smoke: kept {outside}")
        else:
            shutil.rmtree(outside, ignore_errors=True)
    verdict = "all passed" if failed_runs == 0 else f"FAILED in {failed_runs} of {len(runs)} runs"
    print(f"wheel-smoke: {verdict} ({len(runs)} runs, {time.monotonic() - started:.0f} s)")
    print(f"wheel-smoke: {passed} passed, {failed} failed")
    return 1 if failed_runs else 0


# --------------------------------------------------------------------------------------------
# Inside: the checks, in the fresh venv's interpreter with Swift hidden.

class Checks:
    def __init__(self) -> None:
        self.passed = 0
        self.failed = 0

    def check(self, what: str, ok: bool, detail: str = "") -> None:
        if ok:
            self.passed += 1
        else:
            self.failed += 1
        print(f"{'ok  ' if ok else 'FAIL'} {what}{': ' + detail if detail else ''}", flush=True)


def inside(args: argparse.Namespace) -> int:
    c = Checks()
    toolchain = args.toolchain or None
    forbidden = [p for p in {toolchain, "/opt/swift"} if p]
    source_root = Path(args.source_root).resolve()

    c.check("no `swift` or `swiftc` on PATH",
            shutil.which("swift") is None and shutil.which("swiftc") is None,
            f"swift={shutil.which('swift')}, swiftc={shutil.which('swiftc')}")
    if toolchain and args.namespace:
        c.check(f"the toolchain folder {toolchain} is empty here",
                not os.path.exists(os.path.join(toolchain, "usr")),
                str(os.listdir(toolchain)) if os.path.isdir(toolchain) else "")
    c.check("running in a virtual environment", sys.prefix != sys.base_prefix, sys.prefix)
    c.check("the working folder is outside the source tree",
            not Path.cwd().resolve().is_relative_to(source_root), str(Path.cwd()))

    try:
        import numpy as np
        import swiftconv as sc
    except Exception as error:  # the import is the first thing a missing library breaks
        c.check("import swiftconv", False, f"{type(error).__name__}: {error}")
        print(f"wheel-smoke: {c.passed} passed, {c.failed} failed")
        return 1
    package = Path(sc.__file__).resolve().parent
    c.check("swiftconv comes from the venv, not the source tree",
            package.is_relative_to(Path(sys.prefix).resolve())
            and not package.is_relative_to(source_root), str(package))

    extension = sorted(package.glob("_native*.so"))
    library = sorted(package.glob("libswiftconv*.so")) + sorted(
        (package.parent / "swiftconv.libs").glob("libswiftconv*.so"))
    c.check("the extension and libswiftconv.so are installed", len(extension) == 1 and len(library) == 1,
            f"{[p.name for p in extension]}, {[str(p) for p in library]}")
    for so in extension + library:
        result = subprocess.run(["ldd", str(so)], capture_output=True, text=True)
        named = [re.sub(r"\s*\(0x[0-9a-f]+\)", "", line.strip())
                 for line in result.stdout.splitlines() if "linux-vdso" not in line]
        bad = [line for line in named if "not found" in line or any(f in line for f in forbidden)]
        c.check(f"ldd {so.name}: every library found, none from {'/'.join(forbidden)}",
                result.returncode == 0 and not bad, "; ".join(bad or named))
        if so in extension:
            resolved = [line for line in named if line.startswith("libswiftconv")]
            c.check(f"ldd {so.name}: libswiftconv resolves inside the installed wheel",
                    len(resolved) == 1 and any(str(p) in resolved[0] for p in library),
                    "; ".join(resolved))

    maps = Path("/proc/self/maps").read_text() if Path("/proc/self/maps").exists() else ""
    mapped = {line.split()[-1] for line in maps.splitlines() if len(line.split()) >= 6}
    ours = [m for m in mapped if "libswiftconv" in m]
    c.check("the process maps libswiftconv.so from the venv and nothing from the toolchain",
            bool(ours) and all(Path(m).resolve().is_relative_to(package.parent) for m in ours)
            and not any(m.startswith(tuple(f + "/" for f in forbidden)) for m in mapped),
            ", ".join(sorted(ours)))

    # Results worked out by hand.
    x = np.arange(1, 10).reshape(1, 1, 3, 3)                    # [[1 2 3] [4 5 6] [7 8 9]]
    for dtype in (np.float32, np.float64):
        ones = np.ones((1, 1, 2, 2), dtype)
        y = sc.conv2d(x.astype(dtype), ones, np.array([0.5], dtype))
        # Each output is the sum of a 2x2 window: 1+2+4+5, 2+3+5+6, 4+5+7+8, 5+6+8+9, plus 0.5.
        expected = np.array([[[[12.5, 16.5], [24.5, 28.5]]]], dtype)
        c.check(f"conv2d {np.dtype(dtype).name}", y.dtype == dtype and np.array_equal(y, expected),
                str(y.ravel().tolist()))
    g = np.array([[[[1, 2], [3, 4]]]], np.float32)
    z = sc.conv_transpose2d(g, np.ones((1, 1, 2, 2), np.float32))
    # Each input pixel adds itself to its 2x2 window of the 3x3 output.
    expected = np.array([[[[1, 3, 2], [4, 10, 6], [3, 7, 4]]]], np.float32)
    c.check("conv_transpose2d float32", np.array_equal(z, expected), str(z.ravel().tolist()))
    grad_input, grad_weight, grad_bias = sc.conv2d_backward(
        np.ones((1, 1, 2, 2)), x.astype(np.float64), np.ones((1, 1, 2, 2)))
    # grad_weight[p, q] = sum of the inputs tap (p, q) saw: the four window sums above;
    # grad_input[i, j] = how many windows cover (i, j); grad_bias = number of outputs.
    c.check("conv2d_backward float64",
            np.array_equal(grad_weight, [[[[12, 16], [24, 28]]]])
            and np.array_equal(grad_input, [[[[1, 2, 1], [2, 4, 2], [1, 2, 1]]]])
            and np.array_equal(grad_bias, [4]),
            f"{grad_input.ravel().tolist()} {grad_weight.ravel().tolist()} {grad_bias.tolist()}")

    print(f"wheel-smoke: {c.passed} passed, {c.failed} failed", flush=True)
    return 1 if c.failed else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("wheel", nargs="?", type=Path, help="default: the newest dist/swiftconv-*.whl for this Python")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder and its venv")
    parser.add_argument("--no-namespace", action="store_true",
                        help="hide Swift from PATH only, without a mount namespace")
    parser.add_argument("--no-qemu", action="store_true",
                        help="skip the runs on CPUs emulated by qemu-x86_64")
    parser.add_argument("--inside", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--namespace", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--source-root", default=str(ROOT), help=argparse.SUPPRESS)
    parser.add_argument("--toolchain", default="", help=argparse.SUPPRESS)
    args = parser.parse_args()
    return inside(args) if args.inside else drive(args)


if __name__ == "__main__":
    sys.exit(main())
