"""Generators of malformed input: hostile YAML scalars and mutations of valid files (Hypothesis)."""
from __future__ import annotations

import json

from hypothesis import strategies as st

# What users (and fuzzers) have written where a value belongs.
TRAPS = [
    "010", "0x12", "1:30", "0o10", "1_000", "0b101", "1:30.5", "1_0.5", "-010",
    "!!int abc", "!!bool maybe", "!!float ''", "!!str 3", "!!binary aGVsbG8=", "!!timestamp 2001-12-14",
    "!!python/object:os.system x", "!foo 3", "!pri", "!!map {}", "!!seq []", "!!null x",
    ".inf", "-.inf", ".nan", "1e999", "-1e999", "1.0e+300", "-0", "0", "-1", "1e-320",
    "9" * 400, "-" + "9" * 400, '"' + "<" + "9" * 5000 + '"', '">' + "9" * 41 + '"', "9" * 5000,
    "yes", "no", "on", "off", "y", "~", "null", "''", '""', "[]", "{}", "[[[[]]]]", "{a: {b: {c: {}}}}",
    "&a [*a]", "*nowhere", "2001-12-14", "2001-12-14t21:59:43.10-05:00", "=", "<<", "? x",
    '"\\ud800"', '"\\udfff x"', '"\\x00"', '"\\u202e"', '"a\\nb"', "|\n    block", ">", ">1000", "<=16000",
    '"250ms"', '"1.5s"', '"2m"', '"-1s"', '"1h"', '"nan s"', '"1e400s"', '"60s"', "86401", "3600.5",
    "airpods-pro-2", "AA:BB:CC:DD:EE:FF", "builtInSpeaker", "playAndRecord", "[allowBluetoothHFP]",
]


def yaml_text(s: str) -> str:
    """``s`` as a YAML double-quoted scalar (JSON's escapes are YAML's)."""
    return json.dumps(s)


hostile_scalar = st.one_of(
    st.sampled_from(TRAPS),
    st.integers(min_value=-(10 ** 60), max_value=10 ** 60).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.text(max_size=12).map(yaml_text),
    st.text(alphabet="0123456789:_.xob-+eE", min_size=1, max_size=10),
)


@st.composite
def mutated_text(draw, base: str) -> bytes:
    """A valid file with one to three mutations: a value replaced, a line inserted, dropped, duplicated or
    re-indented, the file cut short, or bytes that are not UTF-8."""
    lines = base.splitlines()
    for _ in range(draw(st.integers(1, 3))):
        i = draw(st.integers(0, max(0, len(lines) - 1)))
        line = lines[i] if lines else ""
        how = draw(st.sampled_from(["value", "value", "value", "insert", "drop", "dup", "indent", "cut", "nest"]))
        if how == "value" and ": " in line:
            key = line.rsplit(": ", 1)[0]
            lines[i] = f"{key}: {draw(hostile_scalar)}"
        elif how == "insert":
            indent = len(line) - len(line.lstrip())
            lines.insert(i, " " * indent + draw(st.sampled_from(["- ", "", "x: "])) + draw(hostile_scalar))
        elif how == "drop" and lines:
            lines.pop(i)
        elif how == "dup" and lines:
            lines.insert(i, line)
        elif how == "indent" and lines:
            lines[i] = " " * draw(st.integers(0, 9)) + line.lstrip()
        elif how == "cut":
            lines = lines[: i + 1]
            lines[-1] = lines[-1][: draw(st.integers(0, len(lines[-1])))] if lines else ""
        elif how == "nest" and ": " in line:
            depth = draw(st.integers(1, 2000))
            key = line.rsplit(": ", 1)[0]
            lines[i] = f"{key}: " + draw(st.sampled_from(["[", "{a: "])) * depth
    data = ("\n".join(lines) + "\n").encode("utf-8", "surrogatepass")
    if draw(st.integers(0, 9)) == 0:
        at = draw(st.integers(0, len(data)))
        data = data[:at] + draw(st.binary(min_size=1, max_size=4)) + data[at:]
    return data
