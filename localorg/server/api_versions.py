"""The API versions the local org answers (31.0-63.0) and their release names."""

from localorg.server.responses import HttpError

API_VERSIONS = [f"{v}.0" for v in range(31, 64)]


def release_label(version: str) -> str:
    """Salesforce's release name of an API version: 63.0 -> "Spring '25"."""
    back = 63 - int(float(version))
    season = ("Spring", "Winter", "Summer")[back % 3]
    year = 25 - back // 3 - (1 if back % 3 == 2 else 0)
    return f"{season} '{year:02d}"


def check_version(version: str) -> None:
    """An unknown version in a URL is 404 NOT_FOUND, as Salesforce answers it."""
    if version not in API_VERSIONS:
        raise HttpError(404, "NOT_FOUND", "The requested resource does not exist")
