"""Every citation a user can read names a public source listed in docs/sources.md.

Checked: what `routesim rules`, `routesim explain` (over the bundled library) and `routesim models show ID`
(every catalog id) print, the advert decoder's field sources, every ``source:`` in fixtures/models and
fixtures/quirks, and the bracketed citations in the bundled scenarios' descriptions. The citation form is the one docs/sources.md describes;
a part that does not parse, or a key that is not listed, fails the test with the text that carries it.
A second test keeps the team's internal document names out of every tracked file.
"""
from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
import yaml

from routesim.profiles.catalog import load_catalog
from routesim.routes.cli.main import main

ROOT = Path(__file__).resolve().parent.parent
SOURCES_MD = ROOT / "docs" / "sources.md"
TAGS = ("DOC", "DTS", "DEV", "INF")
LOCATOR = r"§[\w.\-–]+"


def listed_keys() -> set[str]:
    text = SOURCES_MD.read_text(encoding="utf-8")
    body = text.split("\n## Sources\n", 1)[1]
    return set(re.findall(r"\*\*([^*\s]+)\*\*", body))


def _split_top(text: str, sep: str) -> list[str]:
    """Split on ``sep`` outside parentheses and double quotes."""
    parts, depth, cur, i, quoted = [], 0, [], 0, False
    while i < len(text):
        ch = text[i]
        if ch == '"':
            quoted = not quoted
        elif quoted:
            pass
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
            if depth < 0:
                raise ValueError(f"unbalanced ')' in {text!r}")
        if depth == 0 and not quoted and text.startswith(sep, i):
            parts.append("".join(cur))
            cur, i = [], i + len(sep)
            continue
        cur.append(ch)
        i += 1
    if depth:
        raise ValueError(f"unbalanced '(' in {text!r}")
    parts.append("".join(cur))
    return parts


def _drop_parens(text: str) -> tuple[str, bool]:
    """The text without its notes: (parenthesised) and "quoted" segments."""
    out, depth, had, quoted = [], 0, False, False
    for ch in text:
        if ch == '"':
            quoted, had = not quoted, True
        elif quoted:
            pass
        elif ch == "(":
            depth, had = depth + 1, True
        elif ch == ")":
            depth -= 1
        elif depth == 0:
            out.append(ch)
    return "".join(out), had


def citation_keys(text: str, tag: str | None = None) -> list[str]:
    """The keys of one citation ("[DOC] H-Types (note); QA1754"), or ValueError saying what is wrong."""
    keys: list[str] = []
    for part in _split_top(text.strip(), ";"):
        part = part.strip()
        m = re.match(r"\[(DOC|DTS|DEV|INF)\]\s*|(DOC|DTS|DEV|INF)(?=[:\s]|$)\s*", part)
        if m:
            tag, part = m.group(1) or m.group(2), part[m.end():]
        head = _split_top(part, ": ")[0]
        names, had_note = _drop_parens(head)
        if not names.strip():
            if tag == "INF":
                continue  # [INF] alone, or [INF] (our own choice, explained in the note)
            raise ValueError(f"part {part!r} names no source key")
        pieces = [re.fullmatch(rf"\s*(\S+)((?:\s+{LOCATOR})*)\s*", p) for p in _split_top(names, ",")]
        if tag == "INF" and not pieces[0]:
            continue  # [INF] a sentence giving routesim's own reasoning
        for piece, km in zip(_split_top(names, ","), pieces):
            if not km:
                raise ValueError(f"{piece.strip()!r} is not a key (followed by a § locator or a note in parentheses)")
            keys.append(km.group(1))
    return keys


def prose_citations(text: str) -> list[str]:
    """Bracketed citations in prose: "[DOC H-Types: note]" or a bare "[INF]"."""
    found, text = [], re.sub(r"\s+", " ", text)
    for m in re.finditer(r"\[(DOC|DTS|DEV|INF)(?=[^A-Za-z])([^\[\]]*)\]", text):
        tag, body = m.group(1), m.group(2)
        if not body:
            if tag != "INF":
                raise ValueError(f"{m.group(0)} names no source key")
            continue  # [INF]: routesim's own modelling choice
        if not (body.startswith(" ") or (tag == "INF" and body.startswith(": "))):
            raise ValueError(f"{m.group(0)}: write the tag, a space, then the keys")
        found.append(f"[{tag}]{body}")
    return found


