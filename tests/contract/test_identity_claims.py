"""Identity claims: the first owner wins, for good, also against concurrent claims."""

from __future__ import annotations

import threading

from .adapters import reopened

CERT_KG = "identity--5b2a9c0e-7d51-4a8e-9f53-0c2d8e6b1a47"
KZ_CERT = "identity--0c6b1a4e-3f2d-4b7a-9e8c-1d2f3a4b5c6d"


def test_the_first_claim_wins_and_stays(store):
    assert store.identity_owners([CERT_KG, KZ_CERT]) == {}
    assert store.claim_identity(CERT_KG, "partner-a") == "partner-a"
    assert store.claim_identity(CERT_KG, "partner-a") == "partner-a"  # claiming again: no change
    assert store.claim_identity(CERT_KG, "partner-b") == "partner-a"
    assert store.claim_identity(KZ_CERT, "partner-b") == "partner-b"
    assert store.identity_owners([CERT_KG, KZ_CERT, "identity--unclaimed"]) == {
        CERT_KG: "partner-a",
        KZ_CERT: "partner-b",
    }


def test_owners_are_read_in_batches_of_any_size(store):
    claimed = [f"identity--00000000-0000-4000-8000-{n:012d}" for n in range(230)]
    for n, identity in enumerate(claimed):
        store.claim_identity(identity, f"partner-{n % 3}")
    owners = store.identity_owners(claimed + claimed[:5])
    assert owners == {identity: f"partner-{n % 3}" for n, identity in enumerate(claimed)}


def test_concurrent_first_claims_agree_on_one_owner(store):
    """Eight claimants, half of them through a second store (another process), claim at once."""
    racers = 8
    gate = threading.Barrier(racers)
    answers: list[str] = []

    def claim(on, owner: str) -> None:
        gate.wait()
        answers.append(on.claim_identity(CERT_KG, owner))

    with reopened(store) as second:
        threads = [
            threading.Thread(target=claim, args=(store if i % 2 else second, f"partner-{i}"))
            for i in range(racers)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert len(answers) == racers
        assert len(set(answers)) == 1
        [winner] = set(answers)
        assert store.identity_owners([CERT_KG]) == {CERT_KG: winner}
        assert second.identity_owners([CERT_KG]) == {CERT_KG: winner}
