"""Decay scoring (steppe.scoring): the curve, scores, expiry, sighting feedback, template curves."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from steppe.conversion.converter import ConversionContext, Converter, Producer
from steppe.errors import InvalidInput
from steppe.observables.correlation_keys import pattern_keys
from steppe.observables.report_json import parse_json
from steppe.scoring.decay_curve import DEFAULT_CURVE, MICROSECONDS_PER_DAY, DecayCurve
from steppe.scoring.decay_score import (
    DEFAULT_CONFIDENCE,
    base_score,
    expires_at,
    is_expired,
    score_at,
    scores_at,
)
from steppe.scoring.sighting_feedback import ScoreState, penalty, refresh
from steppe.scoring.template_curves import curve_for
from steppe.stix.score_extension import read_score
from steppe.templates.registry import TemplateError, TemplateRegistry, load_template
from steppe.templates.template_schema import Template

REPO_TEMPLATES = Path(__file__).resolve().parents[2] / "stix_templates"
DAY = MICROSECONDS_PER_DAY
SEEN = 1_767_225_600_000_000  # 2026-01-01T00:00:00Z

curves = st.builds(
    DecayCurve,
    lifetime_days=st.floats(min_value=0.01, max_value=3650),
    decay_speed=st.floats(min_value=0.05, max_value=20),
    threshold=st.integers(min_value=0, max_value=99),
)
bases = st.integers(min_value=0, max_value=100)
elapsed = st.integers(min_value=-DAY, max_value=4000 * DAY)


# --- exact values, computed by hand -------------------------------------------------------


def test_a_straight_line_halves_at_half_the_lifetime():
    line = DecayCurve(lifetime_days=30, decay_speed=1, threshold=20)
    assert score_at(80, SEEN, SEEN, line) == 80
    assert score_at(80, SEEN, SEEN + 15 * DAY, line) == 40  # 80 * (1 - 0.5)
    assert score_at(80, SEEN, SEEN + 30 * DAY, line) == 0
    assert score_at(80, SEEN, SEEN + 400 * DAY, line) == 0
    assert score_at(80, SEEN, SEEN - DAY, line) == 80  # a clock ahead of ours: the base


def test_speed_bends_the_curve():
    fast = DecayCurve(lifetime_days=30, decay_speed=2, threshold=20)
    slow = DecayCurve(lifetime_days=30, decay_speed=0.5, threshold=20)
    # 80 * (1 - 0.5 ** 0.5) = 23.43...; 80 * (1 - 0.5 ** 2) = 60
    assert score_at(80, SEEN, SEEN + 15 * DAY, fast) == 23
    assert score_at(80, SEEN, SEEN + 15 * DAY, slow) == 60


def test_expiry_on_a_straight_line_is_exact_to_the_microsecond():
    line = DecayCurve(lifetime_days=30, decay_speed=1, threshold=20)
    # 80 * (1 - t / 30 days) < 20  <=>  t > 22.5 days
    boundary = SEEN + 22 * DAY + DAY // 2
    assert score_at(80, SEEN, boundary, line) == 20
    assert score_at(80, SEEN, boundary + 1, line) == 19
    assert expires_at(80, SEEN, line) == boundary + 1
    assert not is_expired(80, SEEN, boundary, line)
    assert is_expired(80, SEEN, boundary + 1, line)


def test_born_expired_and_threshold_zero():
    line = DecayCurve(lifetime_days=30, decay_speed=1, threshold=20)
    assert expires_at(19, SEEN, line) == SEEN
    assert is_expired(19, SEEN, SEEN, line)
    assert expires_at(20, SEEN, line) == SEEN + 1  # 20 at once, 19 a microsecond later
    never_below = DecayCurve(lifetime_days=30, decay_speed=1, threshold=0)
    assert expires_at(80, SEEN, never_below) == SEEN + 30 * DAY
    assert expires_at(0, SEEN, never_below) == SEEN + 30 * DAY
    assert not is_expired(80, SEEN, SEEN + 30 * DAY - 1, never_below)


def test_base_score_is_the_confidence_else_the_default():
    assert base_score(85) == 85
    assert base_score(None) == DEFAULT_CONFIDENCE == 50
    assert base_score(None, default=60) == 60
    assert base_score(0, default=60) == 0
    for bad in (101, -1, True, 50.0, "50"):
        with pytest.raises(InvalidInput, match="confidence must be an integer from 0 to 100"):
            base_score(bad)  # type: ignore[arg-type]


def test_sighting_rules_by_hand():
    state = ScoreState(base=60, last_seen_us=SEEN)
    assert refresh(state, SEEN + DAY) == ScoreState(70, SEEN + DAY)
    assert refresh(state, SEEN - DAY) == ScoreState(70, SEEN)  # an older sighting: last seen stays
    assert refresh(ScoreState(95, SEEN), SEEN, bump=10) == ScoreState(100, SEEN)
    assert penalty(state) == ScoreState(35, SEEN)
    assert penalty(ScoreState(10, SEEN)) == ScoreState(0, SEEN)
    assert penalty(state, points=0) == state


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"lifetime_days": 0, "decay_speed": 1, "threshold": 20}, "lifetime_days must be above 0"),
        ({"lifetime_days": -3, "decay_speed": 1, "threshold": 20}, "lifetime_days must be above"),
        ({"lifetime_days": 30, "decay_speed": 0, "threshold": 20}, "decay_speed must be above 0"),
        ({"lifetime_days": 30, "decay_speed": 1, "threshold": 100}, "threshold must be from 0"),
        ({"lifetime_days": 30, "decay_speed": 1, "threshold": -1}, "threshold must be from 0"),
        ({"lifetime_days": 30, "decay_speed": 1, "threshold": 2.5}, "threshold must be an integ"),
        ({"lifetime_days": float("nan"), "decay_speed": 1, "threshold": 20}, "finite number"),
        ({"lifetime_days": 30, "decay_speed": float("inf"), "threshold": 20}, "finite number"),
        ({"lifetime_days": "30", "decay_speed": 1, "threshold": 20}, "finite number"),
    ],
)
def test_a_curve_is_validated(kwargs, message):
    with pytest.raises(InvalidInput, match=message) as caught:
        DecayCurve(**kwargs)
    assert caught.value.where in kwargs


def test_bad_scores_and_batches_are_refused():
    line = DecayCurve(lifetime_days=30, decay_speed=1, threshold=20)
    with pytest.raises(InvalidInput, match="base must be an integer from 0 to 100, not 101"):
        score_at(101, SEEN, SEEN, line)
    with pytest.raises(InvalidInput, match="bases must be an integer from 0 to 100, not -1"):
        scores_at([50, -1], [SEEN, SEEN], SEEN, line)
    with pytest.raises(InvalidInput, match="2 bases but 1 last-seen times"):
        scores_at([50, 60], [SEEN], SEEN, line)
    with pytest.raises(InvalidInput, match="base must be from 0 to 100"):
        ScoreState(120, SEEN)
    with pytest.raises(InvalidInput, match="points must be an integer from 0 to 100"):
        penalty(ScoreState(50, SEEN), points=-5)
    assert scores_at([], [], SEEN, line) == []


# --- properties ---------------------------------------------------------------------------


@settings(max_examples=60)
@given(curve=curves, base=bases, first=elapsed, second=elapsed)
def test_scores_stay_in_bounds_and_never_rise(curve, base, first, second):
    earlier, later = sorted((first, second))
    early = score_at(base, SEEN, SEEN + earlier, curve)
    late = score_at(base, SEEN, SEEN + later, curve)
    assert 0 <= late <= early <= base
    assert score_at(base, SEEN, SEEN, curve) == base
    assert score_at(base, SEEN, SEEN + curve.lifetime_us, curve) == 0


@settings(max_examples=60)
@given(curve=curves, base=bases)
def test_expiry_is_where_the_threshold_is_crossed(curve, base):
    moment = expires_at(base, SEEN, curve)
    assert SEEN <= moment <= SEEN + curve.lifetime_us
    assert is_expired(base, SEEN, moment, curve)
    assert is_expired(base, SEEN, moment + DAY, curve)
    if moment > SEEN:
        assert not is_expired(base, SEEN, moment - 1, curve)
        assert score_at(base, SEEN, moment - 1, curve) >= curve.threshold
    if moment < SEEN + curve.lifetime_us:
        assert score_at(base, SEEN, moment, curve) < curve.threshold


@settings(max_examples=40)
@given(
    curve=curves,
    items=st.lists(st.tuples(bases, elapsed), max_size=30),
    now=st.integers(min_value=0, max_value=4000 * DAY),
)
def test_the_batch_agrees_with_one_at_a_time(curve, items, now):
    batch_bases = [base for base, _ in items]
    seen = [SEEN + offset for _, offset in items]
    expected = [score_at(b, s, SEEN + now, curve) for b, s in zip(batch_bases, seen, strict=True)]
    assert scores_at(batch_bases, seen, SEEN + now, curve) == expected


@settings(max_examples=60)
@given(
    curve=curves,
    base=bases,
    sighted=elapsed,
    now=elapsed,
    bump=st.integers(min_value=0, max_value=100),
)
def test_a_true_positive_never_lowers_a_score(curve, base, sighted, now, bump):
    before = ScoreState(base, SEEN)
    after = refresh(before, SEEN + sighted, bump=bump)
    assert score_at(after.base, after.last_seen_us, SEEN + now, curve) >= score_at(
        before.base, before.last_seen_us, SEEN + now, curve
    )
    assert expires_at(after.base, after.last_seen_us, curve) >= expires_at(base, SEEN, curve)


@settings(max_examples=60)
@given(curve=curves, base=bases, now=elapsed, points=st.integers(min_value=0, max_value=100))
def test_a_false_positive_never_raises_a_score(curve, base, now, points):
    before = ScoreState(base, SEEN)
    after = penalty(before, points=points)
    assert score_at(after.base, after.last_seen_us, SEEN + now, curve) <= score_at(
        base, SEEN, SEEN + now, curve
    )
    assert expires_at(after.base, after.last_seen_us, curve) <= expires_at(base, SEEN, curve)


# --- templates ----------------------------------------------------------------------------


@pytest.fixture
def registry() -> TemplateRegistry:
    return TemplateRegistry.load(REPO_TEMPLATES)


def test_shipped_templates_declare_curves_by_type(registry):
    ddos = registry.get("ddos")
    assert curve_for(ddos, "ipv4-addr") == DecayCurve(21, 1.5, 20)
    assert curve_for(ddos, "domain-name") == DecayCurve(60, 1.0, 20)  # the default
    malware = registry.get("malware-c2")
    assert curve_for(malware, "file").lifetime_days == 365
    assert (
        curve_for(malware, "ipv4-addr").lifetime_days
        < curve_for(malware, "domain-name").lifetime_days
    )
    phishing = registry.get("phishing")
    assert curve_for(phishing, "url").lifetime_days <= 14
    assert curve_for(ddos, "file").lifetime_days == 365  # the bot's samples (issue 12)
    # a type the template does not take falls back to its default curve
    assert curve_for(ddos, "email-addr") == curve_for(ddos, "url")
    with pytest.raises(InvalidInput, match="'ipv5-addr' is not an observable type"):
        curve_for(ddos, "ipv5-addr")


def test_a_template_without_decay_gets_the_default_curve(tmp_path):
    data = yaml.safe_load((REPO_TEMPLATES / "ddos.yaml").read_text())
    del data["decay"]
    (tmp_path / "ddos.yaml").write_text(yaml.safe_dump(data))
    assert curve_for(load_template(tmp_path / "ddos.yaml"), "ipv4-addr") == DEFAULT_CURVE


def _ddos_with(tmp_path: Path, decay: object) -> Path:
    data = yaml.safe_load((REPO_TEMPLATES / "ddos.yaml").read_text())
    data["decay"] = decay
    path = tmp_path / "ddos.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


CURVE = {"lifetime_days": 30, "decay_speed": 1.0, "threshold": 20}


@pytest.mark.parametrize(
    ("decay", "fragment"),
    [
        (
            {"default": CURVE, "types": {"ipv5-addr": CURVE}},
            "decay.types: 'ipv5-addr' is not an observable type; use one of: ipv4-addr",
        ),
        (
            {"default": CURVE, "types": {"email-addr": CURVE}},
            "decay.types.email-addr: email-addr is not in observable_types",
        ),
        ({"default": {**CURVE, "lifetime_days": 0}}, "decay.default.lifetime_days: "),
        ({"default": {**CURVE, "decay_speed": -1}}, "decay.default.decay_speed: "),
        ({"default": {**CURVE, "threshold": 100}}, "decay.default.threshold: "),
        ({"default": {**CURVE, "threshold": "20"}}, "decay.default.threshold: "),
        ({"default": {**CURVE, "threshold": True}}, "decay.default.threshold: "),
        (
            {"default": CURVE, "types": {"ipv4-addr": {**CURVE, "speed": 2}}},
            "decay.types.ipv4-addr.speed: ",
        ),
        ({"types": {"ipv4-addr": CURVE}}, "decay.default: "),
    ],
)
def test_a_broken_decay_section_names_the_file_and_field(tmp_path, decay, fragment):
    path = _ddos_with(tmp_path, decay)
    with pytest.raises(TemplateError) as caught:
        load_template(path)
    assert str(caught.value).startswith(f"{path}: ")
    assert fragment in str(caught.value)


def _objects(directory: Path, kind: str) -> list[dict]:
    registry = TemplateRegistry.load(directory)
    body = orjson.dumps(
        {
            "attack": {"kind": kind},
            "observables": [
                {"type": "ipv4-addr", "value": "198.51.100.7"},
                {"type": "url", "value": "http://example.com/a?b=c"},
            ],
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
    return header + converter.chunk_objects(request.report, request.observables, 1, ctx)


@pytest.mark.parametrize("kind", ["ddos", "malware-c2", "phishing", "scanning"])
def test_the_decay_section_changes_only_the_indicators_curve(tmp_path, kind):
    without = tmp_path / "without"
    without.mkdir()
    data = yaml.safe_load((REPO_TEMPLATES / f"{kind}.yaml").read_text())
    assert "decay" in data
    del data["decay"]
    (without / f"{kind}.yaml").write_text(yaml.safe_dump(data))
    shipped = tmp_path / "shipped"
    shipped.mkdir()
    (shipped / f"{kind}.yaml").write_text((REPO_TEMPLATES / f"{kind}.yaml").read_text())
    objects = _objects(shipped, kind)
    plain = _objects(without, kind)
    template = Template.model_validate(yaml.safe_load((shipped / f"{kind}.yaml").read_text()))
    indicators = [o for o in objects if o["type"] == "indicator"]
    assert indicators
    for indicator in indicators:
        fields = read_score(indicator)
        assert fields is not None and fields.kind == kind
        [observed_type] = {k.split(":")[0] for k in pattern_keys(indicator["pattern"])}
        curve = curve_for(template, observed_type)
        assert (fields.lifetime_days, fields.decay_speed, fields.threshold) == (
            curve.lifetime_days,
            curve.decay_speed,
            curve.threshold,
        )

    def without_curve(objs):
        out = []
        for o in objs:
            o = dict(o)
            if o["type"] == "indicator":
                o["extensions"] = {k: {**v, "decay": None} for k, v in o["extensions"].items()}
            out.append(o)
        return out

    assert without_curve(objects) == without_curve(plain)
    for indicator in (o for o in plain if o["type"] == "indicator"):
        fields = read_score(indicator)
        assert (fields.lifetime_days, fields.decay_speed, fields.threshold) == (
            DEFAULT_CURVE.lifetime_days,
            DEFAULT_CURVE.decay_speed,
            DEFAULT_CURVE.threshold,
        )
