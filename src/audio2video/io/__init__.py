"""Files and media: atomic writes (io.files), every PyAV call (io.media, and io.audio_track for the audio an mp4
gets: packets copied, or frames cut to a span), frame conversion and pictures (io.frames).

The lowest layer besides `errors` and `runtime`: it imports nothing else from the package.
"""
