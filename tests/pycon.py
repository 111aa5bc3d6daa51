"""Run one README REPL session (its ``>>>`` lines) in a fresh interpreter, as doctest does.

A line whose comment says "later" (後, in README.ja.md) is one a reader types again
after a wait: it is evaluated until its output matches, for up to 30 seconds.

Usage: python tests/pycon.py < session
"""

import doctest
import os
import re
import sys
import time

LATER = re.compile(r"#.*(\blater\b|後)")


def later(expression, want, timeout=30):
    """Evaluate expression() until its repr is want, as a reader would after a wait."""
    deadline = time.monotonic() + timeout
    value = expression()
    while repr(value) != want.strip() and time.monotonic() < deadline:
        time.sleep(0.1)
        value = expression()
    return value


def main():
    """Run the session on standard input; exit 1 if any output differs."""
    sys.path.insert(0, os.getcwd())  # as a REPL started at the repo root
    session = doctest.DocTestParser().get_doctest(sys.stdin.read(), {}, "README", None, 0)
    for example in session.examples:
        if LATER.search(example.source):
            code = example.source.split("#")[0].strip()
            example.source = f"later(lambda: {code}, {example.want!r})\n"
    session.globs["later"] = later
    # Verbose: each line as it runs, so that a session that hangs shows where.
    runner = doctest.DocTestRunner(verbose=True, optionflags=doctest.ELLIPSIS)
    runner.run(session)
    sys.exit(1 if runner.failures else 0)


if __name__ == "__main__":
    main()
