#!/usr/bin/env python3
"""Extract the data SAM expansion needs from aws-sam-translator (Apache-2.0) into the package.

    pip install aws-sam-translator && python scripts/extract_sam_data.py

Writes tapaudit/transforms/sam/data/policy_templates.json (every policy template: parameters and
definition), managed_policies.json (AWS managed policy names whose ARN is not
`arn:aws:iam::aws:policy/<name>`, e.g. `service-role/...`) and connector_profiles.json (what a
connector from a function grants, per destination type), with the translator's version.
aws-sam-translator stays out of tapaudit's runtime dependencies: it pulls in botocore and pins
pydantic. The licence notice is in the same folder (NOTICE).
"""

from __future__ import annotations

import json
from importlib import metadata, resources
from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "tapaudit" / "transforms" / "sam" / "data"


def main() -> None:
    import samtranslator

    version = metadata.version("aws-sam-translator")
    root = resources.files(samtranslator)
    templates = json.loads((root / "policy_templates_data" / "policy_templates.json").read_text())
    kept = {name: {"Parameters": sorted(body.get("Parameters", {})), "Definition": body["Definition"]}
            for name, body in sorted(templates["Templates"].items())}
    managed = json.loads((root / "internal" / "data" / "aws_managed_policies.json").read_text())["aws"]
    paths = {name: arn.split(":policy/", 1)[1] for name, arn in sorted(managed.items())
             if arn != f"arn:aws:iam::aws:policy/{name}"}
    profiles = json.loads((root / "model" / "connector_profiles" / "profiles.json").read_text())
    # Connectors from a Lambda function grant its role permissions: the only source a rule sees.
    lambda_profiles = {destination: profile["Properties"]["AccessCategories"]
                       for destination, profile in profiles["Permissions"]["AWS::Lambda::Function"].items()
                       if profile["Type"] == "AWS_IAM_ROLE_MANAGED_POLICY"}
    outputs = {kind: spec.get("Outputs", {}) for kind, spec in profiles["CfnResourceProperties"].items()}
    OUT.mkdir(parents=True, exist_ok=True)
    source = f"aws-sam-translator {version} (Apache-2.0, see NOTICE)"
    (OUT / "policy_templates.json").write_text(
        json.dumps({"source": source, "templates": kept}, indent=1, sort_keys=True) + "\n")
    (OUT / "managed_policies.json").write_text(
        json.dumps({"source": source, "paths": paths}, indent=1, sort_keys=True) + "\n")
    (OUT / "connector_profiles.json").write_text(json.dumps(
        {"source": source, "from_function": lambda_profiles, "outputs": outputs}, indent=1,
        sort_keys=True) + "\n")
    print(f"{len(lambda_profiles)} connector destinations, {len(kept)} policy templates, "
          f"{len(paths)} managed policy paths from {source}")


if __name__ == "__main__":
    main()
