class DomainError(Exception):
    """An error whose message is the sentence a receptionist or patient should read.

    Pages show `str(error)`; anything else that escapes is a bug and is logged, never shown.
    """


class NotFound(DomainError):
    """The object does not exist *for this user*: another patient's record is reported the same way."""

    def __init__(self, what: str = 'record') -> None:
        super().__init__(f'That {what} could not be found.')