def check(citations: list[tuple[str, str]], known: set[str]) -> list[str]:
    problems = []
    for where, cite in citations:
        try:
            keys = citation_keys(cite)
        except ValueError as e:
            problems.append(f"{where}: {e}\n    in: {cite}")
            continue
        problems += [f"{where}: key {k!r} is not in docs/sources.md\n    in: {cite}" for k in keys if k not in known]
    return problems


# --- the parser itself: the form must be strict enough to catch an unknown or malformed key -------------

@pytest.mark.parametrize("cite, keys", [
    ("[DOC] H-Types", ["H-Types"]),
    ("[DOC] H-Types (HFP-only devices, see §4); QA1754", ["H-Types", "QA1754"]),
    ("[DOC] Doc-override, Doc-PortOverride.speaker", ["Doc-override", "Doc-PortOverride.speaker"]),
    ("[DEV] forum-715488 (scenarios 2-3), gh:opentok/CallKit#20", ["forum-715488", "gh:opentok/CallKit#20"]),
    ("[DOC] H-Errors: cannotInterruptOthers, fix with mixWithOthers; [DEV] gh:ryanheise/audio_session#136",
     ["H-Errors", "gh:ryanheise/audio_session#136"]),
    ("[DOC] H-Types §3; [INF] (recency stack)", ["H-Types"]),
    ("[DEV] librepods (blemanager.cpp) (confidence: single developer report)", ["librepods"]),
    ("[INF] no microphone, sensors, case or battery; BlueZ-UUIDs", ["BlueZ-UUIDs"]),
])
def test_citation_parses(cite, keys):
    assert citation_keys(cite) == keys


@pytest.mark.parametrize("cite", [
    "[DOC] the header says so",            # prose where a key belongs
    "[DOC] H-Types; recency stack [INF]",  # a tag buried in a note
    "[DEV] (a forum report)",              # DOC/DTS/DEV must name a key
    "[DOC] H-Types (unclosed",
    "[INF] H-Types, no sensors",           # once a part starts with a key, every piece is a key
])
def test_malformed_citation_is_refused(cite):
    with pytest.raises(ValueError):
        citation_keys(cite)


def test_unknown_key_is_reported():
    known = listed_keys()
    assert "H-Types" in known and "forum-745968" in known
    assert check([("x", "[DOC] H-Types; forum-999999")], known) == [
        "x: key 'forum-999999' is not in docs/sources.md\n    in: [DOC] H-Types; forum-999999"]


@pytest.mark.parametrize("prose, found", [
    ("Rests on [DOC H-Types: voiceChat implies HFP], [INF].", ["[DOC] H-Types: voiceChat implies HFP"]),
    ("a list [1, 2] is not a citation", []),
    ("[INF: a recency stack] and [DEV forum-745968]", ["[INF]: a recency stack", "[DEV] forum-745968"]),
])
def test_prose_citations(prose, found):
    assert prose_citations(prose) == found


@pytest.mark.parametrize("prose", ["[DOC]", "[DEV/INF]", "[DOC:H-Types]"])
def test_prose_citation_without_key_is_refused(prose):
    with pytest.raises(ValueError):
        prose_citations(prose)


# --- what the commands print ----------------------------------------------------------------------------

def run_cli(capsys, *args) -> str:
    main(list(args))
    return capsys.readouterr().out


def test_rules_cite_listed_keys(capsys):
    out = run_cli(capsys, "rules").splitlines()
    cites = []
    for line, nxt in zip(out, out[1:]):
        m = re.match(r"(\S+)\s+\[(DOC|DTS|DEV|INF)\]\s", line)
        if m:
            cites.append((f"rule {m.group(1)}", f"[{m.group(2)}] {nxt.strip()}"))
    assert len(cites) > 100
    assert check(cites, listed_keys()) == []


