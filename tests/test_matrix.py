"""routesim matrix: slots sweep the models of their kind, platforms sweep where behaviour changes, cases a
model cannot perform are not applicable, findings group the way a person reads them, and the report is the
same bytes however the matrix is run."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from routesim.profiles.catalog import default_catalog
from routesim.profiles.platform import Platform
from routesim.routes.scenario.loader import load_path
from routesim.routes.scenario.matrix import (DIFFERS, NOT_APPLICABLE, MatrixError, expand, parse_platforms,
                                            parse_switches, platforms_for)
from routesim.routes.scenario.matrix_report import as_json, as_text, findings
from routesim.routes.scenario.matrix_run import job_from_paths, run_matrix

SCENARIOS = Path(__file__).resolve().parents[1] / "fixtures" / "scenarios"
QUIRK = SCENARIOS / "airpods-pro-2-ios17-a2dp-goes-to-speaker.scenario.yaml"
EARS = SCENARIOS / "airpods-ear-detection.scenario.yaml"
CATALOG = default_catalog()


def _scenarios(path):
    return load_path(path, CATALOG.ids())


def test_a_slot_sweeps_every_model_of_its_kind_and_only_those():
    scenario = _scenarios(EARS)[0]
    cases = expand([scenario], CATALOG, platforms=parse_platforms("ios-26.0"))
    swept = {dict(c.models)["pods"] for c in cases}
    earbuds = {m.id for m in CATALOG.models() if m.kind.value == "earbuds"}
    assert swept == earbuds
    assert "airpods-max" not in swept and "generic-headset" not in swept


@pytest.mark.parametrize("selection,expected", [
    ("over-ear", {"airpods-pro-2"}),                   # a slot of another kind keeps its model
    ("airpods-pro,airpods-max", {"airpods-pro"}),      # ids of another kind are left out of the slot
    ("earbuds", None),                                 # the slot's own kind: every earbud
])
def test_model_selection(selection, expected):
    scenario = _scenarios(QUIRK)[0]
    cases = expand([scenario], CATALOG, models=selection, platforms=parse_platforms("ios-26.0"))
    swept = {dict(c.models)["pods"] for c in cases}
    if expected is None:
        expected = {m.id for m in CATALOG.models() if m.kind.value == "earbuds"}
    assert swept == expected


def test_platforms_are_the_range_ends_and_where_a_quirk_starts_and_ends():
    # The iOS 17 AirPods Pro 2 quirk is scoped >=17.0,<18: both ends are breakpoints inside 16..26.
    plats = [str(p) for p in platforms_for(parse_platforms("ios-16.0..ios-26.0"), CATALOG, Platform.parse("ios-16.0"))]
    assert plats[0] == "ios-16.0" and plats[-1] == "ios-26.0"
    assert {"ios-17.0", "ios-18.0"} <= set(plats)
    assert all(Platform.parse("ios-16.0") <= Platform.parse(p) <= Platform.parse("ios-26.0") for p in plats)


@pytest.mark.parametrize("text", ["ios-26.0..ios-16.0", "android-14", "ios-16..visionos-2", "ios-99"])
def test_bad_platform_ranges_are_refused(text):
    with pytest.raises(MatrixError, match="--platforms"):
        parse_platforms(text)


@pytest.mark.parametrize("item,expected", [
    ("setModeClearsOptions=true,false", {"setModeClearsOptions": [True, False]}),
    ("invalidOptionError=badParam,unspecified", {"invalidOptionError": ["badParam", "unspecified"]}),
    ("callkitActionTimeout=0.5,10", {"callkitActionTimeout": [0.5, 10.0]}),
])
def test_switch_values_take_the_type_of_the_default(item, expected):
    assert parse_switches([item]) == expected


@pytest.mark.parametrize("item", ["nosuchSwitch=a", "setModeClearsOptions=maybe", "setModeClearsOptions",
                                  "callkitActionTimeout=soon"])
def test_bad_switches_are_refused(item):
    with pytest.raises(MatrixError, match="--switch"):
        parse_switches([item])


def test_too_many_cases_are_refused_before_any_runs():
    scenario = _scenarios(QUIRK)[0]
    with pytest.raises(MatrixError, match="more than 5 cases"):
        expand([scenario], CATALOG, max_cases=5)


def _run(path, **selection):
    return run_matrix(job_from_paths([path], **selection), workers=1)


def test_the_ios17_quirk_is_found_for_both_pro_2_variants_on_ios_17_only():
    # The story: AirPods Pro 2 play through the speaker with only allowBluetoothA2DP on iOS 17 (a developer
    # report, scoped to the Pro 2 product ids). Sweeping the iOS 18 scenario over three AirPods and iOS 16-18
    # must find exactly that: both Pro 2 variants, iOS 17 only, speaker instead of A2DP, the quirk named.
    result = _run(QUIRK, models="airpods-pro,airpods-pro-2,airpods-pro-2-usbc", platforms="ios-16.0..ios-18.0")
    ios18 = next(i for i, s in enumerate(result.scenarios) if s.platform == Platform.parse("ios-18.0"))
    found = [f for f in findings(result) if f.scenario == ios18 and f.kind == DIFFERS]
    assert len(found) == 1, [f.summary for f in found]
    f = found[0]
    assert {dict(r.case.models)["pods"] for r in f.cases} == {"airpods-pro-2", "airpods-pro-2-usbc"}
    assert {r.case.platform for r in f.cases} == {"ios-17.0"}
    assert "builtInSpeaker" in f.summary and "bluetoothA2DP" in f.summary
    assert any("ios17" in q for q in f.quirks), f.quirks
    text = as_text(result, CATALOG)
    assert "AirPods Pro (2nd generation, Lightning), AirPods Pro (2nd generation, USB-C) on ios-17.0" in text


def test_ears_on_earbuds_without_ear_detection_are_not_applicable():
    result = _run(EARS, platforms="ios-26.0")
    na = {dict(r.case.models)["pods"] for r in result.results if r.status == NOT_APPLICABLE}
    no_detection = {m.id for m in CATALOG.models() if m.kind.value == "earbuds" and not m.in_ear_detection}
    assert na == no_detection and na  # the catalog has earbuds without ear detection
    assert all("ear detection" in r.reason for r in result.results if r.status == NOT_APPLICABLE)


def test_the_report_is_the_same_bytes_on_one_worker_and_on_two():
    job = job_from_paths([QUIRK], models="earbuds", platforms="ios-16.0..ios-26.0")
    one = run_matrix(job, workers=1)
    two = run_matrix(job, workers=2)
    assert as_json(one, CATALOG) == as_json(two, CATALOG)
    assert as_text(one, CATALOG) == as_text(two, CATALOG)
    assert json.loads(as_json(one, CATALOG))["cases"] == len(one.cases) > 50


_COLLECTOR_PROBE = """
import gc, sys
from routesim.routes.scenario.matrix_run import job_from_paths, run_matrix
if sys.argv[2] == "frozen":
    gc.freeze()
