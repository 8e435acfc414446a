"""How much structure a template may have before the parsers refuse it (exit 2, one line).

Kept apart from the parsers so the JSON and YAML readers share them without importing each other.
"""

# Deeper than any real template; keeps the recursive conversion inside Python's recursion limit.
MAX_NESTING = 500
# What YAML aliases may expand to: far above any real template, far below an alias bomb.
MAX_EXPANDED_NODES = 1_000_000
