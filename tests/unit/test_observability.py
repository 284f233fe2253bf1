"""What an operator watches steppe with (template.yaml): access logs, alarms, a dashboard."""

from __future__ import annotations

import json
from pathlib import Path

from steppe.local.routes import load_template

ROOT = Path(__file__).resolve().parents[2]
FUNCTIONS = {"AuthorizerFunction", "ApiFunction", "TaxiiFunction", "WorkerFunction"}


def resources() -> dict:
    return load_template(ROOT / "template.yaml")["Resources"]


def alarm_metrics(alarm: dict) -> set[tuple[str, str]]:
    """(namespace, metric name) of everything the alarm watches."""
    props = alarm["Properties"]
    if "MetricName" in props:
        return {(props["Namespace"], props["MetricName"])}
    return {
        (m["MetricStat"]["Metric"]["Namespace"], m["MetricStat"]["Metric"]["MetricName"])
        for m in props["Metrics"]
        if "MetricStat" in m
    }


def watched_functions(alarm: dict) -> set[str]:
    return {
        m["MetricStat"]["Metric"]["Dimensions"][0]["Value"]["Ref"]
        for m in alarm["Properties"].get("Metrics", [])
        if "MetricStat" in m and m["MetricStat"]["Metric"]["Namespace"] == "AWS/Lambda"
    }


def test_every_api_request_is_logged_with_the_partner_that_made_it():
    api = resources()["SteppeApi"]["Properties"]
    setting = api["AccessLogSetting"]
    assert setting["DestinationArn"] == {"Fn::GetAtt": ["ApiAccessLogGroup", "Arn"]}
    fields = json.loads(setting["Format"])
    assert fields["partner"] == "$context.authorizer.principalId"
    assert {"request_id", "ip", "method", "path", "status", "latency_ms"} <= set(fields)
    assert resources()["ApiGatewayAccount"]["Type"] == "AWS::ApiGateway::Account"


def test_alarms_cover_errors_throttles_5xx_latency_queue_age_and_table_throttles():
    alarms = {name: r for name, r in resources().items() if r["Type"] == "AWS::CloudWatch::Alarm"}
    watched = {metric for alarm in alarms.values() for metric in alarm_metrics(alarm)}
    assert {
        ("AWS/Lambda", "Errors"),
        ("AWS/Lambda", "Throttles"),
        ("AWS/ApiGateway", "5XXError"),
        ("AWS/ApiGateway", "Latency"),
        ("AWS/SQS", "ApproximateAgeOfOldestMessage"),
        ("AWS/SQS", "ApproximateNumberOfMessagesVisible"),  # the dead-letter queue
        ("AWS/DynamoDB", "ReadThrottleEvents"),
        ("AWS/DynamoDB", "WriteThrottleEvents"),
    } <= watched
    for metric in ("Errors", "Throttles"):
        [alarm] = [a for a in alarms.values() if ("AWS/Lambda", metric) in alarm_metrics(a)]
        assert watched_functions(alarm) == FUNCTIONS
    for name, alarm in alarms.items():
        actions = alarm["Properties"]["AlarmActions"]
        assert actions["Fn::If"][1] == [{"Ref": "AlarmTopic"}], name
        assert alarm["Properties"]["AlarmDescription"].strip(), name


def test_the_dashboard_shows_every_function_the_queue_and_the_table():
    body = resources()["Dashboard"]["Properties"]["DashboardBody"]["Fn::Sub"]
    text, variables = body
    for function in FUNCTIONS:
        assert "${" + function + "}" in text
    assert {"Queue", "DeadLetters", "Table", "ApiName"} <= set(variables)
    rendered = text
    for name in ("AWS::Region", *FUNCTIONS, "Queue", "DeadLetters", "Table", "ApiName"):
        rendered = rendered.replace("${" + name + "}", "x")
    widgets = json.loads(rendered)["widgets"]
    assert len(widgets) >= 6
