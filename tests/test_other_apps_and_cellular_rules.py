"""Other apps' sessions and cellular calls: the rules the bundled scenarios leave open, one row each.

Every ``expect`` is written from the rule it pins (the sources named in the row's comment), not from the
model's output: [DOC ASPG-B, ASPG-Int, H-Types: non-mixable interrupts non-mixable]; [DOC H-Types,
H-Session17: silenceSecondaryAudioHint goes to foreground apps with an active session]; [DEV
twilio-interruptions; DOC H-Session17: a ringing call interrupts, and with
setPrefersNoInterruptionsFromSystemAlerts (iOS 14.5) only answering does]; [INF] the modelling choices
stated in routes/phone/others.py and routes/phone/cellular.py (an interrupted other app resumes when what
interrupted it stops; mixable others are spared when phoneCallsInterruptMixable is false).
"""
from __future__ import annotations

import textwrap

import pytest

from routesim.profiles.catalog import default_catalog
from routesim.routes.scenario.loader import load_text
from routesim.routes.scenario.runner import run_scenario


def _run(text: str):
    catalog = default_catalog()
    (scenario,) = load_text(textwrap.dedent(text), "case.scenario.yaml", catalog.ids())
    return run_scenario(scenario, catalog)


def _passes(text: str):
    res = _run(text)
    assert res.invalid is None, res.invalid
    failed = [(c.key, c.expected, c.actual) for s in res.steps for c in s.checks if not c.ok]
    assert not failed, failed
    return res


def _rules_at(res, op: str) -> list[str]:
    return [r for s in res.steps if s.step.op == op for r in s.rules]


OTHERS_ROWS = {
    # non-mixable podcast interrupts non-mixable music; stopping a third app leaves music interrupted;
    # stopping the podcast resumes music [DOC ASPG-B; INF]
    "resumes-when-its-interrupter-stops": """
        name: t
        others:
          music: {category: playback, playing: true}
          podcast: {category: playback}
          game: {category: ambient}
        steps:
          - others.play: game
          - others.play: podcast
          - expect: {others: {music: interrupted, podcast: playing, game: playing}}
          - others.stop: game
          - expect: {others: {music: interrupted, podcast: playing, game: stopped}}
          - others.stop: podcast
          - expect: {others: {music: playing, podcast: stopped}}
        """,
    # a backgrounded app gets no silenceSecondaryAudioHint when the primary audio stops [DOC H-Types]
    "no-hint-end-in-the-background": """
        name: t
        app: {backgroundAudio: true}
        others:
          music: {category: playback}
        steps:
          - session.setCategory: {category: playback, options: [mixWithOthers]}
          - session.setActive: true
          - app: background
          - others.play: music
          - others.stop: music
          - expect:
              notificationsExclude: [silenceSecondaryAudioHint]
              session: {isActive: true}
        """,
    # an inactive session gets no hint either [DOC H-Types: "foreground apps with an active session"]
    "no-hint-end-when-inactive": """
        name: t
        others:
          music: {category: playback}
        steps:
          - session.setCategory: {category: ambient}
          - others.play: music
          - others.stop: music
          - expect:
              notificationsExclude: [silenceSecondaryAudioHint]
        """,
    # music interrupted by the podcast was not sounding: stopping it is no end of primary audio [DOC H-Types]
    "no-hint-end-for-an-interrupted-other": """
        name: t
        others:
          music: {category: playback, playing: true}
          podcast: {category: playback}
        steps:
          - session.setCategory: {category: ambient}
          - session.setActive: true
          - others.play: podcast
          - expect: {others: {music: interrupted}}
          - others.stop: music
          - expect:
              notificationsExclude: [silenceSecondaryAudioHint]
        """,
    # an interruption stops the app's own player [DOC ASPG-Int: the system pauses the interrupted app's
    # playback]; reactivated after it ends, the app plays nothing until it starts the player again, so its
    # deactivation finds no running I/O and succeeds (no isBusy, [DOC H-Session17, H-Errors])
    "interruption-stops-the-apps-player": """
        name: t
        others:
          music: {category: playback}
        steps:
          - session.setCategory: {category: playback}
          - session.setActive: true
          - player.play
          - others.play: music
          - expect: {session: {isActive: false}}
          - others.stop: music
          - session.setActive: true
          - session.setActive: false
          - expect: {session: {isActive: false}}
        """,
    # the app's activation reaches every sounding app, whichever comes first in the list: an idle app
    # declared before the music changes nothing [DOC ASPG-B: non-mixable interrupts non-mixable]
    "activation-passes-over-an-idle-app": """
        name: t
        others:
          idle: {category: playback}
          music: {category: playback, playing: true}
        steps:
          - session.setCategory: {category: playback}
          - session.setActive: true
          - expect: {others: {idle: stopped, music: interrupted}}
        """,
}


