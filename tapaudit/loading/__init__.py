"""Loading: turn files, folders, standard input and CDK cloud assemblies into parsed templates."""

from tapaudit.loading.discovery import TemplateSource, discover
from tapaudit.loading.parse import ParsedDocument, parse_document

__all__ = ["ParsedDocument", "TemplateSource", "discover", "parse_document"]