TAGGED_LINE = re.compile(r"(?:^|\s)(\[(?:DOC|DTS|DEV|INF)\] .*)$")


def _printed_citations(where: str, out: str) -> list[tuple[str, str]]:
    return [(where, m.group(1)) for line in out.splitlines() if (m := TAGGED_LINE.search(line))]


def test_explain_cites_listed_keys(capsys):
    out = run_cli(capsys, "explain", str(ROOT / "fixtures" / "scenarios"))
    cites = _printed_citations("routesim explain", out)
    assert len(cites) > 1000
    assert check(sorted(set(cites)), listed_keys()) == []


def test_models_show_cites_listed_keys(capsys):
    ids = load_catalog().ids()
    cites = []
    for model_id in ids:
        cites += _printed_citations(f"routesim models show {model_id}", run_cli(capsys, "models", "show", model_id))
    assert len(cites) > 20 * len(ids) // 2
    assert check(cites, listed_keys()) == []


def test_advert_layout_cites_listed_keys():
    from routesim.bt.adverts.decode import CHOICES, LAYOUT
    cites = [(f"advert field {b.name}", str(b.source)) for b in LAYOUT]
    cites += [(f"advert choice {k}", str(v)) for k, v in CHOICES.items()]
    assert check(cites, listed_keys()) == []


# --- what the fixtures say ------------------------------------------------------------------------------

def _sources_in(node, path: str):
    if isinstance(node, dict):
        for k, v in node.items():
            if k == "source" and isinstance(v, str):
                yield path, v
            else:
                yield from _sources_in(v, f"{path}.{k}")
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from _sources_in(v, f"{path}[{i}]")


@pytest.mark.parametrize("folder", ["models", "quirks"])
def test_fixture_sources_cite_listed_keys(folder):
    files = sorted((ROOT / "fixtures" / folder).glob("*.yaml"))
    cites = [(f"{f.relative_to(ROOT)}:{p}", s) for f in files for p, s in _sources_in(yaml.safe_load(f.read_text()), "")]
    assert cites
    assert check(cites, listed_keys()) == []


def test_scenario_descriptions_cite_listed_keys():
    cites, problems = [], []
    files = sorted((ROOT / "fixtures" / "scenarios").rglob("*.scenario.yaml"))
    for f in files:
        for doc in yaml.safe_load_all(f.read_text()):
            desc = (doc or {}).get("description") or ""
            where = f"{f.relative_to(ROOT)} ({doc.get('name', '?')})"
            try:
                cites += [(where, c) for c in prose_citations(desc)]
            except ValueError as e:
                problems.append(f"{where}: {e}")
    assert len(cites) > len(files)
    assert problems + check(cites, listed_keys()) == []


# --- the team's internal documents stay out of the repository ------------------------------------------

FORBIDDEN = r"ios-audio-session|bluez-and-airpods|prior-art|testing-without-hardware|pipewire-on-fake|\.\./shared|spec/|ARCHITECTURE"


def _repository_files() -> list[Path]:
    """Tracked files (git ls-files), or every file outside build and tool folders when git cannot say."""
    res = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, text=True)
    if res.returncode == 0 and res.stdout:
        return [ROOT / p for p in res.stdout.split("\0") if p]
    skip = {".git", ".venv", "build", "dist", "__pycache__", ".pytest_cache", ".mutmut-cache", "mutants"}
    return [p for p in ROOT.rglob("*") if p.is_file()
            and not any(part in skip or part.endswith(".egg-info") for part in p.relative_to(ROOT).parts)]


def test_no_file_names_internal_documents():
    this = Path(__file__).resolve()
    pattern = re.compile(FORBIDDEN)
    hits = []
    for path in _repository_files():
        if path.resolve() == this or not path.is_file():
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except (UnicodeDecodeError, OSError):
            continue
        hits += [f"{path.relative_to(ROOT)}:{n}: {line.strip()}"
                 for n, line in enumerate(text.splitlines(), 1) if pattern.search(line)]
    assert hits == []
