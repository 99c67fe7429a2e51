"""Errors a user can cause. The CLI prints their message as one line and exits non-zero."""


class UserError(Exception):
    """A problem with what the user gave us (a file, a flag, a checkpoint), not a bug."""


class MediaError(UserError):
    """An input or output media file that cannot be read or written."""


class CheckpointError(UserError):
    """A checkpoint directory that is missing, corrupt or inconsistent."""
