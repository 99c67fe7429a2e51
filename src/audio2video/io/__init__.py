"""Files and media: atomic writes (io.files), every PyAV call (io.media), frame conversion and pictures (io.frames).

The lowest layer besides `errors` and `runtime`: it imports nothing else from the package.
"""
