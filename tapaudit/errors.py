"""Errors that end the scan of one input, never the whole run."""


class InputError(Exception):
    """An input could not be read or parsed; the message is one line for the user."""
