"""Scenario files -> validated, normalised ``Scenario`` objects (docs/scenario-format.md).

Scenario files are untrusted input: parsed by safe composition only (no object construction), every
value checked against the contract, every error a ScenarioError naming file, line, key and the fix.
"""
from __future__ import annotations

import dataclasses
import re
from pathlib import Path
from typing import Any, Collection, Iterable

from yaml.nodes import Node

from routesim.profiles.codecs import HFP_CODECS
from routesim.profiles.platform import DEFAULT_PLATFORM, Platform
from routesim.profiles.quirks import parse_firmware
from routesim.profiles.yaml_lines import FileProblem, decode_utf8, read_bytes_limited

from routesim.routes.phone.contexts import EXTENSION_KINDS
from routesim.routes.phone.vocabulary import CATEGORIES, MODES, ERRORS
from routesim.routes.scenario.limits import MAX_AUDIO_S_PER_FILE, MAX_FILE_BYTES
from routesim.routes.scenario.model import AccessorySpec, AppConfig, BEHAVIOR_DEFAULTS, Hardware, OtherSpec, Scenario, ScenarioError
from routesim.routes.scenario.nodes import compose_documents, is_null, kind, line_of
from routesim.routes.scenario.steps import CATEGORY_OPTIONS, RESERVED_IDS, STEP_LIST
from routesim.routes.scenario.values import (
    At, Bool, Choice, Context, Duration, ListOf, Name, Record, Schema, Text, did_you_mean, opt, pairs, req,
    require_plain_id,
)

SCENARIO_SUFFIX = ".scenario.yaml"
DEFAULT_AUDIO_S = 1.0  # an audio check's duration when it gives none (docs/audio-expectation.md)

# ---------------------------------------------------------------- top-level pieces


class PlatformName(Text):
    expected = "a platform such as ios-17.4 or visionos-2"

    def from_text(self, text: str, at: At, node: Node) -> Platform:
        try:
            return Platform.parse(text)
        except ValueError as e:
            at.fail(str(e), node)


class PlatformSpec(Schema):
    """``ios-17.4``, or (addition) ``{os: visionos-2.0, simulator: true}``: the same name plus where it runs."""

    expected = f"{PlatformName.expected}, or a mapping {{os: PLATFORM, simulator: true|false}}"

    def convert(self, node: Node, at: At) -> Platform:
        if kind(node) != "map":
            return PlatformName().parse(node, at)
        d = PLATFORM_FIELDS.parse(node, at)
        return dataclasses.replace(d["os"], simulator=d["simulator"])


PLATFORM_FIELDS = Record({"os": req(PlatformName()), "simulator": opt(Bool(), False)})


class ModelId(Text):
    expected = "a model id from the catalog (`routesim models` lists them)"

    def from_text(self, text: str, at: At, node: Node) -> str:
        ids = at.ctx.model_ids
        if text not in ids:
            at.fail(f"unknown model {text!r}{did_you_mean(text, ids)} (`routesim models` lists the catalog)", node)
        return text


class Firmware(Text):
    expected = 'a firmware version such as "6.8" or an Apple build such as "7A305"'

    def from_text(self, text: str, at: At, node: Node) -> str:
        try:
            parse_firmware(text)  # the quirk matcher reads it at run time: refuse what it cannot read now
        except ValueError as e:
            at.fail(f"{e}; write {self.expected}", node)
        return text


_ADDRESS = re.compile(r"^[0-9A-Fa-f]{2}(:[0-9A-Fa-f]{2}){5}$")


class Address(Text):
    expected = 'a Bluetooth address "AA:BB:CC:DD:EE:FF"'

    def from_text(self, text: str, at: At, node: Node) -> str:
        if not _ADDRESS.match(text):
            at.fail(f"{text!r} is not {self.expected} (six hex pairs separated by colons)", node)
        return text.upper()


class AccessoryId(Text):
    expected = "an accessory id"

    def from_text(self, text: str, at: At, node: Node) -> str:
        if text in RESERVED_IDS:
            at.fail(f"{text!r} is reserved for a built-in port ({', '.join(RESERVED_IDS)}); choose another id", node)
        require_plain_id("accessory", text, at, node)
        return text


