"""Errors that end the scan of one input, never the whole run."""


class InputError(Exception):
    """An input could not be read or parsed; the message is one line for the user."""


class InstallError(Exception):
    """A data file tapaudit ships is missing or corrupt: each input that needs it is an error
    (exit 2), never a pass. The message says which file and to reinstall."""


def interrupted(exc: BaseException | None) -> bool:
    """Is `exc` a Ctrl-C, or an error raised because of one? Python 3.11 wraps one that arrives
    while a class is created (a lazy import) in a RuntimeError from `__set_name__`, and code that
    was handling it when it arrived raises its own error in its place."""
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        if isinstance(exc, KeyboardInterrupt):
            return True
        seen.add(id(exc))
        exc = exc.__cause__ or exc.__context__
    return False
