"""Context values with placeholder defaults, so the app synthesizes without credentials or network."""

from __future__ import annotations

from dataclasses import dataclass

from constructs import Node

VARIANTS = ("reference", "flawed")

DEFAULTS = {
    "variant": "reference",
    "service_name": "txmigration",
    "account": "111111111111",
    "primary_region": "us-east-1",
    "replica_region": "us-west-2",
    "domain_name": "app.example.com",
    # An imported ACM certificate; CloudFront needs it in us-east-1.
    "certificate_arn": "arn:aws:acm:us-east-1:111111111111:certificate/"
                       "00000000-0000-0000-0000-000000000000",
}


@dataclass(frozen=True)
class Settings:
    variant: str
    service_name: str
    account: str
    primary_region: str
    replica_region: str
    domain_name: str
    certificate_arn: str

    @property
    def reference(self) -> bool:
        """True for the variant that passes every rule; False for the flawed twin."""
        return self.variant == "reference"

    @property
    def replica_bucket_name(self) -> str:
        # A fixed name lets the primary stack point at the replica without cross-region exports.
        return f"{self.service_name}-transactions-{self.account}-{self.replica_region}"

    @classmethod
    def from_context(cls, node: Node) -> Settings:
        values = {key: node.try_get_context(key) or default for key, default in DEFAULTS.items()}
        if values["variant"] not in VARIANTS:
            raise ValueError(f"context variant must be one of {VARIANTS}, not {values['variant']!r}")
        return cls(**values)
