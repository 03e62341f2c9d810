"""Mutation testing with mutmut, over a tree laid out the way routesim is imported.

mutmut 3 copies the source folders into ``mutants/``, rewrites every function into a trampoline plus its
mutants, and names each mutant after the file's path (``routes/phone/config.py`` -> ``routes.phone.config``).
The trampoline, when tests run, reports the module it was imported as (``routesim.routes.phone.config``).
In the checkout these differ, because setuptools maps the folders routes/, bt/, profiles/ and fixtures/
onto ``routesim.*`` (``[tool.setuptools.package-dir]``); mutmut would then tie no test to any mutant.

So this script builds ``.mutation/`` (ignored by git): ``src/routesim/`` mirrors the installed package
(the package-dir mapping read from pyproject.toml), beside a copy of tests/ and conftest.py and a
pyproject.toml holding the pytest settings and the ``[tool.mutmut]`` selection. mutmut puts
``mutants/src`` first on ``sys.path``, so ``import routesim`` finds the mutated copy before the editable
install's finder (which setuptools appends after the path finder). Then it runs ``mutmut run`` there and
prints, per module, the mutants tried, killed, timed out and surviving (``no tests`` counts as surviving).

Usage: scripts/mutation [--keep [--recheck-survivors]] [--max-children N] [MODULE.py ...]
       (default: the modules in MODULES)
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tomllib
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / ".mutation"

# The modules the mutation score is kept for (repository paths): the phone model, the expectation
# checker and the advertisement decoder.
MODULES = [
    "routes/phone/session.py",
    "routes/phone/config.py",
    "routes/phone/policy.py",
    "routes/phone/rules.py",
    "routes/phone/accessory_events.py",
    "routes/phone/others.py",
    "routes/phone/callkit.py",
    "routes/phone/cellular.py",
    "routes/scenario/expectations.py",
    "bt/adverts/decode.py",
]

# Tests about the checkout itself (its folders, its packaging, its import graph, timing benchmarks)
# rather than about behaviour: they kill no mutant and need the checkout's layout.
NOT_FOR_MUTANTS = [
    "tests/test_packaging.py",
    "tests/test_architecture.py",
    "tests/test_mutation_layout.py",
    # The real-stack suites and the fuzz harness: BlueZ over D-Bus, PipeWire and random inputs reach the
    # model only through the same calls the model tests make, and cost seconds per test; each surviving
    # mutant re-runs every test that reaches it.
    "tests/bluez",
    "tests/pipewire",
    "tests/fuzz",
    "examples/test_fake_bluetooth_rig.py",  # the rig examples: the fake bluetoothd on a private D-Bus
    "examples/test_rig_airpods_call.py",
    # Records stories on the fake bluetoothd through a `routesim record` subprocess (the installed code,
    # not the mutant); the bundled recordings it checks replay in-process from fixtures/recordings anyway.
    "tests/test_record_replay.py",
    # Reads the checkout's pyproject.toml (packaging, not behaviour).
    "tests/test_python_api.py::test_the_package_is_marked_typed",
]

# Appended to the staged root conftest: the plugin sits beside it (and beside mutmut's copy of it).
SELECT_PLUGIN = """

import sys as _sys
from pathlib import Path as _Path

