"""Server secrets: random, kept, and the same for every caller from the first call on."""

from __future__ import annotations

import threading

from .adapters import reopened


def test_a_secret_is_32_random_bytes_kept_per_name(store):
    paging = store.server_secret("taxii-paging")
    assert isinstance(paging, bytes) and len(paging) == 32
    assert store.server_secret("taxii-paging") == paging
    other = store.server_secret("something-else")
    assert len(other) == 32 and other != paging


def test_concurrent_first_calls_agree(store):
    """Eight threads, half of them on a second store (another process), ask at once."""
    racers = 8
    gate = threading.Barrier(racers)
    seen: list[bytes] = []

    def first_call(on) -> None:
        gate.wait()
        seen.append(on.server_secret("taxii-paging"))

    with reopened(store) as second:
        threads = [
            threading.Thread(target=first_call, args=(store if i % 2 else second,))
            for i in range(racers)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert len(seen) == racers
        assert len(set(seen)) == 1
        assert second.server_secret("taxii-paging") == store.server_secret("taxii-paging")


def test_another_store_on_the_same_data_sees_the_same_secret(store):
    secret = store.server_secret("taxii-paging")
    with reopened(store) as second:
        assert second is not store
        assert second.server_secret("taxii-paging") == secret
        made_there = second.server_secret("made-by-the-second")
    assert store.server_secret("made-by-the-second") == made_there
