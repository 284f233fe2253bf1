"""Shared test set-up: the environment every test runs in."""

import os

# Powertools: no tracing or metrics output during tests; quiet logs.
os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "true")
os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")
os.environ.setdefault("POWERTOOLS_SERVICE_NAME", "steppe-test")
os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")
# moto: a fake account and region, never real credentials.
os.environ.setdefault("AWS_DEFAULT_REGION", "eu-central-1")
os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
os.environ.setdefault("AWS_SECURITY_TOKEN", "testing")
os.environ.setdefault("AWS_SESSION_TOKEN", "testing")
os.environ.setdefault("AWS_ACCOUNT_ID_ENDPOINT_MODE", "disabled")

# Hypothesis: a fixed seed (derandomize) and no per-example deadline, so property-based tests
# explore the same examples on every run and on a loaded machine; each test sets its budget.
from hypothesis import HealthCheck, settings

settings.register_profile(
    "steppe",
    derandomize=True,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
settings.load_profile("steppe")

# moto: transactions snapshot the items they touch, not whole tables (see the module).
from support import moto_transactions  # noqa: E402

moto_transactions.install()
# moto: a Query on the table's key reads its partition, not the whole table (see the module).
from support import moto_queries  # noqa: E402

moto_queries.install()
