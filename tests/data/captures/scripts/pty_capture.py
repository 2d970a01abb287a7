"""Run a command on a pseudo-terminal and save every byte it writes, as a terminal gets it.

    python pty_capture.py OUT.log -- COMMAND [ARG ...]

Unlike `script(1)`, this writes no header or footer into the capture, and it gives the
terminal a fixed size (100 x 40) so that progress bars are the same width on every run.
The terminal keeps its default modes, so `\\n` reaches the capture as `\\r\\n` (`onlcr`),
just as a terminal log saved with `script` or `tmux pipe-pane` shows it.
"""

import fcntl
import os
import pty
import struct
import subprocess
import sys
import termios

COLUMNS, ROWS = 100, 40


def main() -> int:
    out_path, separator, *command = sys.argv[1:]
    if separator != "--" or not command:
        sys.exit(__doc__)
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", ROWS, COLUMNS, 0, 0))
    env = {**os.environ, "TERM": "xterm-256color", "COLUMNS": str(COLUMNS), "LINES": str(ROWS)}
    child = subprocess.Popen(
        command, stdin=slave, stdout=slave, stderr=slave, env=env, start_new_session=True
    )
    os.close(slave)
    with open(out_path, "wb") as out:
        while True:
            try:
                data = os.read(master, 65536)
            except OSError:  # EIO: every copy of the slave end is closed
                break
            if not data:
                break
            out.write(data)
    os.close(master)
    return child.wait()


if __name__ == "__main__":
    sys.exit(main())
