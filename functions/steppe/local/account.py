"""The AWS account and region the embedded runtime reports in events, ARNs and contexts.

Nothing is sent to AWS; these only make locally built events look like the
ones Lambda receives. AWS_REGION / AWS_DEFAULT_REGION are honoured so that
ARNs match a deployment the developer has in mind.
"""

from __future__ import annotations

import os

ACCOUNT_ID = "000000000000"


def region() -> str:
    return os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"
