"""Files and media: atomic writes and what may be read or written (io.files), every PyAV call (io.media, and
io.audio_track for the audio an mp4 gets: packets copied, or frames cut to a span and encoded, by a child
process when long (io.aac_ahead, io.aac_child); io.audio_frames for frames FFmpeg's resampler cannot take, the
checks a decoded stream must pass and AAC encoding), frame conversion and pictures (io.frames).

The lowest layer besides `errors`, `runtime` and `checks`: it imports nothing else from the package but `errors`.
"""