_sys.path.insert(0, str(_Path(__file__).parent))
pytest_plugins = ["mutation_select"]
"""

STATUS = {1: "killed", 3: "killed", 0: "survived", 5: "no tests", 33: "no tests", 34: "skipped",
          36: "timeout", 24: "timeout", -24: "timeout", 152: "timeout", 255: "timeout", 37: "type check",
          None: "not checked"}


def say(msg: str) -> None:
    print(f"mutation: {msg}", file=sys.stderr, flush=True)


def package_dirs(pyproject: dict) -> dict[str, Path]:
    """Import name -> repository folder, from the setuptools package-dir mapping."""
    return {name: ROOT / folder for name, folder in pyproject["tool"]["setuptools"]["package-dir"].items()}


def installed_path(repo_path: str, dirs: dict[str, Path]) -> Path:
    """``routes/phone/config.py`` -> ``src/routesim/routes/phone/config.py`` (where it is imported from)."""
    full = (ROOT / repo_path).resolve()
    best = max((folder for folder in dirs.values() if full.is_relative_to(folder)), key=lambda f: len(f.parts),
               default=None)
    if best is None or not full.exists():
        raise SystemExit(f"mutation: {repo_path}: not inside the package folders "
                         f"({', '.join(str(f.relative_to(ROOT)) for f in dirs.values())})")
    name = next(n for n, f in dirs.items() if f == best)
    return Path("src", *name.split("."), full.relative_to(best))


def stage(pyproject: dict, modules: list[str]) -> list[Path]:
    dirs = package_dirs(pyproject)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for name, folder in sorted(dirs.items()):  # routesim first, then its mapped subpackages
        shutil.copytree(folder, WORK / "src" / Path(*name.split(".")), ignore=ignore, dirs_exist_ok=True)
    shutil.copytree(ROOT / "tests", WORK / "tests", ignore=ignore, dirs_exist_ok=True)
    # The root conftest, plus the plugin that runs a mutant's tests by file, fastest first.
    shutil.copy2(ROOT / "scripts" / "mutation_select.py", WORK / "mutation_select.py")
    (WORK / "conftest.py").write_text((ROOT / "conftest.py").read_text() + SELECT_PLUGIN)
    # Some tests open bundled files by their checkout path (fixtures/scenarios/...): a data copy there too.
    shutil.copytree(ROOT / "fixtures", WORK / "fixtures", ignore=shutil.ignore_patterns("*.py", "__pycache__"),
                    dirs_exist_ok=True)
    # docs/sources.md: the citation tests check the scenarios' and the rules' source keys against it.
    shutil.copytree(ROOT / "docs", WORK / "docs", dirs_exist_ok=True)
    targets = [installed_path(m, dirs) for m in modules]

    pytest_ini = dict(pyproject["tool"]["pytest"]["ini_options"])
    testpaths = []
    for p in pytest_ini["testpaths"]:
        if p.startswith("tests") or not any((ROOT / p).resolve().is_relative_to(f) for f in dirs.values()):
            if p != "tests":  # tests/ is copied above; other test folders (examples/) keep their path
                shutil.copytree(ROOT / p, WORK / p, ignore=ignore, dirs_exist_ok=True)
            testpaths.append(p)
        else:
            testpaths.append(str(installed_path(p, dirs)))
    pytest_ini["testpaths"] = testpaths
    ignores = [f"--deselect={p}" if "::" in p else f"--ignore={p}" for p in NOT_FOR_MUTANTS]
    lines = ["[tool.pytest.ini_options]"]
    lines += [f"{k} = {json.dumps(v)}" for k, v in pytest_ini.items()]
    lines += ["", "[tool.mutmut]",
              'source_paths = ["src/routesim"]',
              f"also_copy = {json.dumps(['conftest.py', 'mutation_select.py', 'fixtures', 'docs', *(p for p in testpaths if p != 'tests' and p in pytest_ini['testpaths'] and not p.startswith('src/'))])}",
              f"only_mutate = {json.dumps([str(t) for t in targets])}",
              f"pytest_add_cli_args = {json.dumps(['-q', '-p', 'no:cacheprovider', *ignores])}",
              "use_git_change_detection = false",
              # mutmut stops a mutant after (estimate + constant) x multiplier x 2 CPU seconds, the estimate
              # being its tests' run time without collection or set-up, so it runs low. Its default
              # multiplier (15) let a looping mutant hold a worker for over four minutes; 3 (with 5 s)
              # stopped mutants that were only slow, and a timeout counts as caught, so it must be a loop.
              "timeout_multiplier = 8.0",
              "timeout_constant = 10.0",
              ""]
    (WORK / "pyproject.toml").write_text("\n".join(lines))
    return targets


def refresh_kept(recheck_survivors: bool) -> None:
    """Before a ``--keep`` run: mutmut copies a source file into ``mutants/`` only when no copy is there, and
    regenerates a mutated module only when its copy is older, so a kept tree would run the code and the
    data (scenarios, catalog) of the earlier run. Remove everything there but the recorded results: mutmut
    then copies and mutates afresh, and keeps a mutant's result only where its function is unchanged (it
    compares a hash per function). The stats (which test reaches which function) are collected again, so
    new tests count. With ``recheck_survivors``, survivors and mutants no test reached are run again."""
    kept = WORK / "mutants" / "src"
    if kept.exists():
        for path in list(kept.rglob("*")):
            if path.is_file() and path.suffix != ".meta":
                path.unlink()  # folders stay: mutmut copies into them
    (WORK / "mutants" / "mutmut-stats.json").unlink(missing_ok=True)
    if not recheck_survivors:
        return
    for meta in kept.rglob("*.meta"):
        data = json.loads(meta.read_text())
        again = [k for k, code in data["exit_code_by_key"].items() if STATUS.get(code) in ("survived", "no tests")]
        for key in again:
            data["exit_code_by_key"][key] = None
        meta.write_text(json.dumps(data))
        if again:
            say(f"{meta.relative_to(kept).with_suffix('')}: {len(again)} survivors to run again")


def summarise(targets: list[Path], repo_paths: list[str]) -> int:
    """One line per module from mutmut's per-file results; returns 0 when every mutant was checked."""
    print(f"\n{'module':40} {'mutants':>7} {'killed':>7} {'timeout':>7} {'survived':>8} {'no tests':>8}  killed %")
    unchecked = 0
    for target, repo_path in zip(targets, repo_paths):
        meta = WORK / "mutants" / target.with_suffix(".py.meta")
        codes = json.loads(meta.read_text())["exit_code_by_key"] if meta.exists() else {}
        counts = Counter(STATUS.get(code, "suspicious") for code in codes.values())
        unchecked += counts["not checked"]
        total = sum(counts.values())
        caught = counts["killed"] + counts["timeout"] + counts["type check"]
        pct = f"{100 * caught / total:6.1f}" if total else "     -"
        print(f"{repo_path:40} {total:7} {counts['killed']:7} {counts['timeout']:7} {counts['survived']:8} "
              f"{counts['no tests']:8}  {pct}")
    print("\nsurvivors: .venv/bin/mutmut results (inside .mutation/), and mutmut show NAME for the diff")
    top_killers()
    return 1 if unchecked else 0


