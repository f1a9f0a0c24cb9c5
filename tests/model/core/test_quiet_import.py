"""bitsandbytes' import-time "kernels-community" message on AVX512-BF16 CPUs is silenced
in the command lines; the CPU flag is forced, so this runs on any CPU."""

from __future__ import annotations

import subprocess
import sys

import pytest

MESSAGE = "Failed to load CPU gemm_4bit_forward from kernels-community"

# Make bitsandbytes believe, while it is imported, that the CPU has AVX512-BF16.
PROBE = """
import importlib.machinery, sys

class ForceAvx512Bf16:
    def find_spec(self, name, path=None, target=None):
        if name != "bitsandbytes.functional":
            return None
        spec = importlib.machinery.PathFinder.find_spec(name, path)
        run = spec.loader.exec_module
        def exec_module(module):
            run(module)
            module.has_avx512bf16 = lambda: True
        spec.loader.exec_module = exec_module
        return spec

sys.meta_path.insert(0, ForceAvx512Bf16())

def main():
    import bitsandbytes
    print("imported", bitsandbytes.__version__)

if sys.argv[1] == "run_cli":
    from codegen.core.cli_errors import run_cli
    sys.exit(run_cli(main, "probe"))
main()
"""


def _stderr(mode: str) -> str:
    proc = subprocess.run(
        [sys.executable, "-c", PROBE, mode], capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0 and "imported" in proc.stdout, proc.stderr[-2000:]
    return proc.stderr


def test_kernel_hub_message_is_silenced_by_run_cli() -> None:
    if MESSAGE not in _stderr("bare"):
        pytest.skip("bitsandbytes printed no kernels-community message here (kernel found?)")
    assert MESSAGE not in _stderr("run_cli")
