"""How much structure a template may have before the parsers refuse it (exit 2, one line).

Kept apart from the parsers so the JSON and YAML readers share them without importing each other.
"""

import sys
from collections.abc import Iterator
from contextlib import contextmanager

# Deeper than any real template; keeps the recursive conversion inside Python's recursion limit.
MAX_NESTING = 500
# What YAML aliases may expand to: far above any real template, far below an alias bomb.
MAX_EXPANDED_NODES = 1_000_000


@contextmanager
def recursion_limit(limit: int) -> Iterator[None]:
    """Python's recursion limit set to `limit` for the block (the recursive readers, C and Python,
    refuse deeper text with RecursionError), and restored after it."""
    old = sys.getrecursionlimit()
    sys.setrecursionlimit(limit)
    try:
        yield
    finally:
        sys.setrecursionlimit(old)
