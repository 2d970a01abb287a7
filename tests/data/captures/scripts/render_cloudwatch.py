"""Render a raw capture as CloudWatch shows a SageMaker training job's log.

    python render_cloudwatch.py RAW.log > RENDERED.log

Lines end at `\\n` only. Every other C0 control character, and DEL, becomes `#` and its
three octal digits (tab -> `#011`, `\\r` -> `#015`, ESC -> `#033`); all else is kept.
"""

import re
import sys
from pathlib import Path

_CONTROLS = re.compile(rb"[\x00-\x09\x0b-\x1f\x7f]")


def main() -> None:
    raw = Path(sys.argv[1]).read_bytes()
    sys.stdout.buffer.write(_CONTROLS.sub(lambda m: b"#%03o" % m.group()[0], raw))


if __name__ == "__main__":
    main()