class OtherAppId(Text):
    expected = "an other-app id"

    def from_text(self, text: str, at: At, node: Node) -> str:
        if text == "app":  # the model marks what the scenario's own app interrupted with this name
            at.fail("'app' is reserved for the scenario's own app; choose another id (music, podcast, …)", node)
        require_plain_id("other-app", text, at, node)
        return text


HARDWARE = Record(
    {"device": opt(Choice("iphone", "ipad"), "iphone"),
     "hfpCodecs": opt(ListOf(Choice(*HFP_CODECS), dedupe=True, nonempty=True, post=frozenset), None)},
    shorthand="device", post=lambda d: Hardware(d["device"], d["hfpCodecs"]),
)

def _extension_context(d: dict, at: At, node: Node | None) -> None:
    if d["extension"] and d["context"] == "app":
        at.fail(f"app.extension {d['extension']!r} runs in an app extension, but context says app; "
                "write context: extension or leave context out", node)


APP = Record(
    {"state": opt(Choice("foreground", "background"), "foreground"),
     "backgroundAudio": opt(Bool(), False),
     "context": opt(Choice("app", "extension"), None),  # None: "extension" with an extension kind, else "app"
     "recordPermission": opt(Choice("granted", "denied", "undetermined"), "granted"),
     "nowPlaying": opt(Bool(), False),
     "extension": opt(Choice(*EXTENSION_KINDS), None)},  # addition: the extension point
    check=lambda d, at, node: _extension_context(d, at, node),
    post=lambda d: AppConfig(d["state"], d["backgroundAudio"],
                             d["context"] or ("extension" if d["extension"] else "app"),
                             d["recordPermission"], d["nowPlaying"], d["extension"]),
)

ACCESSORY = Record({"model": req(ModelId()), "name": opt(Text("a name", one_line=True), None),
                    "address": opt(Address(), None), "firmware": opt(Firmware(), None),
                    "connected": opt(Bool(), False)})

OTHER = Record({"category": req(Name(CATEGORIES)), "mode": opt(Name(MODES), "default"),
                "options": opt(CATEGORY_OPTIONS, ()), "playing": opt(Bool(), False)})

BEHAVIOR_SCHEMAS: dict[str, Schema] = {
    "setModeClearsOptions": Bool(),
    "headsetOverridesDefaultToSpeaker": Bool(),
    "invalidOptionError": Name(ERRORS, allowed=("badParam", "unspecified")),
    "callkitManualActivation": Choice("refuse", "lenient"),
    "interruptionEndedAfterAnsweredCall": Bool(),
    "phoneCallsInterruptMixable": Bool(),
    "callkitActionTimeout": Duration(positive=True),
    "callkitDropsDidActivate": Bool(),
    "headOffLeavesRoute": Bool(),
    "visionDeviceEngineInput": Choice("fails", "starts"),
}
assert BEHAVIOR_SCHEMAS.keys() == BEHAVIOR_DEFAULTS.keys()
BEHAVIOR = Record({k: opt(s, BEHAVIOR_DEFAULTS[k]) for k, s in BEHAVIOR_SCHEMAS.items()},
                  expected="a mapping of behaviour switches")

TOP_KEYS = ("name", "description", "platform", "hardware", "app", "accessories", "others", "behavior", "steps")


# ---------------------------------------------------------------- a document


def _entries(node: Node | None, at: At) -> list[tuple[str, Node, Node]]:
    if is_null(node):
        return []
    if kind(node) != "map":
        at.fail("expected a mapping of id to settings", node)
    return pairs(node, at)


