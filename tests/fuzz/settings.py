"""The fuzz harness's settings: a small seeded corpus in the suite (a few seconds, the same examples every
run), or a long run when ROUTESIM_FUZZ_EXAMPLES is set (README, "Long fuzz run")."""
from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

LONG = int(os.environ.get("ROUTESIM_FUZZ_EXAMPLES", "0") or 0)

settings.register_profile(
    "routesim-fuzz",
    derandomize=not LONG,          # the suite's corpus is seeded: the same inputs every run
    deadline=None,                 # time is checked by the promise itself, per example
    database=None,                 # nothing written into the checkout
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large],
)


def examples(suite: int) -> settings:
    """Settings for one fuzz test: ``suite`` examples in the normal run, ROUTESIM_FUZZ_EXAMPLES in a long one."""
    return settings(settings.get_profile("routesim-fuzz"), max_examples=LONG or suite)
