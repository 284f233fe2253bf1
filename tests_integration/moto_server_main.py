"""moto_server, with the one change the in-process tests make to moto (support.moto_transactions).

moto snapshots whole tables before a TransactWriteItems; steppe's feed index
writes one transaction per 20 entries, so past a few hundred items each one
outlasts the 5-second read timeout steppe's clients use (store.aws.client_config)
and the worker's chunk fails. The change keeps moto's own checks and writes and
snapshots only the items the transaction names. It is all-or-nothing only when
one call runs at a time, which is how tests_integration drives the server.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from moto.server import main

from support import moto_transactions

if __name__ == "__main__":
    moto_transactions.install()
    main(sys.argv[1:])
