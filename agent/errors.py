"""The agent's errors (``xmp.UserError``s): a request that cannot be answered as asked."""

from xmp.errors import UserError


class RequestError(UserError):
    """The request itself is unusable: an empty instruction, options that contradict each other, an unknown
    policy, a data folder without samples."""

    exit_code = 2
    http_status = 422


class PolicyError(UserError, RuntimeError):
    """A policy could not produce a valid edit (the message says why); nothing is written."""

    exit_code = 5
    http_status = 422


EMPTY_INSTRUCTION = 'empty instruction: say what to change, e.g. "warmer, lift the shadows"'


def instruction(text: str | None) -> str:
    """The instruction stripped of surrounding space; an empty one is a ``RequestError``."""
    if text is None or not text.strip():
        raise RequestError(EMPTY_INSTRUCTION)
    return text.strip()
