"""`python -m trainer`: read the hyperparameters, train, and turn failures into exit codes.

Exit codes: 0 done, 1 training diverged, 2 bad hyperparameters or environment (with a
one-line `error: ...` on stderr and no traceback).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping, Sequence

from trainer.errors import ConfigError, TrainingDiverged
from trainer.hyperparameters import help_text, parse_hyperparameters
from trainer.log import configure_logging, log_level
from trainer.sources import read_hyperparameters

__all__ = ["main"]


def main(argv: Sequence[str] | None = None, environ: Mapping[str, str] | None = None) -> int:
    """Run the trainer as the command line and environment say; return the exit code.

    Args:
        argv: arguments without the program name; default `sys.argv[1:]`.
        environ: the environment; default `os.environ`.
    """
    argv = sys.argv[1:] if argv is None else argv
    environ = os.environ if environ is None else environ
    if "-h" in argv or "--help" in argv:
        print(help_text())
        return 0
    try:
        level = log_level(environ.get("SM_LOG_LEVEL"))
        hyperparameters = parse_hyperparameters(read_hyperparameters(argv, environ))
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    logger = configure_logging(level)

    # Imported only now: torch takes seconds to import, and a bad hyperparameter should
    # be refused at once.
    from trainer.run import run

    try:
        run(hyperparameters)
    except TrainingDiverged as exc:
        logger.error("%s", exc)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