@pytest.mark.parametrize("text", OTHERS_ROWS.values(), ids=OTHERS_ROWS.keys())
def test_other_apps_rule(text):
    _passes(text)


def test_the_hint_end_names_its_rule():
    res = _passes("""
        name: t
        others:
          music: {category: playback}
        steps:
          - session.setCategory: {category: ambient}
          - session.setActive: true
          - others.play: music
          - others.stop: music
          - expect:
              notificationsInclude:
                - silenceSecondaryAudioHint: {type: end}
        """)
    assert "interrupt.secondary-hint" in _rules_at(res, "others.stop")


@pytest.mark.parametrize("steps, words", [
    ("- others.stop: music", ["other app 'music'", "not playing"]),
    ("- cellular.decline: gsm", ["call 'gsm'", "only a ringing call can be declined"]),
    ("- callkit.startCall: voip\n- cellular.decline: voip", ["no cellular call 'voip'"]),
    ("- others.play: music\n- others.play: music", ["other app 'music'", "already playing"]),
    ("- cellular.answer: gsm", ["call 'gsm'", "not ringing", "nothing to answer"]),
    ("- cellular.incoming: two\n- cellular.end: two", ["call 'two'", "only an answered call can end",
                                                        "(a ringing one is declined)"]),
    ("- callkit.startCall: voip\n- cellular.answer: voip", ["no cellular call 'voip'"]),
    ("- callkit.startCall: voip\n- cellular.end: voip", ["no cellular call 'voip'"]),
], ids=["stop-a-stopped-app", "decline-an-ended-call", "decline-a-callkit-call", "play-a-playing-app",
        "answer-an-ended-call", "end-a-ringing-call", "answer-a-callkit-call", "end-a-callkit-call"])
def test_a_step_that_cannot_be_done_says_why(steps, words):
    text = textwrap.dedent("""
        name: t
        others:
          music: {category: playback}
        steps:
          - session.setCategory: {category: playAndRecord}
          - cellular.incoming: gsm
          - cellular.decline: gsm
        """) + textwrap.indent(steps, "  ") + "\n"
    res = _run(text)
    assert res.invalid is not None
    for word in words:
        assert word in res.invalid, res.invalid


ALERT_PREFERENCE = """
    name: t
    platform: {platform}
    steps:
      - session.setCategory: {{category: playback}}
      - session.setPrefersNoInterruptionsFromSystemAlerts: true
      - session.setActive: true
      - cellular.incoming: gsm
      - expect:
          session: {{isActive: {active}}}
    """


@pytest.mark.parametrize("platform, active", [
    ("ios-14.4", "false"), ("ios-14.5", "true"), ("ios-15.0", "true"), ("ios-26.0", "true"),
])
def test_with_the_alert_preference_a_ringing_call_does_not_interrupt(platform, active):
    # setPrefersNoInterruptionsFromSystemAlerts exists from iOS 14.5 [DOC H-Session17]: before, the
    # ringing call interrupts as without it
    _passes(ALERT_PREFERENCE.format(platform=platform, active=active))


CELLULAR_OTHERS = """
    name: t
    behavior: {{phoneCallsInterruptMixable: {spare}}}
    others:
      first: {first}
      second: {{category: playback, playing: true}}
    steps:
      - cellular.incoming: gsm
      - expect: {{others: {{second: interrupted}}}}
    """


@pytest.mark.parametrize("first, spare", [
    ("{category: playback}", "true"),                                   # a stopped app is skipped, not the end
    ("{category: playback, options: [mixWithOthers], playing: true}", "false"),  # a spared app is skipped too
], ids=["after-a-stopped-app", "after-a-spared-mixable-app"])
def test_a_ringing_call_interrupts_every_sounding_other_app(first, spare):
    _passes(CELLULAR_OTHERS.format(first=first, spare=spare))


