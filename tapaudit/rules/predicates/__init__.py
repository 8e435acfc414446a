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
    FIX_VALUES,
    PREDICATES,
    REGEX_ARGS,
    SUBJECT_KINDS,
    UNKNOWN_REMEDIES,
    Context,
    fix_values,
    predicate,
    remedy,
    run,
    subject_kind,
)

__all__ = ["FIX_VALUES", "PREDICATES", "REGEX_ARGS", "SUBJECT_KINDS", "UNKNOWN_REMEDIES", "Context",
           "cloudfront", "dynamodb", "events", "fix_values", "lambda_functions", "predicate", "remedy",
           "run", "s3", "scheduler", "subject_kind", "values"]
