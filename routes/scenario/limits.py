"""How much untrusted input the loader takes: checked before the work, so no file can run long or grow large.

The file-size limit is in bytes and is checked on the file's metadata and while reading (at most one byte
past it is read); the node limit stops YAML composition as soon as a document grows past it, so a file at
the limit is refused in a few seconds [INF]. Numbers are bounded where the model allocates or computes with
them: audio lengths (signal rendering holds whole buffers), sample rates and channel counts (buffer sizes),
durations (the virtual clock), and the digits of any number (Python refuses int text over 4300 digits).
"""
from __future__ import annotations

MAX_FILE_BYTES = 512 * 1024          # a scenario file; the bundled library's largest is under 5 KiB
MAX_NODES = 30_000                   # YAML values per document, every alias expansion counted
MAX_NUMBER_CHARS = 40                # the written form of one number, sign and exponent included
MAX_DURATION_S = 86_400.0            # one day of virtual time per duration (wait, timeouts, recordings)
MAX_SAMPLE_RATE = 768_000.0          # Hz; above any audio hardware's rate
MAX_CHANNELS = 64                    # per format; above any iOS route's channel count
MAX_AUDIO_S = 30.0                   # one rendered test signal (expect: audio, routesim render)
MAX_AUDIO_S_PER_FILE = 60.0          # every rendered signal of one file together: a few seconds of work
MAX_FREQUENCY = 100_000.0            # Hz, a test tone (above every rate's Nyquist frequency is allowed and silent)
