"""``routesim render`` with hostile arguments: refused in one usage line (exit 2) before any work, or a
WAV and a PNG written (exit 0)."""
from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import given, strategies as st

from tests.fuzz.promise import run_cli
from tests.fuzz.settings import examples

SCENARIO = "name: render\nsteps:\n  - session.setCategory: playback\n  - session.setActive: true\n"
NUMBERS = ["nan", "inf", "-inf", "1e9", "0", "-1", "1e-9", "", "two", "0x10", "1_0", "9" * 400, "0.05", "0.1"]

number = st.one_of(st.sampled_from(NUMBERS), st.floats(allow_nan=True, allow_infinity=True).map(repr))


@examples(suite=12)
@given(duration=number, frequency=number, step=st.sampled_from(["4", "0", "-1", "99999", "x", "9" * 30]),
       out=st.sampled_from(["dir", "/dev/null", "file", "new/nested"]), signal=st.sampled_from(["tone", "noise"]))
def test_render_arguments_keep_the_promise(duration, frequency, step, out, signal):
    with tempfile.TemporaryDirectory() as d:
        scenario = Path(d) / "r.scenario.yaml"
        scenario.write_text(SCENARIO)
        target = {"dir": d, "file": str(scenario), "/dev/null": "/dev/null", "new/nested": f"{d}/new/nested"}[out]
        try:  # keep the suite's valid renders short: long valid durations are the long run's business
            if float(duration) > 0.3:
                duration = "0.1"
        except ValueError:
            pass
        run_cli(["render", str(scenario), "--step", step, f"--duration={duration}", f"--frequency={frequency}",
                 "--signal", signal, "--out", target], allowed=(0, 2), about_a_file=False)
