"""The template model: resources by type, parameters, conditions, references, IAM and ARNs."""

from tapaudit.model.template import Template
from tapaudit.model.values import MISSING, Branch, Unknown

__all__ = ["MISSING", "Branch", "Template", "Unknown"]