before = gc.get_freeze_count()
run_matrix(job_from_paths([sys.argv[1]], models="earbuds", platforms="ios-17.0..ios-18.0"), workers=2)
print(before, gc.get_freeze_count())
"""


@pytest.mark.parametrize("frozen_before", [False, True])
def test_a_parallel_matrix_leaves_the_callers_collector_as_it_found_it(frozen_before):
    # The parent's heap is frozen while forked workers run; afterwards a library caller's collector must see
    # its objects again, and a process that had frozen its own (routesim as the program) keeps them frozen.
    # In a process of its own: whatever runs this test (a mutation run's forked worker) may have frozen some.
    probe = subprocess.run([sys.executable, "-c", _COLLECTOR_PROBE, str(QUIRK), "frozen" if frozen_before else "-"],
                           capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=120)
    assert probe.returncode == 0, probe.stderr
    before, after = map(int, probe.stdout.split())
    if frozen_before:
        assert after >= before > 0
    else:
        assert before == after == 0


def _cli(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "routesim", *args], capture_output=True, text=True, cwd=cwd,
                          stdin=subprocess.DEVNULL, timeout=120)


@pytest.mark.parametrize("args,needle", [
    (["--platforms", "ios-26..ios-16"], "--platforms"),
    (["--switch", "nope=1"], "--switch"),
    (["--max-cases", "3"], "more than 3 cases"),
    (["--models", "airpods-pro-9"], "unknown model id"),
    (["--html", "report.txt"], "ending in .html"),
])
def test_matrix_bad_input_is_one_line_and_exit_2(args, needle):
    proc = _cli("matrix", str(QUIRK), *args)
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and needle in lines[0] and "Traceback" not in proc.stderr


def test_matrix_writes_an_offline_html_report_and_a_png(tmp_path):
    html, png = tmp_path / "m.html", tmp_path / "m.png"
    proc = _cli("matrix", str(QUIRK), "--models", "airpods-pro,airpods-pro-2", "--platforms", "ios-16.0..ios-18.0",
                "--html", str(html), "--png", str(png))
    assert proc.returncode == 1, proc.stderr  # the quirk makes cases differ
    page = html.read_text()
    assert "<script" not in page and "http://" not in page and "https://" not in page
    assert page.count("data:image/png;base64,") >= 4  # heatmaps and the finding's timeline
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_run_plot_draws_one_timeline_per_document_and_the_same_bytes_twice(tmp_path):
    out = tmp_path / "t.png"
    proc = _cli("run", str(EARS), "--plot", str(out), "-q")
    assert proc.returncode == 0, proc.stderr
    first = [(tmp_path / f"t-{n}.png").read_bytes() for n in (1, 2)]
    _cli("run", str(EARS), "--plot", str(out), "-q")
    assert [(tmp_path / f"t-{n}.png").read_bytes() for n in (1, 2)] == first
    page = tmp_path / "t.html"
    assert _cli("run", str(EARS), "--plot", str(page), "-q").returncode == 0
    assert page.read_text().count("<img") == 2 and "<script" not in page.read_text()


def test_run_plot_refuses_an_unknown_picture_type(tmp_path):
    proc = _cli("run", str(EARS), "--plot", str(tmp_path / "t.gif"))
    assert proc.returncode == 2 and ".png, .svg or .html" in proc.stderr


def test_a_dask_cluster_gives_the_identical_report():
    distributed = pytest.importorskip("distributed", reason="the cluster extra (pip install 'routesim[cluster]') "
                                      "is installed by ./scripts/test; without it this test cannot run")
    job = job_from_paths([QUIRK], models="earbuds", platforms="ios-16.0..ios-26.0")
    local = run_matrix(job, workers=1)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                                  silence_logs=40) as cluster:
        remote = run_matrix(job, cluster=cluster.scheduler_address)
    assert remote.workers == 2
    assert as_json(remote, CATALOG) == as_json(local, CATALOG)
    assert as_text(remote, CATALOG) == as_text(local, CATALOG)


def test_an_unreachable_cluster_is_a_matrix_error(monkeypatch):
    pytest.importorskip("distributed")
    from routesim.routes.scenario import matrix_cluster

    monkeypatch.setattr(matrix_cluster, "CONNECT_TIMEOUT", "1s")  # nothing listens on port 9: fail fast
    job = job_from_paths([QUIRK], models="airpods-pro", platforms="ios-26.0")
    with pytest.raises(MatrixError, match="no Dask scheduler answers"):
        run_matrix(job, cluster="tcp://127.0.0.1:9")
