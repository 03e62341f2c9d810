"""Audio I/O on the current route: AVAudioEngine formats and taps, AVAudioRecorder, AVCaptureSession, and
the numpy/scipy signal chain behind the ``audio:`` expectation and ``routesim render``.

Built on the phone model (``routesim.routes.phone``); knows nothing of scenario files or the CLI.
"""
