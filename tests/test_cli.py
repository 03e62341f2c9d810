"""The routesim command as a user meets it: exit codes, JSON output, errors that say file and line."""
from __future__ import annotations

import asyncio
import gc
import json
import subprocess
import sys
import textwrap

import pytest

from routesim.routes.cli.collector import THRESHOLDS
from routesim.routes.cli.main import main

PASSING = """\
name: playback goes to the speaker
steps:
  - session.setCategory: {category: playback}
  - expect:
      route: {outputs: [builtInSpeaker]}
"""

FAILING = """\
name: wrong on purpose
steps:
  - session.setCategory: {category: playAndRecord}
  - expect:
      route: {outputs: [builtInSpeaker]}
"""


def write(tmp_path, name, text):
    p = tmp_path / name
    p.write_text(textwrap.dedent(text))
    return str(p)


@pytest.mark.parametrize("text, code", [(PASSING, 0), (FAILING, 1)])
def test_run_exit_codes(tmp_path, capsys, text, code):
    assert main(["run", write(tmp_path, "a.scenario.yaml", text)]) == code


def test_failure_names_file_line_expected_and_actual(tmp_path, capsys):
    path = write(tmp_path, "a.scenario.yaml", FAILING)
    main(["run", "-q", path])
    out = capsys.readouterr().out
    assert f"{path}:4: route: expected" in out
    assert "builtInReceiver" in out  # the actual route: playAndRecord plays through the receiver


def test_invalid_scenario_exit_2_with_suggestion(tmp_path, capsys):
    path = write(tmp_path, "bad.scenario.yaml", PASSING.replace("playback", "playbak"))
    assert main(["run", path]) == 2
    err = capsys.readouterr().err
    assert f"{path}:3:" in err and "did you mean 'playback'" in err


def test_step_the_model_cannot_perform_is_exit_2(tmp_path, capsys):
    path = write(tmp_path, "a.scenario.yaml", """\
        name: disconnect twice
        accessories: {pods: {model: airpods-pro, connected: true}}
        steps:
          - disconnect: pods
          - disconnect: pods
        """)
    assert main(["run", path]) == 2
    assert "not connected" in capsys.readouterr().out


def test_json_one_object_per_scenario_with_actual_values(tmp_path, capsys):
    path = write(tmp_path, "a.scenario.yaml", FAILING + "---\n" + PASSING)
    assert main(["run", "--format", "json", path]) == 1
    lines = capsys.readouterr().out.strip().splitlines()
    objs = [json.loads(line) for line in lines]
    assert [o["passed"] for o in objs] == [False, True]
    check = objs[0]["steps"][1]["checks"][0]
    assert check["pass"] is False and check["actual"]["outputs"][0]["type"] == "builtInReceiver"
    first = objs[0]["steps"][0]
    assert first["notifications"][0]["routeChange"]["reason"] == "categoryChange"


def test_unexpected_error_fails_the_scenario(tmp_path, capsys):
    path = write(tmp_path, "a.scenario.yaml", """\
        name: an error nobody expected
        steps:
          - session.setCategory: {category: playback, options: [defaultToSpeaker]}
          - expect:
              session: {category: soloAmbient}
        """)
    assert main(["run", "-q", path]) == 1
    assert "no `expect: error` follows it" in capsys.readouterr().out


def test_error_expect_after_a_step_that_succeeded_fails(tmp_path, capsys):
    path = write(tmp_path, "a.scenario.yaml", """\
        name: error expected but none came
        steps:
          - session.setCategory: {category: playback}
          - expect:
              error: badParam
        """)
    assert main(["run", "-q", path]) == 1


def test_explain_names_rules_and_tags(tmp_path, capsys):
    path = write(tmp_path, "a.scenario.yaml", FAILING)
    main(["explain", path])
    out = capsys.readouterr().out
    assert "plays through the receiver on iPhone  [DOC]" in out


def test_models_list_and_show(capsys):
    assert main(["models"]) == 0
    listing = capsys.readouterr().out
    assert "airpods-pro-2" in listing and "0x2014" in listing
    assert main(["models", "show", "airpods-pro-2"]) == 0
    assert "[DEV]" in capsys.readouterr().out
    assert main(["models", "show", "airpods-pro-22"]) == 2


