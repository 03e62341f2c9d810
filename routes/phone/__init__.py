"""The phone: the app's AVAudioSession (categories, modes, options, activation), the pure route policy and
the rules it cites, accessory events, other apps, CallKit and cellular calls.

Deterministic and synchronous. Imports ``routesim.profiles`` and the neutral ``routesim.events`` and
``routesim.clock``; never ``routesim.bt``, scenarios, the live side or the command line.
"""
