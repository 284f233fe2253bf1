"""Create the table and the bucket exactly as template.yaml declares them.

For tests (moto) and for running the AWS shape against a local emulator: the
table's keys, indexes and TTL come from the template, so the code under test
and the deployed stack cannot drift apart. Not used by the Lambda functions.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

TABLE_RESOURCE = "SteppeTable"
_TABLE_KEYS = (
    "AttributeDefinitions",
    "KeySchema",
    "GlobalSecondaryIndexes",
    "LocalSecondaryIndexes",
    "BillingMode",
)


class _TemplateLoader(yaml.SafeLoader):
    """Reads CloudFormation short-form tags (!Ref, !GetAtt...) as plain values."""


_TemplateLoader.add_multi_constructor("!", lambda loader, suffix, node: None)


def table_definition(template: Path) -> dict[str, Any]:
    """The SteppeTable resource's Properties from a SAM/CloudFormation template."""
    with open(template, encoding="utf-8") as stream:
        document = yaml.load(stream, Loader=_TemplateLoader)
    try:
        return document["Resources"][TABLE_RESOURCE]["Properties"]
    except (KeyError, TypeError):
        raise ValueError(f"{template} declares no {TABLE_RESOURCE} properties") from None


def create_table(dynamodb: Any, table_name: str, template: Path) -> None:
    """Create `table_name` with the template's keys, indexes, billing mode and TTL."""
    definition = table_definition(template)
    params = {k: definition[k] for k in _TABLE_KEYS if k in definition}
    dynamodb.create_table(TableName=table_name, **params)
    dynamodb.get_waiter("table_exists").wait(TableName=table_name)
    ttl = definition.get("TimeToLiveSpecification")
    if ttl and ttl.get("Enabled"):
        dynamodb.update_time_to_live(
            TableName=table_name,
            TimeToLiveSpecification={"Enabled": True, "AttributeName": ttl["AttributeName"]},
        )


def create_bucket(s3: Any, bucket: str) -> None:
    region = s3.meta.region_name
    if region == "us-east-1":
        s3.create_bucket(Bucket=bucket)
    else:
        s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": region})
