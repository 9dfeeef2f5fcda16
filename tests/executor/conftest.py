"""One local Ray cluster per test session for the Ray backend's tests (starting one takes
seconds); they skip, saying why, where the extra [ray] is not installed."""

from __future__ import annotations

from collections.abc import Iterator

import pytest


@pytest.fixture(scope="session")
def ray_cluster() -> Iterator[None]:
    try:
        import ray
    except ImportError as missing:
        pytest.skip(f"the Ray backend's tests need the extra [ray] ({missing}); "
                    "install it with: pip install -e '.[ray]'")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False,
             configure_logging=False)
    yield
    ray.shutdown()
