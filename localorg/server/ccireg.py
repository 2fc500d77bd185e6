"""The local org as a cci org: saved in this project's cci keychain like any connected org.

`python -m localorg register` saves the org with cci's own keychain API (`keychain.set_org`, as
`cci org connect` does), so every shell and every cci command finds it: instance_url,
access_token, refresh_token, org_id, username, id. Before each task cci renews the access token
through the local org's token endpoint (`oauth.py`), exactly as for a real org, so nothing turns
token refresh off. The org config also names `localorg_home`, the folder of the server it points
to: `start` updates every org registered from that folder (new port, new token), and `bin/cci`
(`ccirun.py`) uses it to say that the org is not running instead of cci's "internet connection"
error.
"""

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HOME_KEY = "localorg_home"


def project_keychain():
    """cci's keychain for this project (orgs in ~/.cumulusci/<project name>/)."""
    from cumulusci.cli.runtime import CliRuntime

    cwd = os.getcwd()
    os.chdir(ROOT)
    try:
        return CliRuntime(load_keychain=True).keychain
    finally:
        os.chdir(cwd)


def save_org(keychain, name: str, config: dict) -> None:
    from cumulusci.core.config import OrgConfig

    org = OrgConfig(config, name, keychain=keychain, global_org=False)
    keychain.set_org(org, global_org=False)


def local_org_home(keychain, name: str) -> Path | None:
    """The localorg folder that cci org `name` points to; None for any other (or no) org."""
    try:
        home = keychain.get_org(name).config.get(HOME_KEY)
    except Exception:  # not there or unreadable: cci itself will say so
        return None
    return Path(home) if home else None


def registered_from(keychain, home: Path) -> list:
    """Names of the cci orgs registered from the local org in `home`."""
    return [name for name in keychain.list_orgs() if local_org_home(keychain, name) == home]
