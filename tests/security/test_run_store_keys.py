"""A run id from a request never names another key of the shared run store: with run_store =
"redis", ids that would address a run's event stream or cancel flag, a key pattern, or a path
are unknown runs (404), and reading them leaves the real run untouched."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

pytest.importorskip("redis", reason="the redis client (pip install '.[redis]')")

from tests.routes.test_runs import SMALL, make_client, wait_for_end
from tests.services import ServiceMissingError, redis_server


@pytest.fixture(scope="module")
def redis_url() -> Iterator[str]:
    try:
        with redis_server() as url:
            yield url
    except ServiceMissingError as missing:
        pytest.skip(str(missing))


def test_ids_that_name_other_store_keys_are_unknown_runs(redis_url: str) -> None:
    client_a, _ = make_client(run_store="redis", run_store_url=redis_url)
    client_b, _ = make_client(run_store="redis", run_store_url=redis_url)
    with client_a, client_b:
        run_id = client_a.post("/runs", json=SMALL).json()["id"]
        finished = wait_for_end(client_a, run_id)
        client_b.post(f"/runs/{run_id}/cancel")  # an ended run: nothing to cancel, no flag
        for crafted in (f"{run_id}:events", f"{run_id}:cancel", "*", f"{run_id[:-1]}*",
                        f"..%2F{run_id}", f"{run_id} ", "x" * 12 + ":events", "%00" + run_id):
            for method, url in (("GET", f"/runs/{crafted}"), ("GET", f"/runs/{crafted}/events"),
                                ("POST", f"/runs/{crafted}/cancel"),
                                ("DELETE", f"/runs/{crafted}")):
                response = client_b.request(method, url)
                assert response.status_code == 404, (method, url, response.status_code)
        assert client_b.get(f"/runs/{run_id}").json() == finished
