"""The deployment configuration: one SAM config stage per template Stage, every resource tagged."""

from __future__ import annotations

import tomllib
from pathlib import Path

from steppe.local.routes import load_template

ROOT = Path(__file__).resolve().parents[2]
STAGES = ["dev", "staging", "prod"]


def samconfig() -> dict:
    return tomllib.loads((ROOT / "infra" / "samconfig.toml").read_text())


def test_each_stage_builds_in_source_cached_and_in_parallel():
    config = samconfig()
    for stage in STAGES:
        build = config[stage]["build"]["parameters"]
        assert build["build_in_source"] is True and build["cached"] is True
        assert build["parallel"] is True
        assert (ROOT / build["template_file"]).is_file()


def test_each_stage_deploys_its_own_stack_with_its_stage_parameter():
    config = samconfig()
    template = load_template(ROOT / "template.yaml")
    allowed = template["Parameters"]["Stage"]["AllowedValues"]
    assert sorted(allowed) == sorted(STAGES) == sorted(k for k in config if k != "version")
    names = set()
    for stage in STAGES:
        deploy = config[stage]["deploy"]["parameters"]
        overrides = dict(pair.split("=", 1) for pair in deploy["parameter_overrides"].split())
        assert overrides["Stage"] == stage
        assert set(overrides) <= set(template["Parameters"])
        assert f"stage={stage}" in deploy["tags"].split()
        names.add(deploy["stack_name"])
    assert len(names) == len(STAGES)
    # production asks before it changes anything
    assert config["prod"]["deploy"]["parameters"]["confirm_changeset"] is True


def test_every_function_table_bucket_and_queue_carries_the_stage_tag():
    template = load_template(ROOT / "template.yaml")
    function_tags = template["Globals"]["Function"]["Tags"]
    assert function_tags == {"project": "steppe", "stage": {"Ref": "Stage"}}
    tagged = {"AWS::DynamoDB::Table", "AWS::S3::Bucket", "AWS::SQS::Queue"}
    resources = template["Resources"]
    kinds = {name: r["Type"] for name, r in resources.items()}
    assert tagged <= set(kinds.values())
    for name, resource in resources.items():
        if resource["Type"] in tagged:
            tags = {t["Key"]: t["Value"] for t in resource["Properties"]["Tags"]}
            assert tags == {"project": "steppe", "stage": {"Ref": "Stage"}}, name
