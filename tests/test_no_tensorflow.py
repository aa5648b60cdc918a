"""Importing archspec, loading a spec and running static inference import neither TensorFlow
nor Keras: a subprocess starts clean and checks sys.modules."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import ROOT, SPECS


def test_static_path_never_imports_tensorflow():
    code = (
        "import sys, archspec\n"
        f"for p in {[str(p) for p in SPECS]!r}:\n"
        "    archspec.analyze(archspec.load(p))\n"
        "import archspec.cli\n"
        "bad = [m for m in sys.modules if m.split('.')[0] in ('tensorflow', 'keras')]\n"
        "print(bad)\n"
        "sys.exit(1 if bad else 0)\n"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stdout.strip() == "[]"