def _scenario(root: Node, file: str, index: int, model_ids: Collection[str]) -> Scenario:
    ctx = Context(file=file, model_ids=model_ids)
    top = At(ctx, "", line_of(root))
    if kind(root) != "map":
        top.fail("a scenario is a mapping with keys name, steps, ...")
    given: dict[str, Node] = {}
    for key, key_node, value in pairs(root, top):
        if key not in TOP_KEYS:
            top.fail(f"unknown top-level key {key!r}{did_you_mean(key, TOP_KEYS)} (expected {', '.join(TOP_KEYS)})",
                     key_node)
        given[key] = value
    for key in ("name", "steps"):
        if key not in given:
            top.fail(f"missing required top-level key {key!r}")

    def field(key: str, schema: Schema, default: Any = None) -> Any:
        if key not in given:
            return default
        return schema.parse(given[key], top.key(key, given[key]))

    name = field("name", Text("the scenario name", one_line=True))
    description = field("description", Text("a description"))
    platform = field("platform", PlatformSpec(), DEFAULT_PLATFORM)
    hardware = field("hardware", HARDWARE, Hardware())
    app = field("app", APP, AppConfig())

    where = top.key("accessories", given.get("accessories"))
    addresses: dict[str, str] = {}
    for ident, key_node, value in _entries(given.get("accessories"), where):
        ident = AccessoryId().parse(key_node, where)
        d = ACCESSORY.parse(value, where.key(ident, value))
        if d["address"] is not None:
            if d["address"] in addresses:
                where.key(ident).fail(f"address {d['address']} is also the address of {addresses[d['address']]!r}",
                                      value)
            addresses[d["address"]] = ident
        ctx.accessories[ident] = AccessorySpec(ident, d["model"], d["name"], d["address"], d["firmware"],
                                               d["connected"], line_of(key_node))

    where = top.key("others", given.get("others"))
    for ident, key_node, value in _entries(given.get("others"), where):
        ident = OtherAppId().parse(key_node, where)
        d = OTHER.parse(value, where.key(ident, value))
        ctx.others[ident] = OtherSpec(ident, d["category"], d["mode"], d["options"], d["playing"], line_of(key_node))

    behavior = field("behavior", BEHAVIOR, dict(BEHAVIOR_DEFAULTS))
    steps = field("steps", STEP_LIST)

    return Scenario(name=name, description=description, file=file, line=line_of(root), index=index,
                    platform=platform, hardware=hardware, app=app, accessories=dict(ctx.accessories),
                    others=dict(ctx.others), behavior=behavior, steps=steps)


# ---------------------------------------------------------------- public API


def load_text(text: str, filename: str | Path, model_ids: Collection[str]) -> list[Scenario]:
    """Every scenario (YAML document) in ``text``; raises ScenarioError at the first invalid value."""
    file = str(filename)
    ids = model_ids if isinstance(model_ids, (set, frozenset, dict)) else frozenset(model_ids)
    scenarios = [_scenario(root, file, i, ids) for i, root in enumerate(compose_documents(text, file))]
    if not scenarios:
        raise ScenarioError(file, 1, "the file holds no scenario (expected a mapping with name and steps)")
    _check_audio_budget(scenarios, file)
    return scenarios


def _check_audio_budget(scenarios: list[Scenario], file: str) -> None:
    """Rendering a test signal costs time in proportion to its length: bound the file's total."""
    total = 0.0
    for sc in scenarios:
        for step in sc.steps:
            audio = getattr(step.arg, "audio", None) if step.op == "expect" else None
            if audio is not None:
                total += audio.get("duration") or DEFAULT_AUDIO_S
                if total > MAX_AUDIO_S_PER_FILE:
                    raise ScenarioError(file, step.line, f"expect.audio: the file's audio checks render more than "
                                                         f"{MAX_AUDIO_S_PER_FILE:g} s of signal together; shorten "
                                                         f"their durations or split the file")


def load_path(path: str | Path, model_ids: Collection[str]) -> list[Scenario]:
    """Every scenario in the file. The file is refused by type (FIFOs, devices) and size (bytes, checked
    before reading, at most one byte past the limit read) before any parsing."""
    path = Path(path)
    try:
        text = decode_utf8(read_bytes_limited(path, MAX_FILE_BYTES, "a scenario file"))
    except FileProblem as e:
        raise ScenarioError(str(path), e.line, e.message) from None
    return load_text(text, path, model_ids)


def iter_scenario_files(paths: Iterable[str | Path]) -> list[Path]:
    """Files named as given, and ``*.scenario.yaml`` found recursively under directories; sorted, unique."""
    found: set[Path] = set()
    for p in map(Path, paths):
        if p.is_dir():
            # Everything but directories: a FIFO or device named *.scenario.yaml is listed, so load_path
            # refuses it by its kind (one line) instead of it silently not running.
            found.update(f for f in p.rglob("*" + SCENARIO_SUFFIX) if not f.is_dir())
        else:
            found.add(p)
    return sorted(found)
