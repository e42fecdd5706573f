"""Keep secrets out of logs and messages."""


def redact(url: str) -> str:
    """``mongodb://user:secret@host/db`` → ``mongodb://user:***@host/db``."""
    scheme, sep, rest = url.partition("://")
    credentials, at, host = rest.rpartition("@")
    if not sep or not at or ":" not in credentials:
        return url
    return f"{scheme}://{credentials.split(':', 1)[0]}:***@{host}"
