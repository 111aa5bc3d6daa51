"""A REPL of its own, for the tests that break something while tasks are out.

Usage: python tests/client.py TIMEOUT QUEUE...

It sends add(n, 1) to the n-th queue named and prints the task ids as JSON,
waits for a line on stdin (while the test breaks something), then prints as
JSON what each get(timeout=TIMEOUT) gave: the answer, or the exception's name.
"""

import json
import os
import sys

sys.path.insert(0, os.getcwd())  # as a REPL started at the repo root

from tasks import add


def main(timeout, *queues):
    """Send, wait for the word, then collect."""
    results = [add.apply_async((n, 1), queue=queue) for n, queue in enumerate(queues)]
    print(json.dumps([result.id for result in results]), flush=True)
    sys.stdin.readline()
    answers = []
    for result in results:
        try:
            answers.append(result.get(timeout=float(timeout)))
        except Exception as exc:  # the test asserts on its name
            answers.append(type(exc).__name__)
    print(json.dumps(answers), flush=True)


if __name__ == "__main__":
    main(*sys.argv[1:])