def test_an_interrupted_other_app_stays_interrupted_by_its_interrupter_after_a_call():
    # music was interrupted by the podcast, not by the call: when the declined call releases the podcast,
    # music stays interrupted [DOC ASPG-B: non-mixable interrupts non-mixable; INF: others resume after a call]
    _passes("""
        name: t
        others:
          music: {category: playback, playing: true}
          podcast: {category: playback}
        steps:
          - others.play: podcast
          - cellular.incoming: gsm
          - expect: {others: {music: interrupted, podcast: interrupted}}
          - cellular.decline: gsm
          - expect: {others: {music: interrupted, podcast: playing}}
        """)


# scenario steps -> (step op, rules it must fire, rules it must not fire)
RULE_ROWS = {
    "ducking-other-with-the-app-inactive": ("""
        others:
          nav: {category: playback, options: [duckOthers]}
        steps:
          - session.setCategory: {category: playback}
          - others.play: nav
        """, "others.play", [], ["activate.ducks-others"]),
    "ducking-other-with-the-app-active": ("""
        others:
          nav: {category: playback, options: [duckOthers]}
        steps:
          - session.setCategory: {category: playback, options: [mixWithOthers]}
          - session.setActive: true
          - others.play: nav
        """, "others.play", ["activate.ducks-others"], []),
    "primary-audio-over-a-mixable-app": ("""
        others:
          music: {category: playback}
        steps:
          - session.setCategory: {category: ambient}
          - session.setActive: true
          - others.play: music
        """, "others.play", ["interrupt.mixable-not-interrupted", "interrupt.secondary-hint"], ["interrupt.began"]),
    # a session that never set a category (soloAmbient) and never overrode the output: an interruption ends
    # no override [DOC QA1754: only an override in place is ended by an interruption]
    "interruption-in-the-default-category-ends-no-override": ("""
        others:
          music: {category: playback}
        steps:
          - session.setActive: true
          - others.play: music
        """, "others.play", ["interrupt.began"], ["route.override-cleared"]),
    # a mixable session activating beside a playing non-mixable app leaves it playing and is not interrupted
    # (the rule); beside a mixable app there is nothing to say [DOC ASPG-B, ASPG-Int; H-Types: ambient mixes]
    "mixable-activation-beside-a-non-mixable-app": ("""
        others:
          music: {category: playback, playing: true}
        steps:
          - session.setCategory: {category: ambient}
          - session.setActive: true
        """, "session.setActive", ["interrupt.mixable-not-interrupted"], ["activate.interrupts-non-mixable"]),
    "mixable-activation-beside-a-mixable-app": ("""
        others:
          game: {category: ambient, playing: true}
        steps:
          - session.setCategory: {category: ambient}
          - session.setActive: true
        """, "session.setActive", [], ["interrupt.mixable-not-interrupted", "activate.interrupts-non-mixable"]),
    # a non-mixable activation interrupts a spoken-audio app like any other non-mixable one; the
    # spoken-audio rule is for a mixable session with interruptSpokenAudioAndMixWithOthers [DOC H-Types]
    "non-mixable-activation-over-spoken-audio": ("""
        others:
          podcast: {category: playback, mode: spokenAudio, playing: true}
        steps:
          - session.setCategory: {category: playback}
          - session.setActive: true
        """, "session.setActive", ["activate.interrupts-non-mixable"], ["activate.interrupt-spoken"]),
}


@pytest.mark.parametrize("body, op, fired, not_fired", RULE_ROWS.values(), ids=RULE_ROWS.keys())
def test_the_rules_a_step_fires(body, op, fired, not_fired):
    # what explain shows for the step [DOC H-Types: duckOthers ducks others while the session is active;
    # ambient is mixable: not interrupted, hinted to silence secondary audio]
    rules = _rules_at(_passes("name: t\n" + textwrap.dedent(body)), op)
    assert set(fired) <= set(rules) and not set(not_fired) & set(rules), rules


# scenario steps -> (step op, each notification the step posts with the rule explain shows for it).
# [DOC ASPG-B, H-Types]: a non-mixable app's playback interrupts the active, non-mixable session (began);
# when that app stops, the interruption ends with shouldResume; an app playing or stopping non-mixable
# audio beside a mixable session in the foreground gets the secondary-audio hint instead.
NOTE_RULE_ROWS = {
    "an-other-app-interrupts": ("""
        others:
          music: {category: playback}
        steps:
          - session.setCategory: {category: playback}
          - session.setActive: true
          - others.play: music
        """, "others.play", [("interruption", "interrupt.began")]),
    "its-stop-ends-the-interruption": ("""
        others:
          music: {category: playback}
        steps:
          - session.setCategory: {category: playback}
          - session.setActive: true
          - others.play: music
          - others.stop: music
        """, "others.stop", [("interruption", "interrupt.ended-should-resume")]),
    "beside-a-mixable-session-a-hint": ("""
        others:
          music: {category: playback}
        steps:
          - session.setCategory: {category: ambient}
          - session.setActive: true
          - others.play: music
          - others.stop: music
        """, "others.stop", [("silenceSecondaryAudioHint", "interrupt.secondary-hint")]),
}


