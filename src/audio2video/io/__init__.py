"""Files and media: atomic writes and what may be read or written (io.files), every PyAV call (io.media, and
io.audio_track for the audio an mp4 gets: packets copied, or frames cut to a span; io.audio_frames for frames
FFmpeg's resampler cannot take and the checks a decoded stream must pass), frame conversion and pictures (io.frames).

The lowest layer besides `errors`, `runtime` and `checks`: it imports nothing else from the package but `errors`.
"""
