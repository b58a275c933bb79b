"""Builds swiftconv: the Swift engine (SwiftPM) and the CPython extension that loads it.

`pip install .` and `make build` (setup.py build_ext --inplace) both come through here, so
there is one build recipe. The Swift library is built with the standard library linked
statically and placed beside the extension, which finds it through an $ORIGIN rpath.
"""
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

ROOT = Path(__file__).resolve().parent
SWIFT_BUILD = ["swift", "build", "-c", "release", "-Xswiftc", "-static-stdlib", "--product", "swiftconv"]


class BuildSwiftEngine(build_ext):
    """Runs `swift build` first, links the extension against libswiftconv.so, copies it in."""

    def run(self) -> None:
        print("building the Swift engine:", " ".join(SWIFT_BUILD), flush=True)
        subprocess.check_call(SWIFT_BUILD, cwd=ROOT)
        bin_dir = Path(subprocess.check_output(SWIFT_BUILD + ["--show-bin-path"], cwd=ROOT, text=True).strip())
        library = bin_dir / "libswiftconv.so"
        for ext in self.extensions:
            ext.library_dirs.append(str(bin_dir))
        super().run()
        for ext in self.extensions:
            target = Path(self.get_ext_fullpath(ext.name)).parent
            target.mkdir(parents=True, exist_ok=True)
            # Copy, then rename over the old file: a process that has the old library loaded
            # keeps its (unlinked) copy instead of seeing it rewritten under it.
            staging = target / (library.name + ".tmp")
            shutil.copy2(library, staging)
            os.replace(staging, target / library.name)


setup(
    package_dir={"": "python"},
    packages=["swiftconv"],
    package_data={"swiftconv": ["py.typed", "*.pyi"]},
    ext_modules=[
        Extension(
            "swiftconv._native",
            sources=["python/swiftconv/_native.c"],
            include_dirs=[np.get_include(), "Sources/CSwiftConv/include"],
            libraries=["swiftconv"],
            extra_compile_args=["-O2", "-std=c11", "-Wall"],
            extra_link_args=["-Wl,-rpath,$ORIGIN"],
        )
    ],
    cmdclass={"build_ext": BuildSwiftEngine},
)