def top_killers(shown: int = 3) -> None:
    """The tests that killed the most mutants, and across how many functions. A test that fails in the
    harness whatever the mutant counts every mutant it meets as killed: one asserting that nothing in its
    process was frozen did so in mutmut's forked workers and "killed" 279 mutants of unrelated functions."""
    path = WORK / "mutants" / "mutation-killers.txt"
    if not path.exists():
        return
    kills: Counter[str] = Counter()
    functions: dict[str, set[str]] = {}
    for line in path.read_text().splitlines():
        test, _, mutant = line.partition("\t")
        kills[test] += 1
        functions.setdefault(test, set()).add(mutant.rsplit("__mutmut_", 1)[0])
    print("\nmost kills (a test that kills across many unrelated functions may fail whatever the mutant):")
    for test, count in kills.most_common(shown):
        print(f"  {count:6} in {len(functions[test]):4} functions  {test}")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="scripts/mutation", description=__doc__.split("\n\n")[0])
    parser.add_argument("modules", nargs="*", help="repository paths of the modules to mutate "
                        "(default: the phone model, the expectation checker and the advert decoder)")
    parser.add_argument("--keep", action="store_true",
                        help="reuse .mutation/ and mutmut's recorded results from the previous run")
    parser.add_argument("--recheck-survivors", action="store_true",
                        help="with --keep: run the survivors again (after writing tests that should kill them)")
    parser.add_argument("--max-children", type=int, default=os.cpu_count() or 2,
                        help="parallel test processes (default: the number of CPUs)")
    args = parser.parse_args(argv)
    modules = args.modules or MODULES
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    if not args.keep and WORK.exists():
        shutil.rmtree(WORK)
    say(f"staging the package as it is imported in {WORK.relative_to(ROOT)}/ ({len(modules)} modules to mutate)")
    targets = stage(pyproject, modules)
    if args.keep:
        refresh_kept(args.recheck_survivors)
    elif args.recheck_survivors:
        parser.error("--recheck-survivors needs --keep (a fresh run checks every mutant anyway)")
    mutmut = Path(sys.executable).with_name("mutmut")
    if not mutmut.exists():
        raise SystemExit("mutation: mutmut is not installed here; install the extra: pip install -e '.[test,mutation]'")
    say("running mutmut (the whole suite once for coverage, then each mutant against the tests that reach it)")
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    code = subprocess.call([str(mutmut), "run", "--max-children", str(args.max_children)], cwd=WORK, env=env)
    if code != 0:
        say(f"mutmut stopped with exit code {code}")
        return code
    return summarise(targets, modules)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
