"""tapaudit: a compliance auditor for CloudFormation templates and CDK cloud assemblies."""

__version__ = "0.1.0"
