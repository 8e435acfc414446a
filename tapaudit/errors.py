"""Errors that end the scan of one input, never the whole run."""


class InputError(Exception):
    """An input could not be read or parsed; the message is one line for the user."""


class InstallError(Exception):
    """A data file tapaudit ships is missing or corrupt: each input that needs it is an error
    (exit 2), never a pass. The message says which file and to reinstall."""
