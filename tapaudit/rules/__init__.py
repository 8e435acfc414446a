"""Rules: data files (rules/*.yaml) run by one engine, with named predicates for cross-resource facts."""

from tapaudit.rules.loader import RuleFileError, builtin_rules_dir, load_rules
from tapaudit.rules.model import Rule

__all__ = ["Rule", "RuleFileError", "builtin_rules_dir", "load_rules"]
