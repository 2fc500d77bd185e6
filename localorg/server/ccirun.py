"""`bin/cci ARGS`: CumulusCI for this checkout, then `cci ARGS` itself.

cci runs `sf` (`sf project convert source` in the stock deploy) from PATH, and verifies HTTPS
with requests, which trusts the local org's self-signed certificate only through
REQUESTS_CA_BUNDLE (see `tls`). A new shell has neither, so this wrapper sets them for cci's
process only: node_modules/.bin and .venv/bin first on PATH; REQUESTS_CA_BUNDLE to the local
org's hashed certificate directory (public roots plus its certificate) when the org named by
--org is a local org (ccireg.HOME_KEY in its config). For such an org it also checks the server
first: not running is said plainly, with the command that starts it (cci would say "We
encountered an error with your internet connection"); running at another address updates the
registration.

The sf that cci runs is the checkout's, pinned in package-lock.json, so the wrapper turns off
what would change or report on it, as `make` and metacheck do: its autoupdate and update
check (a background Node process asking the npm registry for a newer version) and its
telemetry upload (a background Node process after each command). A shell that sets any of
these variables keeps its own value.

cci then runs in this process, as its own script (`run_cci`): the check above has usually
imported CumulusCI and loaded its universal config already (cci keeps that config per process),
which a new process would do again (about 0.35 s of CPU per command).
"""

import os
import runpy
import sys
from pathlib import Path

from localorg import cli
from localorg.server import ccireg
from localorg.server.cadir import trust_path

ROOT = ccireg.ROOT
SF_DEFAULTS = {
    "SF_DISABLE_TELEMETRY": "true",
    "SF_AUTOUPDATE_DISABLE": "true",
    "SF_DISABLE_AUTOUPDATE": "true",  # the variable sf's update hook reads
    "SF_SKIP_NEW_VERSION_CHECK": "true",
}


def org_name(argv: list) -> str | None:
    """The org a cci command line uses: --org NAME, `cci org <command> NAME`, the default org
    of `cci task run` / `cci flow run` without --org, else none."""
    for index, word in enumerate(argv):
        if word == "--org" and index + 1 < len(argv):
            return argv[index + 1]
        if word.startswith("--org="):
            return word.split("=", 1)[1]
    if len(argv) >= 3 and argv[0] == "org" and not argv[2].startswith("-"):
        return argv[2]
    if argv[:2] in (["task", "run"], ["flow", "run"]):
        return ccireg.project_keychain().get_default_org()[0]
    return None


def start_command(home: Path) -> str:
    prefix = "" if home == ROOT / ".localorg" else f"LOCALORG_HOME={home} "
    return f"{prefix}{ROOT / '.venv/bin/python'} -m localorg start"


def check_local_org(name: str, env: dict) -> str | None:
    """An error message when cci org `name` is a local org that is not running, else None."""
    keychain = ccireg.project_keychain()
    home = ccireg.local_org_home(keychain, name)
    if home is None:
        return None
    env["REQUESTS_CA_BUNDLE"] = str(trust_path(home))
    state = cli.read_state(home)
    if state is None or not cli.healthy(state, cli.read_token(home), home):
        url = keychain.get_org(name).instance_url
        return (f"cci org '{name}' is the local org in {home} (registered at {url}), which is "
                f"not running. Start it with `{start_command(home)}`: it keeps its data and "
                f"updates the registration; then run this command again.")
    if keychain.get_org(name).instance_url != state["url"]:
        cli.refresh_registrations(state, home)
    return None


def cci_env(environ: dict, python_bin: Path = ROOT / ".venv" / "bin") -> dict:
    """`environ` with the checkout's tools (node_modules/.bin, then `python_bin`, which holds
    cci) first on PATH and SF_DEFAULTS where it has none."""
    env = {**SF_DEFAULTS, **environ}
    tools = [str(ROOT / "node_modules" / ".bin"), str(python_bin)]
    env["PATH"] = os.pathsep.join(tools + [environ.get("PATH", "")])
    return env


def main(argv: list) -> int:
    env = cci_env(dict(os.environ))
    name = org_name(argv)
    if name:
        problem = check_local_org(name, env)
        if problem:
            print(f"Error: {problem}", file=sys.stderr)
            return 1
    run_cci(ROOT / ".venv" / "bin" / "cci", argv, env)
    return 0  # not reached: cci's script exits


def run_cci(script: Path, argv: list, env: dict) -> None:
    """`cci ARGV` with `env`, in this process, as if `script` (cci's console script) had been
    started: its argv, its folder first on sys.path, `__main__` a plain script (click names the
    program after argv[0], so usage and help say `cci`). The script raises SystemExit."""
    os.environ.update(env)
    sys.argv = [str(script), *argv]
    sys.path[0] = str(script.parent)
    runpy.run_path(str(script), run_name="__main__")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
