"""TAXII content negotiation: which Accept and Content-Type headers are served (1.6.8, 3.1)."""

import pytest

from steppe.errors import UnsupportedMediaType
from steppe.taxii.error_resources import NotAcceptable, error_headers, error_resource
from steppe.taxii.media import TAXII_21, check_accept, check_content_type


@pytest.mark.parametrize(
    "accept",
    [
        None,
        "",
        "application/taxii+json;version=2.1",
        "application/taxii+json; version=2.1",
        'application/taxii+json;version="2.1"',
        "application/taxii+json",
        "APPLICATION/TAXII+JSON;VERSION=2.1",
        "*/*",
        "application/*",
        "application/stix+json;version=2.1, application/taxii+json;version=2.1",
        "application/taxii+json;version=2.0, application/taxii+json;version=2.1;q=0.5",
        "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
    ],
)
def test_accepts_taxii_21_without_a_version_and_wildcards(accept):
    check_accept(accept)


@pytest.mark.parametrize(
    ("accept", "said"),
    [
        ("application/taxii+json;version=2.0", "version 2.0 only"),
        ("application/taxii+json;version=2.0,application/taxii+json;version=3.0", "2.0, 3.0"),
        ("application/json", "accepts no TAXII media type"),
        ("application/stix+json;version=2.1", "accepts no TAXII media type"),
        ("application/taxii+json;version=2.1;q=0", "accepts no TAXII media type"),
        ("text/html", "accepts no TAXII media type"),
    ],
)
def test_refuses_other_versions_and_types_with_406(accept, said):
    with pytest.raises(NotAcceptable) as refused:
        check_accept(accept)
    assert refused.value.status == 406
    assert said in refused.value.message
    assert TAXII_21 in refused.value.message
    assert refused.value.where == "header Accept"


@pytest.mark.parametrize(
    "content_type",
    [
        "application/taxii+json;version=2.1",
        "application/taxii+json",
        "application/taxii+json; charset=utf-8; version=2.1",
        "Application/TAXII+json;version=2.1",
    ],
)
def test_accepts_taxii_bodies_with_or_without_version(content_type):
    check_content_type(content_type)


@pytest.mark.parametrize(
    "content_type",
    [
        None,
        "",
        "application/json",
        "application/stix+json;version=2.1",
        "application/taxii+json;version=2.0",
        "text/plain",
    ],
)
def test_refuses_other_bodies_with_415(content_type):
    with pytest.raises(UnsupportedMediaType) as refused:
        check_content_type(content_type)
    assert refused.value.status == 415
    assert refused.value.where == "header Content-Type"
    assert TAXII_21 in refused.value.message


def test_error_resources_carry_title_status_and_where():
    error = NotAcceptable("it asks for TAXII 2.0 only", where="header Accept")
    resource = error_resource(error, "req-1")
    assert resource == {
        "title": "Not acceptable",
        "description": "it asks for TAXII 2.0 only",
        "http_status": "406",
        "error_id": "req-1",
        "details": {"where": "header Accept"},
    }
    assert error_headers(error) == {}


def test_401_errors_challenge_basic_and_say_how_to_authenticate():
    from steppe.errors import Unauthenticated

    error = Unauthenticated("no credentials were sent", where="header Authorization")
    assert error_headers(error)["WWW-Authenticate"].startswith('Basic realm="steppe"')
    description = error_resource(error)["description"]
    assert "Basic" in description and "Bearer" in description and "Token" in description
