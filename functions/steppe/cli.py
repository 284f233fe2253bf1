"""The `steppe` command.

    steppe serve                      the embedded service (what `make run` runs)
    steppe submit FILE                post a JSON report or a CSV of observables
    steppe reprocess ID               run an archived submission again
    steppe partner add|list|show|rotate|revoke|set|delete
    steppe collection add|set|list
    steppe feed add|list|show|rotate|remove   feeds for firewalls, sensors and MISP
    steppe push add|list|show|rotate|remove   push destinations (Sentinel, webhooks)
    steppe audit                      the TAXII requests partners made
    steppe revoke indicator|submission ID --reason TEXT
    steppe false-positive add VALUE --reason TEXT | list | remove VALUE
    steppe lookup VALUE...            have we seen these values? (campaigns, indicators, when)
    steppe campaign list|show ID      the campaigns steppe knows, and what links them
    steppe bootstrap                  create the API root, default collection and admin key

Administrative commands talk to the store named by the environment (the
embedded data dir by default, or AWS with STEPPE_BACKEND=aws); `submit` talks
HTTP to a running server (STEPPE_URL, default http://127.0.0.1:8000) with the
key in STEPPE_KEY (default: the admin key file of the data dir).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

from steppe.config import Settings
from steppe.errors import SteppeError

if TYPE_CHECKING:
    from steppe.access.administration import Administration
    from steppe.store.port import Collection

DEFAULT_URL = "http://127.0.0.1:8000"


def _settings() -> Settings:
    return Settings.from_env()


def _open_services() -> Any:
    from steppe.runtime import services

    return services()


# -- serve ------------------------------------------------------------------------


def cmd_serve(args: argparse.Namespace) -> int:
    from steppe.access.bootstrap import ensure_bootstrapped
    from steppe.local.server import serve

    os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "true")
    os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", os.environ.get("STEPPE_LOG_LEVEL", "WARNING"))
    # The GIL hand-over: a thread coming back from SQLite (or any I/O) waits up
    # to this long for a computing thread to yield; 5 ms by default, which the
    # worker that holds the write lock pays after every statement.
    sys.setswitchinterval(float(os.environ.get("STEPPE_SWITCH_INTERVAL", "0.0005")))
    settings = _settings()
    if settings.backend != "sqlite":
        print("steppe serve runs the embedded shape; unset STEPPE_BACKEND", file=sys.stderr)
        return 2
    result = ensure_bootstrapped(_open_services().store, settings)
    print(f"data:  {settings.data_dir}")
    print(f"default collection: {result.default_collection.title} ({result.default_collection.id})")
    if result.admin_key:
        print(f"admin key (shown once): {result.admin_key}")
        if result.admin_key_file:
            print(f"           also written to {result.admin_key_file} (mode 0600)")
    host = args.host or os.environ.get("STEPPE_HOST", "127.0.0.1")
    port = int(args.port or os.environ.get("STEPPE_PORT", "8000"))
    serve(settings, host, port)
    return 0


# -- submit -----------------------------------------------------------------------


def _default_key(settings: Settings) -> str | None:
    key = os.environ.get("STEPPE_KEY")
    if key:
        return key
    key_file = settings.data_dir / "admin.key"
    if key_file.exists():
        return key_file.read_text(encoding="utf-8").strip()
    return os.environ.get("STEPPE_ADMIN_KEY")


def _request(
    method: str,
    url: str,
    key: str,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
) -> tuple[int, dict[str, Any]]:
    request = urllib.request.Request(url, data=body, method=method)
    request.add_header("Authorization", f"Bearer {key}")
    request.add_header("Accept", "application/json")
    for name, value in (headers or {}).items():
        request.add_header(name, value)
    try:
        with urllib.request.urlopen(request, timeout=600) as response:
            return response.status, json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as error:
        payload = error.read()
        try:
            return error.code, json.loads(payload)
        except ValueError:
            return error.code, {"description": payload.decode("utf-8", "replace")}


def _progress(done: int, total: int, observables: int) -> None:
    width = 30
    filled = width * done // max(total, 1)
    bar = "#" * filled + "." * (width - filled)
    print(f"\r[{bar}] {done}/{total} chunks ({observables:,} observables)", end="", flush=True)


def cmd_submit(args: argparse.Namespace) -> int:
    settings = _settings()
    url = (args.url or os.environ.get("STEPPE_URL") or DEFAULT_URL).rstrip("/")
    key = args.key or _default_key(settings)
    if not key:
        print("no key: pass --key or set STEPPE_KEY", file=sys.stderr)
        return 2
    path = Path(args.file)
    body = path.read_bytes()
    is_csv = args.csv or path.suffix.lower() == ".csv"
    content_type = "text/csv" if is_csv else "application/json"
    params = dict(pair.split("=", 1) for pair in args.param or [])
    query = ("?" + urllib.parse.urlencode(params)) if params else ""
    headers = {
        "Content-Type": content_type,
        "Idempotency-Key": args.idempotency_key or str(uuid.uuid4()),
    }
    status, resource = _request("POST", f"{url}/api/v1/observations{query}", key, body, headers)
    if status not in (201, 202):
        print(f"refused ({status}): {resource.get('description', resource)}", file=sys.stderr)
        if resource.get("where"):
            print(f"  at: {resource['where']}", file=sys.stderr)
        for error in resource.get("errors", [])[:20]:
            print(f"  - {error.get('where')}: {error.get('message')}", file=sys.stderr)
        return 1
    if status == 202 and not args.no_wait:
        total = resource["chunks"]["total"]
        while resource["status"] == "pending":
            _progress(resource["chunks"]["done"], total, resource["observables"])
            time.sleep(0.5)
            status, resource = _request("GET", f"{url}{resource['links']['self']}", key)
        _progress(resource["chunks"]["done"], total, resource["observables"])
        print()
    counts = resource["counts"]
    print(
        f"submission {resource['id']}: {resource['status']}; {resource['observables']:,} "
        f"observables -> {counts['objects']:,} objects ({counts['created']:,} created, "
        f"{counts['updated']:,} updated, {counts['unchanged']:,} unchanged)"
    )
    print(f"bundle: {url}{resource['links']['bundle']}")
    return 0 if resource["status"] in ("complete", "pending") else 1


# -- reprocess ----------------------------------------------------------------------


def cmd_reprocess(args: argparse.Namespace) -> int:
    from steppe.runtime import ingest_service

    service = ingest_service(_open_services())
    accepted = service.reprocess(args.submission_id)
    progress = service.describe(service.submission(accepted.submission_id))
    print(f"submission {accepted.submission_id}: {progress.status}")
    if accepted.queued:
        print("its chunks are queued; the running server's worker processes them")
    return 0


# -- partners and collections -------------------------------------------------------


def _partner_line(partner: Any) -> str:
    from steppe.stix import tlp

    return (
        f"{partner.name}  id={partner.id}  role={partner.role}  "
        f"tlp={tlp.BY_RANK[partner.tlp_clearance].name}  "
        f"read={','.join(sorted(partner.can_read)) or '-'}  "
        f"write={','.join(sorted(partner.can_write)) or '-'}"
    )


def _administration() -> Administration:
    from steppe.runtime import administration_service

    return administration_service(_open_services())


def _given(**fields: Any) -> dict[str, Any]:
    """The options given on the command line (argparse leaves the others None)."""
    return {name: value for name, value in fields.items() if value is not None}


def cmd_partner(args: argparse.Namespace) -> int:
    from steppe.access.admin_models import PartnerCreate, PartnerUpdate, parse

    admin = _administration()
    if args.action == "add":
        read, write = args.read, args.write
        if read is None and write is None and args.role in ("admin", "analyst"):
            default = admin.default_collection()
            read = write = [default.id] if default else []
        spec = parse(
            PartnerCreate,
            _given(name=args.name, role=args.role, tlp=args.tlp, read=read, write=write),
        )
        issued = admin.add_partner(spec)
        print(_partner_line(issued.partner))
        print(f"key (shown once): {issued.key}")
    elif args.action == "list":
        for partner in admin.list_partners():
            print(_partner_line(partner))
    elif args.action == "show":
        print(_partner_line(admin.partner(args.name)))
    elif args.action == "set":
        changes = parse(
            PartnerUpdate, _given(role=args.role, tlp=args.tlp, read=args.read, write=args.write)
        )
        print(_partner_line(admin.update_partner(args.name, changes)))
    elif args.action == "rotate":
        issued = admin.rotate_key(args.name)
        print(f"new key for {args.name} (shown once; older keys no longer work): {issued.key}")
    elif args.action == "revoke":
        _, count = admin.revoke_keys(args.name)
        print(f"revoked {count} key(s) of {args.name}")
    elif args.action == "delete":
        deleted = admin.delete_partner(args.name)
        print(f"deleted {deleted.name} ({deleted.id}) and its keys")
    elif args.action == "sync-usage-plan":
        synced = admin.sync_usage_plans()
        print(f"{len(synced)} partner(s) in the usage plan" if synced else "no usage plan here")
    return 0


def _feed_line(feed: Any) -> str:
    from steppe.access.feed_definitions import FEED_TYPES
    from steppe.stix import tlp

    return (
        f"{feed.name}  id={feed.id}  format={feed.format}  "
        f"tlp={tlp.BY_RANK[feed.tlp_clearance].name}  "
        f"collections={','.join(sorted(feed.collections)) or '-'}  "
        f"types={','.join(t for t in FEED_TYPES if t in feed.types)}  "
        f"min-score={feed.min_score}  max-entries={feed.max_entries}"
    )


def _types(text: str | None) -> list[str] | None:
    """--types url,domain-name as a list (blanks between commas ignored)."""
    if text is None:
        return None
    return [part.strip() for part in text.split(",") if part.strip()]


def cmd_feed(args: argparse.Namespace) -> int:
    from steppe.access.admin_models import FeedCreate, parse

    admin = _administration()
    base = (getattr(args, "url", None) or os.environ.get("STEPPE_URL") or DEFAULT_URL).rstrip("/")
    if args.action == "add":
        spec = parse(
            FeedCreate,
            _given(
                name=args.name,
                format=args.format,
                collections=args.collection,
                tlp=args.tlp,
                types=_types(args.types),
                min_score=args.min_score,
                max_entries=args.max_entries,
            ),
        )
        issued = admin.add_feed(spec)
        print(_feed_line(issued.feed))
        print(f"url (shown once; the token in it is the feed's secret): {issued.url(base)}")
    elif args.action == "list":
        for feed in admin.list_feeds():
            print(_feed_line(feed))
    elif args.action == "show":
        print(_feed_line(admin.feed(args.name)))
    elif args.action == "rotate":
        issued = admin.rotate_feed(args.name)
        url = issued.url(base)
        print(f"new url for {args.name} (shown once; the old one no longer works): {url}")
    elif args.action == "remove":
        removed = admin.remove_feed(args.name)
        print(f"removed feed {removed.name} ({removed.id})")
    return 0


def _destination_line(destination: Any) -> str:
    from steppe.stix import tlp

    settings = "  ".join(f"{k}={v}" for k, v in sorted(destination.settings.items()))
    return (
        f"{destination.name}  id={destination.id}  kind={destination.kind}  "
        f"tlp={tlp.BY_RANK[destination.tlp_clearance].name}  "
        f"collections={','.join(sorted(destination.collections)) or '-'}  "
        f"types={','.join(sorted(destination.types))}  {settings}"
    )


def cmd_push(args: argparse.Namespace) -> int:
    from steppe.access.admin_models import parse
    from steppe.access.push_models import PushCreate, PushRotate

    admin = _administration()
    if args.action == "add":
        spec = parse(
            PushCreate,
            _given(
                name=args.name,
                kind=args.kind,
                collections=args.collection,
                tlp=args.tlp,
                url=args.url,
                tenant_id=args.tenant_id,
                client_id=args.client_id,
                client_secret=args.client_secret,
                workspace_id=args.workspace_id,
                login_url=args.login_url,
                api_url=args.api_url,
                source_system=args.source_system,
            ),
        )
        issued = admin.add_destination(spec)
        print(_destination_line(issued.destination))
        if issued.shown_secret is not None:
            print(f"signing key (shown once): {issued.shown_secret}")
    elif args.action == "list":
        for destination in admin.list_destinations():
            print(_destination_line(destination))
    elif args.action == "show":
        print(_destination_line(admin.destination(args.name)))
    elif args.action == "rotate":
        spec = parse(PushRotate, _given(client_secret=args.client_secret))
        issued = admin.rotate_destination(args.name, spec)
        if issued.shown_secret is not None:
            print(
                f"new signing key for {args.name} (shown once; the old one no longer signs): "
                f"{issued.shown_secret}"
            )
        else:
            print(f"new client secret stored for {args.name}")
    elif args.action == "remove":
        removed = admin.remove_destination(args.name)
        print(f"removed push destination {removed.name} ({removed.id})")
    return 0


def cmd_collection(args: argparse.Namespace) -> int:
    from steppe.access.admin_models import CollectionCreate, CollectionUpdate, parse

    admin = _administration()
    if args.action == "add":
        spec = parse(
            CollectionCreate,
            _given(
                title=args.title,
                description=args.description,
                alias=args.alias,
                unmarked_tlp=args.unmarked_tlp,
                active_only=args.active_only,
            ),
        )
        collection = admin.add_collection(spec)
        print(f"{collection.id}  {collection.title}{_collection_marks(collection)}")
    elif args.action == "set":
        changes = parse(
            CollectionUpdate,
            _given(
                title=args.title,
                description=args.description,
                unmarked_tlp=args.unmarked_tlp,
                active_only=args.active_only,
            ),
        )
        collection = admin.update_collection(args.collection, changes)
        print(f"{collection.id}  {collection.title}{_collection_marks(collection)}")
    else:
        for collection in admin.list_collections():
            print(f"{collection.id}  {collection.title}{_collection_marks(collection)}")
    return 0


def _collection_marks(collection: Collection) -> str:
    marks = [
        mark
        for mark, applies in (
            ("default", collection.default),
            ("active only", collection.active_only),
        )
        if applies
    ]
    return f"  ({', '.join(marks)})" if marks else ""


def _console_analyst(name: str) -> Any:
    """The operator at the console, by the name notes record: the admin role, full clearance."""
    from steppe.access.caller import Caller
    from steppe.stix import tlp

    return Caller(name, "admin", tlp.RED.rank, frozenset(), frozenset(), None)


def cmd_revoke(args: argparse.Namespace) -> int:
    from steppe.runtime import lifecycle_service

    service = lifecycle_service(_open_services())
    caller = _console_analyst(args.analyst)
    if args.what == "indicator":
        revoked = service.revoke_indicator(args.id, args.reason, caller)
        print(f"{revoked.indicator_id}: {revoked.message}")
        for collection in revoked.collections:
            print(f"  {collection.title} ({collection.id}): {collection.outcome}")
        return 0
    done = service.revoke_submission(args.id, args.reason, caller)
    if done.queued:
        print(f"submission {args.id}: {done.message}; the running server's worker does it")
    else:
        print(f"submission {args.id}: {done.message}")
    return 0


def cmd_false_positive(args: argparse.Namespace) -> int:
    from steppe.observables.correlation_keys import display
    from steppe.runtime import lifecycle_service
    from steppe.stix.timestamps import format_taxii

    service = lifecycle_service(_open_services())
    caller = _console_analyst(args.analyst)
    if args.action == "add":
        marked = service.mark_false_positive(args.value, args.reason, caller)
        values = ", ".join(display(entry.key) for entry in marked.entries)
        print(
            f"false positive: {values}; {len(marked.counts.revoked)} indicator(s) revoked, "
            f"{len(marked.counts.already_revoked)} already revoked"
        )
    elif args.action == "remove":
        removed = service.remove_false_positive(args.value, caller)
        print(f"no longer a false positive: {', '.join(display(key) for key in removed)}")
    else:
        for entry in service.list_false_positives(caller):
            print(
                f"{display(entry.key)}  {format_taxii(entry.created)}  {entry.analyst}  "
                f"{entry.reason}"
            )
    return 0


def cmd_audit(args: argparse.Namespace) -> int:
    from steppe.access.admin_models import AuditQuery, parse
    from steppe.stix.timestamps import format_taxii

    query = parse(
        AuditQuery,
        _given(since=args.since, partner=args.partner, limit=args.limit),
        noun="option",
    )
    for r in _administration().audit(query):
        print(
            f"{format_taxii(r.time)}  {r.partner or '-':<16} {r.status}  {r.method:<6} "
            f"{r.path}  objects={r.objects}{'  ' + r.detail if r.detail else ''}"
        )
    return 0


# -- lookups and campaigns ------------------------------------------------------------


def _operator() -> Any:
    """The person at the terminal: they run the data dir, so they see everything."""
    from steppe.access.caller import Caller
    from steppe.stix import tlp

    return Caller("operator", "admin", tlp.RED.rank, frozenset(), frozenset(), None)


def cmd_lookup(args: argparse.Namespace) -> int:
    from steppe.correlate.text import lookup_text
    from steppe.runtime import lookup_service

    values = args.values
    if values == ["-"]:
        values = [line.strip() for line in sys.stdin if line.strip()]
    results = lookup_service(_open_services()).lookup(values, _operator())
    if args.json:
        found = sum(1 for result in results if result["found"])
        answer = {"results": results, "count": len(results), "found": found}
        print(json.dumps(answer, indent=2))
    else:
        print(lookup_text(results))
    return 0 if all(result["recognised"] for result in results) else 1


def cmd_campaign(args: argparse.Namespace) -> int:
    from steppe.correlate.text import campaign_list_text, campaign_text
    from steppe.runtime import lookup_service

    service = lookup_service(_open_services())
    if args.action == "show":
        view = service.campaign(args.campaign_id, _operator())
        print(json.dumps(view, indent=2) if args.json else campaign_text(view))
        return 0
    campaigns: list[dict[str, Any]] = []
    after = None
    while True:
        page = service.list_campaigns(_operator(), limit=1000, after=after)
        campaigns += page["campaigns"]
        after = page["next"]
        if after is None:
            break
    if args.json:
        print(json.dumps({"campaigns": campaigns, "next": None}, indent=2))
    else:
        print(campaign_list_text(campaigns))
    return 0


def cmd_bootstrap(args: argparse.Namespace) -> int:
    from steppe.access.bootstrap import ensure_bootstrapped

    result = ensure_bootstrapped(_open_services().store, _settings())
    print(f"API root: {result.api_root.id}; default collection: {result.default_collection.id}")
    if result.admin_key:
        print(f"admin key (shown once): {result.admin_key}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="steppe", description="STIX 2.1 / TAXII 2.1 sharing")
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="run the embedded service")
    serve.add_argument("--host")
    serve.add_argument("--port", type=int)
    serve.set_defaults(func=cmd_serve)

    submit = commands.add_parser("submit", help="submit a JSON report or a CSV of observables")
    submit.add_argument("file")
    submit.add_argument("--url", help=f"server URL (env STEPPE_URL, default {DEFAULT_URL})")
    submit.add_argument("--key", help="API key (env STEPPE_KEY, default the admin key file)")
    submit.add_argument("--csv", action="store_true", help="send as text/csv whatever the suffix")
    submit.add_argument(
        "--param",
        "-p",
        action="append",
        metavar="NAME=VALUE",
        help="report field for a CSV submission, e.g. -p kind=ddos -p tlp=green",
    )
    submit.add_argument("--idempotency-key", help="retry-safe key (default: a new one)")
    submit.add_argument("--no-wait", action="store_true", help="do not wait for large submissions")
    submit.set_defaults(func=cmd_submit)

    reprocess = commands.add_parser("reprocess", help="run an archived submission again")
    reprocess.add_argument("submission_id")
    reprocess.set_defaults(func=cmd_reprocess)

    partner = commands.add_parser("partner", help="manage partners and their keys")
    actions = partner.add_subparsers(dest="action", required=True)
    for name in ("add", "set"):
        action = actions.add_parser(name)
        action.add_argument("name")
        action.add_argument(
            "--role",
            choices=["admin", "analyst", "partner"],
            default="partner" if name == "add" else None,
        )
        action.add_argument("--tlp", help="clearance: clear, green, amber, amber+strict, red")
        action.add_argument("--read", nargs="*", metavar="COLLECTION")
        action.add_argument("--write", nargs="*", metavar="COLLECTION")
    actions.add_parser("list")
    actions.add_parser(
        "sync-usage-plan", help="AWS: put every partner's usage key in the partner usage plan"
    )
    for name in ("show", "rotate", "revoke", "delete"):
        actions.add_parser(name).add_argument("name")
    partner.set_defaults(func=cmd_partner)

    collection = commands.add_parser("collection", help="manage collections")
    collection_actions = collection.add_subparsers(dest="action", required=True)
    add = collection_actions.add_parser("add")
    add.add_argument("title")
    add.add_argument("--description")
    add.add_argument("--alias")
    add.add_argument(
        "--unmarked-tlp", default="green", help="TLP of objects posted without a TLP marking"
    )
    add.add_argument(
        "--active-only",
        action=argparse.BooleanOptionalAction,
        default=False,
        help="serve only objects that are not revoked and not past their valid_until "
        "(for SIEMs that cannot handle expiry themselves)",
    )
    change = collection_actions.add_parser("set")
    change.add_argument("collection", help="id or title")
    change.add_argument("--title")
    change.add_argument("--description")
    change.add_argument("--unmarked-tlp")
    change.add_argument(
        "--active-only",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="serve only active objects (--no-active-only: serve every object)",
    )
    collection_actions.add_parser("list")
    collection.set_defaults(func=cmd_collection)

    feed = commands.add_parser(
        "feed", help="manage feeds (lists for firewalls, files for sensors, MISP feeds)"
    )
    feed_actions = feed.add_subparsers(dest="action", required=True)
    url_help = (
        f"the server's public URL, for the feed's URL (env STEPPE_URL, default {DEFAULT_URL})"
    )
    feed_add = feed_actions.add_parser("add", help="create a feed and print its URL once")
    feed_add.add_argument("name")
    feed_add.add_argument(
        "--format",
        required=True,
        help="text, csv, stix, suricata-iprep, suricata-dataset, zeek or misp",
    )
    feed_add.add_argument(
        "--collection",
        action="append",
        metavar="COLLECTION",
        help="a collection (id or title) to serve from; repeat for more (default: the default)",
    )
    feed_add.add_argument("--tlp", help="the highest TLP served (default green)")
    feed_add.add_argument(
        "--types",
        metavar="T,...",
        help="ipv4-addr, ipv6-addr, domain-name, url, file, email-addr "
        "(default: all the format carries)",
    )
    feed_add.add_argument("--min-score", type=int, help="0-100 (default 0)")
    feed_add.add_argument("--max-entries", type=int, help="1-1,000,000 (default 100,000)")
    feed_add.add_argument("--url", help=url_help)
    feed_actions.add_parser("list")
    feed_actions.add_parser("show").add_argument("name")
    feed_rotate = feed_actions.add_parser("rotate", help="a new token; the old URL stops working")
    feed_rotate.add_argument("name")
    feed_rotate.add_argument("--url", help=url_help)
    feed_actions.add_parser("remove").add_argument("name")
    feed.set_defaults(func=cmd_feed)

    push = commands.add_parser(
        "push", help="manage push destinations (Microsoft Sentinel, signed webhooks)"
    )
    push_actions = push.add_subparsers(dest="action", required=True)
    push_add = push_actions.add_parser(
        "add", help="create a destination (a webhook's signing key is printed once)"
    )
    push_add.add_argument("name")
    push_add.add_argument("--kind", required=True, help="sentinel or webhook")
    push_add.add_argument(
        "--collection",
        action="append",
        metavar="COLLECTION",
        help="a collection (id or title) to send from; repeat for more (default: the default)",
    )
    push_add.add_argument("--tlp", help="the highest TLP sent (default green)")
    push_add.add_argument("--url", help="webhook: where to POST (https)")
    push_add.add_argument("--tenant-id", help="sentinel: the Entra tenant id")
    push_add.add_argument("--client-id", help="sentinel: the app registration's client id")
    push_add.add_argument("--client-secret", help="sentinel: the app registration's secret")
    push_add.add_argument("--workspace-id", help="sentinel: the Log Analytics workspace id")
    push_add.add_argument("--login-url", help="sentinel: replaces Microsoft's login endpoint")
    push_add.add_argument("--api-url", help="sentinel: replaces Microsoft's upload endpoint")
    push_add.add_argument("--source-system", help="sentinel: the source it shows (default steppe)")
    push_actions.add_parser("list")
    push_actions.add_parser("show").add_argument("name")
    push_rotate = push_actions.add_parser(
        "rotate", help="webhook: a new signing key; sentinel: store a new --client-secret"
    )
    push_rotate.add_argument("name")
    push_rotate.add_argument("--client-secret", help="sentinel: the new client secret")
    push_actions.add_parser("remove").add_argument("name")
    push.set_defaults(func=cmd_push)

    audit = commands.add_parser("audit", help="the TAXII requests partners made, newest first")
    audit.add_argument("--since", help="a timestamp, e.g. 2026-11-25T00:00:00Z")
    audit.add_argument("--partner")
    audit.add_argument("--limit", type=int, default=50)
    audit.set_defaults(func=cmd_audit)

    lookup = commands.add_parser(
        "lookup", help="have we seen these values? ('-' reads them from stdin, one a line)"
    )
    lookup.add_argument("values", nargs="+", metavar="VALUE")
    lookup.add_argument("--json", action="store_true", help="the API's JSON")
    lookup.set_defaults(func=cmd_lookup)

    campaign = commands.add_parser("campaign", help="the campaigns steppe knows")
    campaign_actions = campaign.add_subparsers(dest="action", required=True)
    campaign_list = campaign_actions.add_parser("list")
    campaign_list.add_argument("--json", action="store_true", help="the API's JSON")
    campaign_show = campaign_actions.add_parser("show")
    campaign_show.add_argument("campaign_id")
    campaign_show.add_argument("--json", action="store_true", help="the API's JSON")
    campaign.set_defaults(func=cmd_campaign)

    analyst = {"default": "operator", "help": "the name recorded as the analyst (default operator)"}
    revoke = commands.add_parser("revoke", help="revoke an indicator or a whole submission")
    revoke.add_argument("what", choices=["indicator", "submission"])
    revoke.add_argument("id", help="the indicator id (indicator--...) or the submission id")
    revoke.add_argument("--reason", required=True, help="why, for the partners who pull it")
    revoke.add_argument("--analyst", **analyst)
    revoke.set_defaults(func=cmd_revoke)

    false_positive = commands.add_parser(
        "false-positive", help="values never to publish again without an override"
    )
    fp_actions = false_positive.add_subparsers(dest="action", required=True)
    fp_add = fp_actions.add_parser("add", help="mark a value and revoke its indicators")
    fp_add.add_argument("value", help="an address, CIDR block, domain, URL, email, hash or ASN")
    fp_add.add_argument("--reason", required=True)
    fp_add.add_argument("--analyst", **analyst)
    fp_actions.add_parser("list").add_argument("--analyst", **analyst)
    fp_remove = fp_actions.add_parser("remove", help="let the value be published again")
    fp_remove.add_argument("value")
    fp_remove.add_argument("--analyst", **analyst)
    false_positive.set_defaults(func=cmd_false_positive)

    commands.add_parser("bootstrap", help="first-start set-up (AWS)").set_defaults(
        func=cmd_bootstrap
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except SteppeError as error:
        where = f" ({error.where})" if error.where else ""
        print(f"error: {error.message}{where}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
