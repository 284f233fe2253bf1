"""The attack-kind templates in stix_templates/ and their loader."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
import yaml

from steppe.conversion.converter import ConversionContext, Converter, Producer
from steppe.observables.report_json import parse_json
from steppe.stix import vocab
from steppe.templates.registry import (
    TemplateError,
    TemplateRegistry,
    default_directory,
    load_template,
)
from steppe.templates.template_schema import OBSERVABLE_TYPES

REPO_TEMPLATES = Path(__file__).resolve().parents[2] / "stix_templates"
KINDS = ("brute-force", "ddos", "defacement", "malware-c2", "phishing", "scanning")

# The real MITRE ids each kind must carry: technique, CAPEC (or None), tactics.
FACTS = {
    "ddos": ("T1498", "Network Denial of Service", "CAPEC-125", ["impact"]),
    "phishing": ("T1566", "Phishing", "CAPEC-98", ["initial-access"]),
    "malware-c2": ("T1071", "Application Layer Protocol", None, ["command-and-control"]),
    "scanning": ("T1595", "Active Scanning", "CAPEC-300", ["reconnaissance"]),
    "brute-force": ("T1110", "Brute Force", "CAPEC-112", ["credential-access"]),
    "defacement": ("T1491", "Defacement", None, ["impact"]),
}


@pytest.fixture
def registry() -> TemplateRegistry:
    return TemplateRegistry.load(REPO_TEMPLATES)


def broken_copy(tmp_path: Path, edit) -> Path:
    """A template directory holding ddos.yaml changed by `edit(data)`."""
    data = yaml.safe_load((REPO_TEMPLATES / "ddos.yaml").read_text())
    edit(data)
    directory = tmp_path / "templates"
    directory.mkdir(exist_ok=True)
    (directory / "ddos.yaml").write_text(yaml.safe_dump(data))
    return directory


def test_every_shipped_kind_loads(registry):
    assert registry.kinds() == KINDS
    assert registry.directory == REPO_TEMPLATES


def test_default_directory_is_the_repository_copy_in_a_source_tree(monkeypatch):
    monkeypatch.delenv("STEPPE_TEMPLATES_DIR", raising=False)
    assert default_directory().resolve() == REPO_TEMPLATES
    assert TemplateRegistry.load() is TemplateRegistry.load(REPO_TEMPLATES)


@pytest.mark.parametrize("kind", KINDS)
def test_templates_carry_the_real_mitre_ids(registry, kind):
    technique, name, capec, tactics = FACTS[kind]
    pattern = registry.get(kind).attack_pattern
    assert pattern.mitre_attack.id == technique
    assert pattern.mitre_attack.name == name
    assert pattern.mitre_attack.url == f"https://attack.mitre.org/techniques/{technique}/"
    assert (pattern.capec.id if pattern.capec else None) == capec
    assert pattern.kill_chain_phases == tactics


@pytest.mark.parametrize("kind", KINDS)
def test_victim_roles_never_make_indicators(registry, kind):
    template = registry.get(kind)
    victims = [
        name
        for name, role in template.roles.items()
        if {"victim", "target"} & {name, *role.aliases}
    ]
    assert victims, f"{kind} has no victim role"
    for name in victims:
        role = template.roles[name]
        assert role.indicator is False
        assert role.link == "related-to"


@pytest.mark.parametrize("kind", KINDS)
def test_vocabularies_and_coverage(registry, kind):
    template = registry.get(kind)
    assert set(template.observable_types) <= set(OBSERVABLE_TYPES)
    assert set(template.indicator.types) <= vocab.INDICATOR_TYPES
    assert set(template.report.types) <= vocab.REPORT_TYPES
    assert set(template.default_roles) == set(template.observable_types)
    for role in template.roles.values():
        assert set(role.types) <= set(template.observable_types)


def test_defacement_addresses_default_to_the_victim(registry):
    template = registry.get("defacement")
    assert template.default_roles["ipv4-addr"] == "defaced"
    assert template.roles["defaced"].indicator is False


def test_registry_get_unknown_kind(registry):
    with pytest.raises(KeyError, match="known kinds: brute-force, ddos"):
        registry.get("ransomware")


@pytest.mark.parametrize(
    ("edit", "field", "fragment"),
    [
        (
            lambda d: d["attack_pattern"]["mitre_attack"].update(id="1498"),
            "attack_pattern.mitre_attack.id",
            "should match pattern",
        ),
        (
            lambda d: d["attack_pattern"]["mitre_attack"].update(
                url="https://attack.mitre.org/techniques/T1499/"
            ),
            "attack_pattern.mitre_attack",
            "url must be https://attack.mitre.org/techniques/T1498/",
        ),
        (
            lambda d: d["attack_pattern"]["capec"].update(id="CAPEC-x"),
            "attack_pattern.capec.id",
            "should match pattern",
        ),
        (
            lambda d: d["attack_pattern"].update(kill_chain_phases=["exploitation"]),
            "attack_pattern.kill_chain_phases",
            "not an ATT&CK tactic",
        ),
        (
            lambda d: d["roles"]["source"].update(indicatr=True),
            "roles.source.indicatr",
            "Extra inputs are not permitted",
        ),
        (
            lambda d: d["roles"]["target"].update(indicator_types=["malicious-activity"]),
            "roles.target",
            "only apply to roles with indicator: true",
        ),
        (
            lambda d: d["roles"]["source"].update(types=["email-addr"]),
            "roles.source.types",
            "email-addr is not in observable_types",
        ),
        (
            lambda d: d["indicator"].update(types=["evil"]),
            "indicator.types",
            "not an indicator-type-ov value",
        ),
        (
            lambda d: d["indicator"].update(name="DDoS {ip}"),
            "indicator.name",
            "unknown placeholder {ip}",
        ),
        (
            lambda d: d["indicator"].update(valid_for_days=0),
            "indicator.valid_for_days",
            "greater than or equal to 1",
        ),
        (
            lambda d: d["report"].update(types=["news"]),
            "report.types",
            "not a report-type-ov value",
        ),
        (lambda d: d["report"].update(confidence=101), "report.confidence", "less than or equal"),
        (
            lambda d: d["default_roles"].pop("url"),
            "default_roles",
            "must name one role for each of observable_types (url)",
        ),
        (
            lambda d: d["default_roles"].update(url="source"),
            "default_roles.url",
            "role 'source' does not take it",
        ),
        (
            lambda d: d["roles"]["source"].update(aliases=["target"]),
            "roles.source.aliases",
            "'target' already names a role",
        ),
        (lambda d: d.pop("label"), "label", "Field required"),
        (lambda d: d.update(kind="dos"), "kind", "must match the file name"),
    ],
)
def test_a_broken_template_fails_with_file_and_field(tmp_path, edit, field, fragment):
    directory = broken_copy(tmp_path, edit)
    with pytest.raises(TemplateError) as caught:
        TemplateRegistry.load(directory)
    message = str(caught.value)
    assert message.startswith(f"{directory.resolve() / 'ddos.yaml'}: {field}: ")
    assert fragment in message


def test_invalid_yaml_and_empty_directories(tmp_path):
    (tmp_path / "bad.yaml").write_text("kind: [unclosed\n")
    with pytest.raises(TemplateError, match=r"bad\.yaml: is not valid YAML"):
        load_template(tmp_path / "bad.yaml")
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(TemplateError, match="no template files"):
        TemplateRegistry.load(empty)
    with pytest.raises(TemplateError, match="template directory not found"):
        TemplateRegistry.load(tmp_path / "missing")


def test_environment_variable_points_at_the_templates(tmp_path, monkeypatch):
    directory = broken_copy(tmp_path, lambda d: d["report"].update(confidence=-5))
    monkeypatch.setenv("STEPPE_TEMPLATES_DIR", str(directory))
    with pytest.raises(TemplateError, match=r"ddos.yaml: report.confidence: "):
        TemplateRegistry.load()


def test_adding_a_kind_is_adding_a_file(tmp_path, monkeypatch):
    def syn_flood(data):
        data["kind"] = "syn-flood"
        data["label"] = "SYN flood"
        data["attack_pattern"]["mitre_attack"] = {
            "id": "T1498.001",
            "name": "Direct Network Flood",
            "url": "https://attack.mitre.org/techniques/T1498/001/",
        }

    directory = broken_copy(tmp_path, syn_flood)
    (directory / "ddos.yaml").rename(directory / "syn-flood.yaml")
    monkeypatch.setenv("STEPPE_TEMPLATES_DIR", str(directory))
    registry = TemplateRegistry.load()
    assert registry.kinds() == ("syn-flood",)
    assert registry is TemplateRegistry.load(directory)  # loaded once per directory

    body = orjson.dumps(
        {
            "attack": {"kind": "syn-flood"},
            "observables": [{"type": "ipv4-addr", "value": "198.51.100.7"}],
        }
    )
    request = parse_json(body)
    ctx = ConversionContext(
        "sub-1",
        Producer("identity--0b0d8c5f-2f5a-4b83-9d38-1ad8cbe3bb4a", "CERT"),
        0,
        1,
        id_secret=bytes(32),
    )
    converter = Converter(registry)
    header = converter.header_objects(request.report, ctx)
    chunk = converter.chunk_objects(request.report, request.observables, 1, ctx)
    attack_pattern = next(o for o in header if o["type"] == "attack-pattern")
    assert attack_pattern["external_references"][0]["external_id"] == "T1498.001"
    indicator = next(o for o in chunk if o["type"] == "indicator")
    assert indicator["name"] == "DDoS source 198.51.100.7"
    assert indicator["pattern"] == "[ipv4-addr:value = '198.51.100.7']"