@pytest.mark.parametrize("body, op, notes", NOTE_RULE_ROWS.values(), ids=NOTE_RULE_ROWS.keys())
def test_the_rule_behind_each_notification_of_an_other_app(body, op, notes):
    res = _passes("name: t\n" + textwrap.dedent(body))
    assert [(n.name, n.rule) for s in res.steps if s.step.op == op for n in s.notifications] == notes


# activation refused -> (the step's error name, the whole message). [DOC H-Session17, H-Errors; DEV
# twilio-interruptions]: while a phone call is up the Phone app holds call priority, and activating a
# category that records (record, playAndRecord) fails with insufficientPriority; the message says who
# holds it. [DOC H-Errors, ASPG-B]: a non-mixable session cannot start from the background
# (cannotInterruptOthers) unless the app is the Now Playing app.
REFUSED_ACTIVATIONS = {
    "record-during-a-phone-call": ("""
        steps:
          - session.setCategory: {category: record}
          - cellular.incoming: gsm
          - cellular.answer: gsm
          - session.setActive: true
          - expect: {error: insufficientPriority}
        """, "insufficientPriority", "Phone hosts a call"),
    "playandrecord-during-a-phone-call": ("""
        steps:
          - session.setCategory: {category: playAndRecord}
          - cellular.incoming: gsm
          - cellular.answer: gsm
          - session.setActive: true
          - expect: {error: insufficientPriority}
        """, "insufficientPriority", "Phone hosts a call"),
    "non-mixable-from-the-background": ("""
        app: {backgroundAudio: true}
        steps:
          - session.setCategory: {category: playback}
          - app: background
          - session.setActive: true
          - expect: {error: cannotInterruptOthers}
        """, "cannotInterruptOthers", "non-mixable activation from the background"),
}


@pytest.mark.parametrize("body, name, message", REFUSED_ACTIVATIONS.values(), ids=REFUSED_ACTIVATIONS.keys())
def test_a_refused_activation_says_why(body, name, message):
    res = _passes("name: t\n" + textwrap.dedent(body))
    (err,) = [s.error for s in res.steps if s.step.op == "session.setActive"]
    assert (err.name, err.detail) == (name, message)


REASON = """
    name: t
    platform: {platform}
    others:
      music: {{category: playback}}
    steps:
      - session.setCategory: {{category: playback}}
      - session.setActive: true
      - others.play: music
      - expect:
          {key}:
            - interruption: {{type: began, reason: default}}
    """


@pytest.mark.parametrize("platform, key", [
    ("ios-14.4", "notificationsExclude"), ("ios-14.5", "notificationsInclude"), ("ios-15.0", "notificationsInclude"),
])
def test_the_interruption_reason_key_exists_from_ios_14_5(platform, key):
    # AVAudioSessionInterruptionReasonKey is iOS 14.5 [DOC H-Types17]; an app's interruption by another
    # app's non-mixable audio has reason default [INF]
    _passes(REASON.format(platform=platform, key=key))