@pytest.mark.parametrize("value, expect", [
    ("bluetooth:v004Cp2014dD408", "airpods-pro-2"),  # RDK-modalias, a real Modalias
    ("bluetooth:v004Cp200Ed0001", "airpods-pro"),
    # CAPod's test vectors AirPodsPro2Test.kt and AirPodsGen2Test.kt, as bleak's manufacturer_data[76]
    ("07 19 01 14 20 2B 9A 8F 01 00 04 0F 26 1A C4 2B FA 2F B9 B6 08 CD 60 CB DF 75 AB", "airpods-pro-2"),
    ("071901 0F20 02F98F0100 05F27E14E0540A53695B7DF2151FD7B112", "airpods-2"),
])
def test_identify(capsys, value, expect):
    assert main(["identify", value]) == 0
    assert capsys.readouterr().out.startswith(expect + ":")


def test_bundled_scenarios_are_collected_by_pytest(pytester):
    pytester.makeini("[pytest]\nasyncio_default_fixture_loop_scope = function\n")
    pytester.makefile(".scenario.yaml", ok=PASSING, bad=FAILING)
    result = pytester.runpytest("-q")  # the plugin comes in through its pytest11 entry point
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["*route: expected*"])


def test_identify_rejects_what_it_cannot_read(capsys):
    assert main(["identify", "not-hex"]) == 2
    assert "neither a Modalias" in capsys.readouterr().err
    assert main(["identify", "bluetooth:v004Cp9999d0001"]) == 1  # well-formed, but no catalog model


def test_a_child_left_running_at_exit_is_not_reported_but_other_asyncio_warnings_are(monkeypatch):
    """A stopping watch signals pactl and does not wait; asyncio's child watcher reaps it after the loop
    closed and warns ("Loop … that handles pid … is closed"). Which watcher runs depends on what ran before
    in the process, so the warning is logged here as asyncio logs it, with asyncio's own text."""
    import inspect
    import io
    import logging

    from routesim.routes.cli.unattended import configure_logging

    text = "Loop %r that handles pid %r is closed"
    if text not in inspect.getsource(asyncio.unix_events):
        pytest.skip("this Python's asyncio does not log it")
    saved = {n: (logging.getLogger(n).handlers[:], logging.getLogger(n).level) for n in ("routesim", "asyncio", "bleak")}
    err = io.StringIO()
    monkeypatch.setattr(sys, "stderr", err)
    loop = asyncio.new_event_loop()
    loop.close()
    try:
        configure_logging(verbose=False)
        logging.getLogger("asyncio").warning(text, loop, 4242)
        logging.getLogger("asyncio").warning("Executing %s took %.3f seconds", "a task", 0.2)
    finally:
        for n, (handlers, level) in saved.items():
            logging.getLogger(n).handlers[:] = handlers
            logging.getLogger(n).setLevel(level)
    assert err.getvalue() == "routesim: Executing a task took 0.200 seconds\n"


# ------------------------------------------------------------------------------- the collector, as the program
# routes.cli.collector: the program freezes what start-up made and collects the youngest generation less often;
# main() called in someone else's process (this test's) leaves their collector alone.
PROGRAM = ("import gc, sys\nfrom routesim.routes.cli.main import entry\nsys.argv = ['routesim', 'run', '-q', sys.argv[1]]\n"
           "code = entry()\nprint(code, gc.get_freeze_count() > 0, gc.get_threshold()[:2])\n")


def test_the_program_tunes_its_collector_after_start_up(tmp_path):
    f = write(tmp_path, "a.scenario.yaml", PASSING)
    out = subprocess.run([sys.executable, "-c", PROGRAM, str(f)], capture_output=True, text=True, check=True,
                         stdin=subprocess.DEVNULL).stdout.splitlines()[-1]
    assert out == f"0 True {THRESHOLDS}"


def test_main_in_a_test_process_leaves_the_collector_alone(tmp_path, capsys):
    before = gc.get_freeze_count(), gc.get_threshold()
    assert main(["run", "-q", write(tmp_path, "a.scenario.yaml", PASSING)]) == 0
    assert (gc.get_freeze_count(), gc.get_threshold()) == before
