"""Credentials: header parsing and the caller context the authorizer hands over."""

import base64
import uuid

import pytest

from contract.adapters import aws_store, sqlite_store
from steppe.access.auth import parse_authorization
from steppe.access.caller import Caller
from steppe.access.credentials import KEY_PREFIX, generate_key, hash_key
from steppe.access.partners import add_partner, name_problem
from steppe.errors import Forbidden, Unauthenticated
from steppe.store.port import Partner, Submission, legacy_partner_id


def basic(user: str, key: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{key}".encode()).decode()


def test_keys_are_random_and_hashed_one_way():
    first, second = generate_key(), generate_key()
    assert first != second and first.startswith(KEY_PREFIX) and len(first) > 40
    assert hash_key(first) == hash_key(first)
    assert hash_key(first) != hash_key(second)
    assert first not in hash_key(first)


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (basic("cert-kg", "stp_abc"), ("cert-kg", "stp_abc")),
        ("Bearer stp_abc", (None, "stp_abc")),
        ("Token stp_abc", (None, "stp_abc")),
        ("bearer   stp_abc  ", (None, "stp_abc")),
        (basic("a", "k:with:colons"), ("a", "k:with:colons")),
    ],
)
def test_accepted_authorization_forms(header, expected):
    assert parse_authorization(header) == expected


@pytest.mark.parametrize(
    ("header", "says"),
    [
        (None, "no credentials"),
        ("", "no credentials"),
        ("Digest abc", "scheme 'Digest'"),
        ("Basic not-base64!!", "not valid base64"),
        ("Basic " + base64.b64encode(b"no-colon").decode(), "'partner:key'"),
        ("Bearer", "empty"),
    ],
)
def test_refused_authorization_forms_say_why(header, says):
    with pytest.raises(ValueError, match=says):
        parse_authorization(header)


def test_caller_survives_the_trip_through_api_gateway_context():
    caller = Caller(
        "cert-kg",
        "partner",
        1,
        frozenset({"c1", "c2"}),
        frozenset({"c2"}),
        "identity--x",
        partner_id="6f1c2d3e-4a5b-4c6d-8e7f-9a0b1c2d3e4f",
    )
    context = caller.to_context()
    assert all(isinstance(value, str) for value in context.values())
    assert context["partner_id"] == caller.partner_id
    assert Caller.from_context({**context, "principalId": "cert-kg"}) == caller


def test_ownership_is_by_stable_id_not_by_name():
    owner_id = "6f1c2d3e-4a5b-4c6d-8e7f-9a0b1c2d3e4f"
    owner = Caller("ana", "analyst", 4, frozenset(), frozenset(), None, partner_id=owner_id)
    same_name = Caller("ana", "analyst", 4, frozenset(), frozenset(), None, partner_id="other")
    console = Caller("ana", "admin", 4, frozenset(), frozenset(), None)
    assert owner.owns(owner_id)
    assert not same_name.owns(owner_id) and not same_name.owns("ana")
    assert not console.owns(None) and not console.owns("")


def test_partner_names_are_sane_and_never_reserved_words():
    for good in ("cert-kg", "a", "soc@cert.ee", "x_1.2", "N" * 64):
        assert name_problem(good) is None, good
    for bad in ("None", "null", "NULL", "true", "", "-x", ".", "a b", "a:b", "n" * 65, 5):
        assert name_problem(bad) is not None, bad


def test_anonymous_caller_keeps_the_reason_and_is_refused():
    caller = Caller.from_context(Caller.anonymous("the key is not valid").to_context())
    assert not caller.authenticated
    with pytest.raises(Unauthenticated, match="the key is not valid"):
        caller.require_authenticated()


def test_roles_and_collection_rights():
    partner = Caller("p", "partner", 1, frozenset({"c1"}), frozenset(), None)
    with pytest.raises(Forbidden, match="analyst"):
        partner.require_role("admin", "analyst")
    assert partner.may_read("c1") and not partner.may_read("c2") and not partner.may_write("c1")
    admin = Caller("a", "admin", 4, frozenset(), frozenset(), None)
    assert admin.may_write("anything") and admin.may_read("anything")


def _forget_ids(store) -> None:
    """Make the records look as they did before partners had ids."""
    if hasattr(store, "_db"):
        with store._db.write() as conn:
            conn.execute("UPDATE partners SET id = NULL")
            conn.execute("UPDATE submissions SET submitter_id = NULL")
        return
    from steppe.store.aws import table_keys as keys

    table = store._table
    for partner in store.list_partners():
        table.client.update_item(
            TableName=table.name,
            Key={"pk": {"S": keys.PARTNERS}, "sk": {"S": partner.name}},
            UpdateExpression="REMOVE id",
        )
    for submission in store.list_submissions():
        table.client.update_item(
            TableName=table.name,
            Key={"pk": {"S": keys.submission(submission.id)}, "sk": {"S": keys.SUBMISSION_SK}},
            UpdateExpression="REMOVE submitter_id",
        )


@pytest.mark.parametrize("opener", [sqlite_store, aws_store], ids=["sqlite", "aws"])
def test_records_stored_before_partners_had_ids_still_load(opener, tmp_path):
    with opener(tmp_path) as store:
        store.put_partner(Partner(name="ana", role="analyst", id=str(uuid.uuid4())))
        store.create_submission(
            Submission(
                id="s1",
                collection_id="c",
                submitter="ana",
                created=1,
                chunks_total=1,
                observables=1,
                submitter_id="x",
            )
        )
        _forget_ids(store)
        legacy = store.get_partner("ana")
        assert legacy.id == legacy_partner_id("ana")
        assert store.get_submission("s1").submitter_id == legacy.id  # still its own
        # a partner created under that name from now on has a UUIDv4: not the owner
        store.delete_partner("ana")
        recreated = add_partner(store, "ana", "analyst", org_name="steppe").partner
        assert uuid.UUID(recreated.id).version == 4 and recreated.id != legacy.id
