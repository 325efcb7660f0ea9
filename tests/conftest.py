import os
import random

import numpy as np
import pytest

os.environ.setdefault("MPLBACKEND", "Agg")

try:  # hypothesis profiles: "ci" (default, fast), "long" (HYPOTHESIS_PROFILE=long, for a thorough run by hand)
    from hypothesis import HealthCheck, settings

    settings.register_profile(
        "ci", max_examples=150, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
    )
    settings.register_profile("long", max_examples=5000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
except ImportError:  # pragma: no cover - hypothesis is in the test extra
    pass


@pytest.fixture(autouse=True)
def _seed_everything():
    """Every test starts from the same seeds, whatever ran before it."""
    random.seed(0)
    np.random.seed(0)
    try:
        import torch
    except ImportError:  # pragma: no cover
        yield
        return
    torch.manual_seed(0)
    threads = torch.get_num_threads()
    yield
    torch.set_num_threads(threads)