# Cellular calls beside the app's CallKit calls and beside each other: the cases the bundled call stories
# leave open. Each row: the story, and what the sources (or the modelling choice named) say must follow.
CELLULAR_ROWS = {
    # End & Accept ends the app's call even while it is still connecting: a started call is the app's
    # call from the start action on [DEV forum-715488: End & Accept ends the VoIP call; INF: connecting counts]
    "end-and-accept-ends-a-connecting-call": """
        steps:
          - session.setCategory: {category: playAndRecord, mode: voiceChat}
          - callkit.startCall: {call: out, connectAfter: 30s}
          - expect: {calls: {out: connecting}, notificationsInclude: [didActivate]}
          - cellular.incoming: gsm
          - cellular.answer: gsm
          - expect: {calls: {out: ended, gsm: active}, notificationsInclude: [didDeactivate]}
        """,
    # Hold & Accept holds a connecting call too [DEV forum-715488, gh:opentok/CallKit#20; INF]
    "hold-and-accept-holds-a-connecting-call": """
        steps:
          - session.setCategory: {category: playAndRecord, mode: voiceChat}
          - callkit.startCall: {call: out, connectAfter: 30s}
          - cellular.incoming: gsm
          - cellular.answer: {call: gsm, holdOthers: true}
          - expect: {calls: {out: held, gsm: active}, notificationsInclude: [didDeactivate]}
        """,
    # Two CallKit calls, the first held by the app itself, the second held by Hold & Accept: ending the
    # cellular call locally unholds only the call held for it [DEV forum-749202, forum-715488]; that call has
    # the audio again, so ending the other (held) call deactivates nothing [DOC Doc-didDeactivate: the
    # session deactivates when the calls' audio ends; INF]
    "local-end-unholds-only-the-call-held-for-it": """
        steps:
          - session.setCategory: {category: playAndRecord, mode: voiceChat}
          - callkit.reportIncoming: first
          - callkit.answer: first
          - callkit.hold: first
          - callkit.startCall: second
          - expect: {calls: {first: held, second: active}}
          - cellular.incoming: gsm
          - cellular.answer: {call: gsm, holdOthers: true}
          - expect: {calls: {first: held, second: held, gsm: active}, session: {isActive: false}}
          - cellular.end: {call: gsm, by: local}
          - expect: {calls: {first: held, second: active}, notifications: [didActivate], session: {isActive: true}}
          - callkit.end: first
          - expect: {calls: {first: ended, second: active}, notifications: [], session: {isActive: true}}
        """,
    # While a cellular call rings the Phone app already holds call priority [DTS forum-804510; DOC H-Errors]
    "call-priority-while-a-call-rings": """
        steps:
          - session.setCategory: {category: playAndRecord}
          - cellular.incoming: gsm
          - session.setActive: true
          - expect: {error: insufficientPriority}
        """,
    # Declining a waiting call leaves the answered one up: the Phone app keeps call priority
    "declining-a-waiting-call-keeps-call-priority": """
        steps:
          - session.setCategory: {category: playAndRecord}
          - cellular.incoming: one
          - cellular.answer: one
          - cellular.incoming: two
          - cellular.decline: two
          - session.setActive: true
          - expect: {error: insufficientPriority}
        """,
    # Ending the answered call while a second one still rings: call priority stays with the ringing call
    "ending-a-call-while-another-rings-keeps-call-priority": """
        steps:
          - session.setCategory: {category: playAndRecord}
          - cellular.incoming: one
          - cellular.answer: one
          - cellular.incoming: two
          - cellular.end: one
          - session.setActive: true
          - expect: {error: insufficientPriority}
          - cellular.decline: two
          - session.setActive: true
          - expect: {session: {isActive: true}}
        """,
    # A playback app interrupted by the ringing call reactivates itself (playback needs no call priority):
    # its interruption is over, so the declined call brings no second end [INF: an interruption ends once]
    "a-reactivated-app-gets-no-end-from-the-declined-call": """
        steps:
          - session.setCategory: {category: playback}
          - session.setActive: true
          - cellular.incoming: gsm
          - expect:
              session: {isActive: false}
              notificationsInclude: [{interruption: {type: began}}]
          - session.setActive: true
          - expect: {session: {isActive: true}}
          - cellular.decline: gsm
          - expect:
              session: {isActive: true}
              notificationsExclude: [{interruption: {type: ended}}]
        """,
}


@pytest.mark.parametrize("body", CELLULAR_ROWS.values(), ids=CELLULAR_ROWS.keys())
def test_cellular_calls_beside_other_calls(body):
    _passes("name: t\n" + textwrap.dedent(body))


@pytest.mark.parametrize("steps", [
    "- cellular.incoming: gsm",
    "- cellular.incoming: gsm\n- cellular.answer: gsm",
], ids=["ringing", "answered"])
def test_the_insufficient_priority_error_names_the_call_holder_while_ringing_or_up(steps):
    res = _passes("name: t\nsteps:\n- session.setCategory: {category: playAndRecord}\n" + steps
                  + "\n- session.setActive: true\n- expect: {error: insufficientPriority}\n")
    (err,) = [s.error for s in res.steps if s.step.op == "session.setActive"]
    assert str(err).endswith("Phone hosts a call")


def test_ending_a_ringing_cellular_call_says_to_decline_it():
    res = _run("name: t\nsteps:\n- cellular.incoming: gsm\n- cellular.end: gsm\n")
    assert "only an answered call can end (a ringing one is declined)" in str(res.invalid)
