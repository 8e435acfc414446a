"""Named predicates that rule files call. Each takes the context and one selected value.

Importing the package registers every predicate module (see `registry`).
"""

from __future__ import annotations

from tapaudit.rules.predicates import (
    cloudfront,
    dynamodb,
    events,
    lambda_functions,
    s3,
    scheduler,
    values,
)
from tapaudit.rules.predicates.registry import (
    ENTRY_VALUES,
    FIX_VALUES,
    PREDICATES,
    REGEX_ARGS,
    SUBJECT_KINDS,
    UNKNOWN_REMEDIES,
    Context,
    entry_values,
    fix_values,
    predicate,
    remedy,
    run,
    subject_kind,
)

__all__ = ["ENTRY_VALUES", "FIX_VALUES", "PREDICATES", "REGEX_ARGS", "SUBJECT_KINDS", "UNKNOWN_REMEDIES",
           "Context", "cloudfront", "dynamodb", "entry_values", "events", "fix_values",
           "lambda_functions", "predicate", "remedy", "run", "s3", "scheduler", "subject_kind", "values"]
