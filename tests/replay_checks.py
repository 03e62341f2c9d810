"""What every recording must survive, shared by the fake-only record tests (tests/test_record_replay.py)
and the real-audio-stack ones (tests/pipewire/test_record_on_the_audio_stack.py): `routesim replay`
passes and shows the drift table, and a changed golden fact fails with a message naming the expect's
line and the step it follows, until `--update` restores the file."""
from __future__ import annotations

import importlib.machinery
import importlib.util
from pathlib import Path
from types import ModuleType

from routesim.routes.cli.main import main

ROOT = Path(__file__).resolve().parents[1]


def record_fixtures() -> ModuleType:
    """scripts/record-fixtures as a module (its stories and ``record()``: `routesim record` in its own
    process against a fake bluetoothd, optionally with the real audio stack)."""
    loader = importlib.machinery.SourceFileLoader("record_fixtures", str(ROOT / "scripts" / "record-fixtures"))
    spec = importlib.util.spec_from_loader("record_fixtures", loader)
    assert spec is not None
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


def replay(capsys, *args) -> tuple[int, str]:
    code = main(["replay", *map(str, args)])
    return code, capsys.readouterr().out


def drift_rows(out: str) -> list[list[str]]:
    """The drift table's rows as [line, accessory, fact, rig, model]."""
    lines = out.splitlines()
    head = next(i for i, line in enumerate(lines) if line.split() == ["line", "accessory", "fact", "rig", "model"])
    return [line.split() for line in lines[head + 1:] if line.startswith("    L")]


def assert_replays_with_drift_table(capsys, path: Path) -> list[list[str]]:
    """Replay passes (exit 0, PASS) and shows the drift table; returns its rows."""
    code, out = replay(capsys, path)
    assert code == 0, out
    assert out.startswith("PASS"), out
    assert "drift:" in out and "line  accessory      fact" in out, out
    return drift_rows(out)


def assert_changed_golden_fact_fails(capsys, path: Path, edited: Path, before: str, after: str, named: str) -> None:
    """With the first ``before`` in ``path`` replaced by ``after`` (a golden fact), replay fails at the
    expect holding it, naming its line and ``named`` (the step it follows, or the key); `--update` then
    writes back exactly the recorded file."""
    original = path.read_text(encoding="utf-8")
    assert before in original, f"{before!r} is not in {path}"
    edited.write_text(original.replace(before, after, 1), encoding="utf-8")
    line = original[: original.index(before)].count("\n") + 1
    expect_line = next(i for i in range(line, 0, -1) if original.split("\n")[i - 1].strip() == "- expect:")

    code, out = replay(capsys, edited)
    assert code == 1 and out.startswith("REGRESSION"), out
    message = next(l for l in out.splitlines() if l.startswith(f"  {edited}:"))
    assert message.startswith(f"  {edited}:{expect_line}: ") and named in message, message

    code, out = replay(capsys, "--update", edited)
    assert code == 0 and "updated the golden view" in out, out
    assert edited.read_text(encoding="utf-8") == original
