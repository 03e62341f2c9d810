"""Bad input never crashes: each row is a hostile input a user sent once, and the one line it must get.

Every row runs the real command (``main``) in-process and checks the promise: exit 2 and one line per
problem naming FILE:LINE, what is wrong and what would be right; never a traceback, never exit 70.
"""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from routesim.routes.cli.main import main
from routesim.routes.scenario.limits import MAX_FILE_BYTES, MAX_NODES

HEAD = "name: hostile\naccessories:\n  pods: {model: airpods-pro-2, connected: true}\nsteps:\n"


def scenario(*steps: str) -> str:
    return HEAD + "".join(f"  - {s}\n" for s in steps)


BIG = "9" * 400
HUGE = "9" * 5000

# (id, file text, line of the problem, fragments the one line must hold)
ROWS = [
    ("explicit-int-tag", scenario("wait: !!int abc"), 5, ["explicit YAML tag !!int", "'abc'"]),
    ("explicit-bool-tag", scenario("session.setActive: !!bool maybe"), 5, ["explicit YAML tag !!bool"]),
    ("explicit-float-tag-empty", scenario("wait: !!float ''"), 5, ["explicit YAML tag !!float"]),
    ("explicit-tag-in-a-key", scenario("{!!int 3: x}"), 5, ["explicit YAML tag !!int"]),
    ("local-tag", scenario("wait: !foo 3"), 5, ["wait:", "YAML tag !foo"]),
    ("octal-wait", scenario("wait: 010"), 5, ["010", "octal", 'quote it', 'wait: "8s"']),
    ("hex-wait", scenario("wait: 0x12"), 5, ["0x12", "hexadecimal", 'wait: "18s"']),
    ("base-60-wait", scenario("wait: 1:30"), 5, ["1:30", "base-60", 'wait: "90s"']),
    ("underscore-wait", scenario("wait: 1_000"), 5, ["1_000", 'wait: "1000s"']),
    ("0o-wait", scenario("wait: 0o10"), 5, ["'0o10'", "a duration"]),
    ("infinite-wait", scenario("wait: .inf"), 5, [".inf", "write a finite duration"]),
    ("octal-sample-rate", scenario("session.setPreferredSampleRate: 044100"), 5, ["octal", "plain decimal"]),
    ("base-60-comparison", scenario("expect: {session: {sampleRate: 1:30}}"), 5, ["base-60", "plain decimal"]),
    ("400-digit-wait", scenario(f"wait: {BIG}"), 5, ["400 characters"]),
    ("quoted-400-digit-wait", scenario(f'wait: "{BIG}s"'), 5, ["characters"]),
    ("5000-digit-comparison", scenario(f'expect: {{session: {{sampleRate: "<{HUGE}"}}}}'), 5, ["5000 characters"]),
    ("5000-digit-number", scenario(f"expect: {{session: {{sampleRate: {HUGE}}}}}"), 5, ["5000 characters"]),
    ("wait-past-a-day", scenario("wait: 90000"), 5, ["at most 24h"]),
    ("huge-sample-rate", scenario("recorder.record: {sampleRate: 1.0e+300, channels: 1}"), 5, ["at most 768000"]),
    ("thousand-channels", scenario("session.setPreferredInputNumberOfChannels: 1000"), 5, ["at most 64"]),
    ("half-hour-audio-check", scenario("expect: {audio: {duration: 30m}}"), 5, ["audio length", "at most 30s"]),
    ("audio-budget", scenario(*["expect: {audio: {duration: 30}}"] * 3), 7, ["more than 60 s"]),
    ("firmware-banana", HEAD.replace("connected: true", "connected: true, firmware: banana") + "  - wait: 1\n", 3,
     ["firmware 'banana'", '"6.8"']),
    ("nested-too-deeply", "name: x\nsteps: " + "[" * 3000 + "]" * 3000 + "\n", 1, ["nested too deeply"]),
    ("alias-bomb", "a: &a [1,1,1,1,1,1,1,1,1,1]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a,*a]\n"
                   "c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c,*c]\n"
                   "e: [*d,*d,*d,*d,*d,*d,*d,*d,*d,*d]\n", 5, [f"more than {MAX_NODES} values"]),
    # stops where the count passes the limit: the 10,000th step, far before the end of the file
    ("too-many-values", "name: x\nsteps:\n" + "  - wait: 1\n" * (MAX_NODES // 3 + 5000), MAX_NODES // 3 + 1,
     [f"the file holds more than {MAX_NODES} values"]),
]


@pytest.mark.parametrize("text, line, fragments", [r[1:] for r in ROWS], ids=[r[0] for r in ROWS])
def test_a_bad_scenario_is_one_line_and_exit_2(tmp_path, capsys, text, line, fragments):
    path = tmp_path / "bad.scenario.yaml"
    path.write_text(text)
    assert main(["run", "-q", str(path)]) == 2
    err = capsys.readouterr().err
    problem = [ln for ln in err.splitlines() if ln.startswith(f"{path}:")]
    assert len(problem) == 1, err
    assert problem[0].startswith(f"{path}:{line}: "), err
    for fragment in fragments:
        assert fragment in problem[0], problem[0]
    assert "Traceback" not in err


def test_a_file_over_the_byte_limit_is_refused_before_parsing(tmp_path, capsys):
    # Multi-byte characters: fewer characters than the limit, more bytes than it.
    path = tmp_path / "big.scenario.yaml"
    path.write_text("name: x\ndescription: " + "é" * (MAX_FILE_BYTES // 2 + 10) + "\nsteps: [wait]\n", encoding="utf-8")
    assert len(path.read_text()) < MAX_FILE_BYTES < path.stat().st_size
    assert main(["run", str(path)]) == 2
    assert f"{path}:1: the file has {path.stat().st_size} bytes" in capsys.readouterr().err


@pytest.mark.parametrize("make, kind", [
    (lambda p: os.mkfifo(p), "a FIFO"),
    (None, "a device"),
])
def test_special_files_are_refused_by_type_without_reading(tmp_path, capsys, make, kind):
    if make is None:
        path = Path("/dev/zero")
    else:
        path = tmp_path / "pipe.scenario.yaml"
        make(path)
    assert main(["run", str(path)]) == 2  # a FIFO would block and /dev/zero never ends, if they were read
    assert f"{path}:1: is {kind}, not a scenario file" in capsys.readouterr().err


def test_yaml_readings_that_stay_allowed(tmp_path, capsys):
    """Plain decimal numbers, quoted durations with units and !!str stay as they were."""
    path = tmp_path / "ok.scenario.yaml"
    path.write_text(scenario("wait: 10", "wait: 1.5", 'wait: "010"', "wait: 250ms",
                             "session.setPreferredSampleRate: 48000", "wait: !!str 2s"))
    assert main(["run", "-q", str(path)]) == 0, capsys.readouterr().err


# ----------------------------------------------------------------------------------------- render args ---

RENDER_SCENARIO = "name: r\nsteps:\n  - session.setCategory: playback\n  - session.setActive: true\n"


@pytest.mark.parametrize("args, fragment", [
    (["--duration", "nan"], "--duration: nan is out of range"),
    (["--duration", "inf"], "--duration: inf is out of range"),
    (["--duration", "1e9"], "--duration: 1e9 is out of range"),
    (["--duration", "0"], "--duration: 0 is out of range"),
    (["--duration", "two"], "'two' is not a number"),
    (["--duration", "31"], "--duration: 31 is out of range; give seconds from 0.05 to 30"),
    (["--frequency", "nan"], "--frequency: nan is out of range"),
    (["--out", "/dev/null"], "/dev/null exists and is not a directory"),
])
def test_render_arguments_are_checked_before_the_work(tmp_path, capsys, args, fragment):
    path = tmp_path / "r.scenario.yaml"
    path.write_text(RENDER_SCENARIO)
    with pytest.raises(SystemExit) as e:
        main(["render", str(path), "--step", "4", "--out", str(tmp_path / "out"), *args])
    assert e.value.code == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and fragment in err, err
    assert not (tmp_path / "out").exists()


def test_render_out_that_is_a_file_is_refused(tmp_path, capsys):
    path = tmp_path / "r.scenario.yaml"
    path.write_text(RENDER_SCENARIO)
    with pytest.raises(SystemExit):
        main(["render", str(path), "--step", "4", "--out", str(path)])
    assert "exists and is not a directory" in capsys.readouterr().err


# ------------------------------------------------------------------------------------ catalog files ---

GOOD_QUIRK = (b"quirks:\n  - id: q\n    effect: output-fallback\n    params: {output: builtInSpeaker}\n"
              b"    match: {product_ids: [0x2014]}\n    source: \"[INF] test\"\n    confidence: test\n"
              b"    summary: test\n")

QUIRK_ROWS = [
    ("invalid-utf8", b"quirks:\n  - id: x\n\xff\xfe\n", 3, ["not UTF-8 text: byte 18 (0xff)"]),
    ("deep-nesting", b"quirks: " + b"[" * 5000 + b"]" * 5000 + b"\n", 1, ["nested too deeply"]),
    ("mistagged-id", b"quirks:\n  - id: !!int abc\n", 2, ["field 'quirks[0].id'", "!!int does not fit 'abc'"]),
    ("python-tag", b"quirks: !!python/object:os.system x\n", 1, ["is not allowed"]),
    ("unknown-effect", b"quirks: [{id: a, effect: nope}]\n", 1, ["field 'quirks[0].params': missing"]),
    ("huge-number", GOOD_QUIRK.replace(b"0x2014", b"9" * 5000), 5, ["quirks[0].match.product_ids[0]", "5000 characters"]),
    ("firmware-banana", GOOD_QUIRK.replace(b"[0x2014]}", b'[0x2014], firmware: ">=banana"}'), 5,
     ["quirks[0].match.firmware", "'banana'"]),
]


@pytest.mark.parametrize("data, line, fragments", [r[1:] for r in QUIRK_ROWS], ids=[r[0] for r in QUIRK_ROWS])
def test_a_bad_quirk_folder_is_one_line_per_problem_and_exit_2(tmp_path, capsys, data, line, fragments):
    (tmp_path / "q.yaml").write_bytes(data)
    assert main(["models", "--quirks", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    lines = err.splitlines()
    assert all(ln.startswith(f"routesim: {tmp_path / 'q.yaml'}:") for ln in lines), err
    assert any(ln.startswith(f"routesim: {tmp_path / 'q.yaml'}:{line}: ") and all(f in ln for f in fragments)
               for ln in lines), err


def test_a_fifo_in_a_quirk_folder_is_refused_by_type(tmp_path, capsys):
    os.mkfifo(tmp_path / "q.yaml")
    assert main(["models", "--quirks", str(tmp_path)]) == 2
    assert f"{tmp_path / 'q.yaml'}:1: is a FIFO, not a quirk file" in capsys.readouterr().err


# ------------------------------------------------------------------------------------ the boundary ---

def test_an_unexpected_exception_is_a_bug_in_one_line_exit_70(capsys, monkeypatch):
    from routesim.routes.cli import main as main_module

    def broken(args):
        raise ZeroDivisionError("division by zero")

    monkeypatch.setattr(main_module, "cmd_rules", broken)
    assert main(["rules"]) == 70
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "internal error (a bug in routesim): ZeroDivisionError" in err
    assert "--debug" in err and "Traceback" not in err
    assert main(["--debug", "rules"]) == 70
    assert "Traceback" in capsys.readouterr().err
    assert main(["rules", "--debug"]) == 70  # also after the command
    assert "Traceback" in capsys.readouterr().err


def test_ctrl_c_exits_130_quietly(capsys, monkeypatch):
    from routesim.routes.cli import main as main_module

    def interrupted(args):
        raise KeyboardInterrupt

    monkeypatch.setattr(main_module, "cmd_rules", interrupted)
    assert main(["rules"]) == 130
    assert capsys.readouterr().err == ""


def _cli(args: list[str], env: dict[str, str] | None = None, **kw) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "routesim.routes.cli.main", *args], capture_output=True,
                          env={**os.environ, **(env or {})}, timeout=120, **kw)


def test_a_closed_pipe_ends_quietly(tmp_path):
    path = tmp_path / "many.scenario.yaml"
    path.write_text("name: many\nsteps:\n" + "  - wait: 1\n" * 3000)
    proc = subprocess.Popen([sys.executable, "-m", "routesim.routes.cli.main", "run", str(path)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.stdout.readline()
    proc.stdout.close()  # `routesim run | head -1`
    err = proc.stderr.read().decode()
    proc.wait(timeout=120)
    proc.stderr.close()
    assert "Traceback" not in err and "BrokenPipe" not in err, err


LONE_SURROGATE = 'name: "pods \\ud800 here"\nsteps:\n  - wait: 1\n'


@pytest.mark.parametrize("env", [
    {"LC_ALL": "C.UTF-8", "PYTHONUTF8": "1"},
    {"LC_ALL": "C", "LANG": "C", "PYTHONUTF8": "0", "PYTHONCOERCECLOCALE": "0", "PYTHONIOENCODING": "ascii"},
], ids=["utf8-locale", "ascii-locale"])
def test_a_lone_surrogate_in_a_name_is_printed_escaped(tmp_path, env):
    path = tmp_path / "s.scenario.yaml"
    path.write_text(LONE_SURROGATE)
    result = _cli(["run", str(path)], env)  # stdout is a pipe
    out = result.stdout.decode("ascii", "replace")
    assert result.returncode == 0, result.stderr.decode()
    assert "pods \\ud800 here" in out and "PASS" in out and b"Traceback" not in result.stderr


# ------------------------------------------------------------------------------------ pytest plugin ---

def test_a_bad_scenario_file_is_one_failing_item_and_the_others_run(pytester):
    pytester.makeini("[pytest]\nasyncio_default_fixture_loop_scope = function\n")
    pytester.makefile(".scenario.yaml", good=textwrap.dedent("""\
        name: playback goes to the speaker
        steps:
          - session.setCategory: {category: playback}
          - expect:
              route: {outputs: [builtInSpeaker]}
        """), bad="name: tagged\nsteps:\n  - wait: !!int abc\n", worse="name: x\nsteps: [wait: 0x12]\n")
    result = pytester.runpytest("-q", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, failed=2)
    text = result.stdout.str()
    assert "bad.scenario.yaml:3: the explicit YAML tag !!int" in text
    assert "worse.scenario.yaml:2: wait: YAML 1.1 reads the unquoted 0x12" in text
    assert "Traceback" not in text and "Interrupted" not in text


def test_a_fifo_in_a_scenario_directory_is_refused_and_the_others_run(tmp_path, capsys):
    (tmp_path / "good.scenario.yaml").write_text(scenario("wait: 1"))
    os.mkfifo(tmp_path / "pipe.scenario.yaml")
    assert main(["run", "-q", str(tmp_path)]) == 2
    captured = capsys.readouterr()
    assert f"{tmp_path / 'pipe.scenario.yaml'}:1: is a FIFO, not a scenario file" in captured.err
    assert "1 scenarios passed" in captured.out
