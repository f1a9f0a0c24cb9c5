"""Map :class:`CodegenError` to one line on stderr and a non-zero exit code.

Every console script wraps its ``main`` with :func:`run_cli` so user mistakes
never show a traceback, while genuine bugs still do; it also silences the known
third-party noise listed in :mod:`codegen.core.quiet`.
"""

from __future__ import annotations

import sys
from collections.abc import Callable

from .errors import CodegenError
from .quiet import quiet_third_party


def run_cli(main: Callable[[], int | None], prog: str) -> int:
    """Run ``main`` and translate user errors into ``prog: error: ...`` and exit 2."""
    quiet_third_party()
    try:
        return int(main() or 0)
    except CodegenError as err:
        print(f"{prog}: error: {err}", file=sys.stderr)
        return err.exit_code
    except KeyboardInterrupt:
        print(f"{prog}: interrupted", file=sys.stderr)
        return 130
