"""What accessories are: codecs, profiles, the model catalog and its quirks.

Depends on nothing else in the project; everything here is data loaded from ``fixtures/``.
"""
