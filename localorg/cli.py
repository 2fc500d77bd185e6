"""`python -m localorg start|stop|status|register`: run the local org and register it with cci.

State lives in `.localorg/` at the checkout root (git-ignored; `LOCALORG_HOME` overrides it):
`org.sqlite3` (the org), `token` (0600, new at each start), `refresh_token` (0600, kept),
`server.json` (pid, port, url), `port` (of the last start), `cert.pem`/`key.pem`/`ca-bundle.pem`
/`ca/` (TLS, see `tls`), `access.log` (method, route, status, ms; never query strings or tokens),
`server.log`.

register: saves the org in this project's cci keychain (`ccireg`), as `cci org connect` does for
a real org, so every shell sees it and cci refreshes its token as for any org (the local org
answers the refresh token flow: `oauth`). The server keeps its port across restarts when it is
free; `start` updates the registration when the port or token changed. The token and the refresh
token are never printed or logged.

requests, the backend and cci's keychain are imported by the commands that use them: `stop` and
`status` of a stopped org need none of them, and the server does not need requests.
"""

import argparse
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from localorg.server import ccireg
from localorg.server.cadir import trust_path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_VERSION = "63.0"


class CliError(Exception):
    """A command failed; the message says why and what to do."""


def home() -> Path:
    path = Path(os.environ.get("LOCALORG_HOME") or ROOT / ".localorg")
    path.mkdir(mode=0o700, exist_ok=True)
    return path


def say(message: str) -> None:
    print(message, file=sys.stderr)


# ----- server state -------------------------------------------------------------------------


def read_state(folder: Path | None = None) -> dict | None:
    path = (folder or home()) / "server.json"
    if not path.exists():
        return None
    try:
        state = json.loads(path.read_text())
    except (ValueError, OSError):
        return None
    if pid_is_ours(state.get("pid")):
        return state
    path.unlink(missing_ok=True)  # left by a server that was killed
    return None


def pid_is_ours(pid) -> bool:
    """True when `pid` is alive and is a localorg server (not a recycled pid)."""
    if not isinstance(pid, int):
        return False
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ")
    except OSError:
        return False
    return b"localorg.cli" in cmdline and b"serve" in cmdline


def read_token(folder: Path | None = None) -> str:
    return ((folder or home()) / "token").read_text().strip()


def healthy(state: dict, token: str, folder: Path | None = None) -> bool:
    import requests

    try:
        response = requests.get(f"{state['url']}/services/data",
                                headers={"Authorization": f"Bearer {token}"},
                                verify=str((folder or home()) / "cert.pem"), timeout=2)
    except requests.RequestException:
        return False
    return response.status_code == 200


def calendly_version(state: dict, token: str) -> str | None:
    """The Calendly version the running org reports now (Tooling API, as cci reads it): a
    deploy of InstalledPackage may have upgraded it since the start recorded in server.json."""
    query = ("SELECT SubscriberPackage.NamespacePrefix, SubscriberPackageVersion.MajorVersion, "
             "SubscriberPackageVersion.MinorVersion, SubscriberPackageVersion.PatchVersion, "
             "SubscriberPackageVersion.BuildNumber, SubscriberPackageVersion.IsBeta "
             "FROM InstalledSubscriberPackage")
    import requests

    try:
        response = requests.get(f"{state['url']}/services/data/v63.0/tooling/query",
                                params={"q": query}, headers={"Authorization": f"Bearer {token}"},
                                verify=str(home() / "cert.pem"), timeout=5)
        rows = response.json()["records"]
    except (requests.RequestException, ValueError, KeyError, TypeError):
        return state.get("calendly_version")
    for row in rows:
        if row["SubscriberPackage"]["NamespacePrefix"] == "Calendly":
            v = row["SubscriberPackageVersion"]
            text = f"{v['MajorVersion']}.{v['MinorVersion']}"
            text += f".{v['PatchVersion']}" if v["PatchVersion"] else ""
            return text + (f"b{v['BuildNumber']}" if v["IsBeta"] else "")
    return None


# ----- commands -----------------------------------------------------------------------------


def start(args) -> int:
    state = read_state()
    if state:
        if args.fresh:
            raise CliError("The local org is running; run `python -m localorg stop` before "
                           "`start --fresh`.")
        say(f"localorg is already running at {state['url']} (pid {state['pid']}).")
        return 0
    db = home() / "org.sqlite3"
    if args.fresh and db.exists():
        db.unlink()
        say(f"Removed {db} (--fresh).")
    cmd = [sys.executable, "-m", "localorg.cli", "serve", "--port", str(args.port),
           "--calendly-version", args.calendly_version]
    if args.no_shared_activities:
        cmd.append("--no-shared-activities")
    for old, new in args.rename_field:
        cmd += ["--rename-field", f"{old}={new}"]
    with open(home() / "server.log", "ab") as log:  # the server writes to its own copy
        proc = subprocess.Popen(cmd, cwd=ROOT, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                                start_new_session=True)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise CliError(f"The server exited with code {proc.returncode}; see "
                           f"{home() / 'server.log'}.")
        state = read_state()
        if state and healthy(state, read_token()):
            say(f"localorg started at {state['url']} (pid {state['pid']}, org "
                f"{state['org_id']}).")
            refresh_registrations(state)
            wanted = None if args.calendly_version in ("", "none") else args.calendly_version
            if state.get("calendly_version") != wanted:
                have = state.get("calendly_version")
                say(f"Note: this org has {f'Calendly {have}' if have else 'no Calendly package'}"
                    f" installed; --calendly-version {args.calendly_version} only applies to a new "
                    "org: use `start --fresh` (it deletes the org's data).")
            if state.get("shared_activities", True) == args.no_shared_activities:
                have = "on" if state.get("shared_activities", True) else "off"
                say(f"Note: this org has Shared Activities {have}; --no-shared-activities only "
                    "applies to a new org: use `start --fresh` (it deletes the org's data).")
            return 0
        time.sleep(0.1)
    proc.terminate()
    raise CliError(f"The server did not answer within 30 s; see {home() / 'server.log'}.")


def stop(args) -> int:
    state = read_state()
    if not state:
        say("localorg is not running.")
        return 0
    os.kill(state["pid"], signal.SIGTERM)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and pid_is_ours(state["pid"]):
        time.sleep(0.1)
    if pid_is_ours(state["pid"]):
        raise CliError(f"The server (pid {state['pid']}) did not stop within 10 s.")
    (home() / "server.json").unlink(missing_ok=True)
    say(f"localorg stopped (pid {state['pid']}).")
    return 0


def status(args) -> int:
    state = read_state()
    if not state:
        say("localorg is not running. Start it with `python -m localorg start`.")
        return 3
    ok = healthy(state, read_token())
    version = calendly_version(state, read_token()) if ok else state.get("calendly_version")
    say(f"localorg is running at {state['url']} (pid {state['pid']}, org {state['org_id']}, "
        f"Calendly {version or 'not installed'}, Shared Activities "
        f"{'on' if state.get('shared_activities', True) else 'off'}); "
        f"{'healthy' if ok else 'NOT answering'}.")
    return 0 if ok else 1


def org_config(state: dict, folder: Path | None = None) -> dict:
    """The cci org config of the running org. It already holds what cci adds when it loads the
    org (userinfo, org_type, is_sandbox, instance_name, namespace: OrgConfig._load_userinfo and
    _load_orginfo) and the refresh token cci renews the access token with."""
    import requests

    folder = folder or home()
    token = read_token(folder)
    verify = str(folder / "cert.pem")  # the org's own certificate: quicker than the bundle
    headers = {"Authorization": f"Bearer {token}"}
    userinfo = requests.get(f"{state['url']}/services/oauth2/userinfo", headers=headers,
                            verify=verify, timeout=10)
    organization = requests.get(
        f"{state['url']}/services/data/v{DEFAULT_VERSION}/sobjects/Organization/"
        f"{state['org_id']}", headers=headers, verify=verify, timeout=10)
    if userinfo.status_code != 200 or organization.status_code != 200:
        raise CliError("The running local org did not answer userinfo/Organization "
                       f"({userinfo.status_code}/{organization.status_code}); see "
                       f"{folder / 'server.log'}.")
    org = organization.json()
    return {
        "instance_url": state["url"],
        "access_token": token,
        "refresh_token": (folder / "refresh_token").read_text().strip(),
        "org_id": state["org_id"],
        "id": userinfo.json()["sub"],
        "username": state["username"],
        "config_name": "local",  # cci's load_sample_data loads datasets/<config_name>/
        "userinfo": userinfo.json(),
        "org_type": org["OrganizationType"],
        "is_sandbox": org["IsSandbox"],
        "instance_name": org["InstanceName"],
        "namespace": org["NamespacePrefix"],
        ccireg.HOME_KEY: str(folder),
    }


def register(args) -> int:
    state = read_state()
    if not state:
        raise CliError("localorg is not running; run `python -m localorg start` first.")
    name = args.name
    keychain = ccireg.project_keychain()
    ccireg.save_org(keychain, name, org_config(state))
    if not args.no_verify:
        cci = Path(sys.executable).with_name("cci")
        env = {**os.environ, "REQUESTS_CA_BUNDLE": str(trust_path(home()))}
        result = subprocess.run([str(cci), "org", "info", name], cwd=ROOT, env=env,
                                capture_output=True, text=True, timeout=120)
        if result.returncode != 0:
            tail = (result.stdout + result.stderr).replace(read_token(), "***")[-1500:]
            raise CliError(f"`cci org info {name}` failed on the registered org:\n{tail}")
        say(f"Verified with `cci org info {name}` (token refreshed through the org).")
    say(f"Registered the local org as cci org '{name}' in cci's keychain for this project "
        f"({keychain.project_local_dir}); every shell sees it. Use it with this checkout's "
        f"cci wrapper: bin/cci flow run dev_org --org {name}")
    return 0


def refresh_registrations(state: dict, folder: Path | None = None) -> None:
    """After a start: point every cci org registered from this folder at the running server."""
    folder = folder or home()
    keychain = ccireg.project_keychain()
    names = ccireg.registered_from(keychain, folder)
    if not names:
        say("Next: python -m localorg register   (saves it as cci org 'local')")
        return
    config = org_config(state, folder)
    for name in names:
        ccireg.save_org(keychain, name, config)
    say(f"Updated cci org(s) {', '.join(names)} to this address.")


# ----- the server process -------------------------------------------------------------------


def serve(args) -> int:
    """Foreground server (started detached by `start`): runs until SIGTERM."""
    from localorg import calendly
    from localorg.server.app import LocalOrgApp, new_session_id
    from localorg.server.httpd import make_tls_context
    from localorg.server.metadata import seed_stock
    from localorg.server.tls import ensure_certificate, write_private

    folder = home()
    org = calendly.local_org(folder / "org.sqlite3", args.calendly_version,  # runs active flows
                             shared_activities=not args.no_shared_activities,
                             renames=dict(args.rename_field))
    seed_stock(org)
    if calendly.installed_version(org) is not None:
        from localorg.standin import install_flows

        install_flows(org)  # the package's template and subflows, where still missing
    token = new_session_id(org.org_id)
    write_private(folder / "token", token.encode())
    refresh_path = folder / "refresh_token"  # lasts across restarts, as a connected app's does
    if not refresh_path.exists():
        write_private(refresh_path, secrets.token_urlsafe(32).encode())
    cert, key, _ = ensure_certificate(folder)
    app = LocalOrgApp(org, token, access_log=str(folder / "access.log"),
                      refresh_token=refresh_path.read_text().strip())
    server = listen(args.port, folder / "port", app, make_tls_context(cert, key))
    url = f"https://127.0.0.1:{server.server_port}"
    app.instance_url = url
    with org.transaction() as txn:
        user = txn.retrieve("User", org.default_user_id)
    state = {"pid": os.getpid(), "port": server.server_port, "url": url, "org_id": org.org_id,
             "username": user["Username"], "calendly_version": calendly.installed_version(org),
             "shared_activities": org.shared_activities}
    partial = folder / "server.json.tmp"
    partial.write_text(json.dumps(state))
    partial.replace(folder / "server.json")  # atomic: `start` polls this file
    signal.signal(signal.SIGTERM, _exit_on_signal)
    print(f"serving {url} (pid {os.getpid()})", flush=True)
    try:
        server.serve_forever(poll_interval=0.2)
    finally:
        server.server_close()
        (folder / "server.json").unlink(missing_ok=True)
    return 0


def listen(port: int, last_port_file: Path, app, tls):
    """The server on `port`; with 0, on the port of the last start when it is free (so cci
    orgs registered then keep working), else on a free one."""
    from localorg.server.httpd import LoopbackServer

    if port == 0 and last_port_file.exists():
        last = last_port_file.read_text().strip()
        if last.isdigit() and port_is_free(int(last)):
            port = int(last)
    server = LoopbackServer(port, app, tls)
    last_port_file.write_text(str(server.server_port))
    return server


def port_is_free(port: int) -> bool:
    """Whether the server could bind `port` (werkzeug exits the process when it cannot)."""
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the server does
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _exit_on_signal(signum, frame):
    raise SystemExit(0)  # unwinds serve_forever; `finally` closes the socket and state file


def port_number(text: str) -> int:
    if not text.isdigit() or int(text) > 65535:
        raise argparse.ArgumentTypeError(f"{text!r} is not a TCP port: give 1-65535, or 0 for a "
                                         "free one")
    return int(text)


def org_name(text: str) -> str:
    if not text.replace("_", "").isalnum():
        raise argparse.ArgumentTypeError(f"{text!r}: use letters, digits and _ (a cci org name)")
    return text


def package_version(text: str) -> str:
    """--calendly-version: MAJOR.MINOR[.PATCH][bBETA] as the org's package rows report it, or
    'none' for an org without the package."""
    from localorg.backend.packages import VERSION_RE

    if text.lower() == "none" or VERSION_RE.match(text):
        return text.lower() if text.lower() == "none" else text
    raise argparse.ArgumentTypeError(
        f"{text!r} is not a package version: give MAJOR.MINOR[.PATCH] such as 2.5 or 2.10.1, "
        "a beta as 2.6b1, or 'none' for an org without the Calendly package")


def field_rename(text: str) -> tuple:
    """--rename-field OLD=NEW: a stand-in field the org's package names differently."""
    from localorg import calendly

    try:
        return calendly.parse_rename(text)
    except ValueError as err:
        raise argparse.ArgumentTypeError(str(err)) from err


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m localorg", description=__doc__.split("\n")[0])
    sub = p.add_subparsers(dest="command", required=True)
    p.commands = sub.choices  # name -> its parser, to name its options on a bad one
    s = sub.add_parser("start", help="start the local org in the background")
    s.add_argument("--port", type=port_number, default=0,
                   help="TCP port on 127.0.0.1 (default: free)")
    s.add_argument("--calendly-version", type=package_version, default="2.5",
                   help="Calendly package version a NEW org reports installed ('none': without)")
    s.add_argument("--fresh", action="store_true", help="delete the org's data first")
    s.add_argument("--no-shared-activities", action="store_true",
                   help="a NEW org without Shared Activities (EventRelation has no IsParent)")
    s.add_argument("--rename-field", type=field_rename, action="append", default=[],
                   metavar="OLD=NEW", help="a NEW org's package names stand-in field OLD as "
                   "NEW (repeatable), like an org whose Calendly package differs")
    s.set_defaults(func=start)
    sub.add_parser("stop", help="stop the local org").set_defaults(func=stop)
    sub.add_parser("status", help="is it running, where").set_defaults(func=status)
    r = sub.add_parser("register", help="save the running org in cci's keychain (all shells)")
    r.add_argument("--name", type=org_name, default="local", help="cci org name (default: local)")
    r.add_argument("--no-verify", action="store_true", help="skip `cci org info` afterwards")
    r.set_defaults(func=register)
    v = sub.add_parser("serve", help=argparse.SUPPRESS)
    v.add_argument("--port", type=port_number, default=0)
    v.add_argument("--calendly-version", type=package_version, default="2.5")
    v.add_argument("--no-shared-activities", action="store_true")
    v.add_argument("--rename-field", type=field_rename, action="append", default=[])
    v.set_defaults(func=serve)
    return p


def main(argv=None) -> int:
    top = parser()
    args, extra = top.parse_known_args(argv)
    if extra:
        # argparse would say only "unrecognized arguments"; name the command's own options.
        sub = top.commands[args.command]
        allowed = sorted(o for a in sub._actions for o in a.option_strings if o != "-h")
        top.exit(2, f"Error: unknown option(s) {' '.join(extra)} for `python -m localorg "
                    f"{args.command}`; allowed: {', '.join(allowed) or 'none'} (see "
                    f"`python -m localorg {args.command} --help`).\n")
    try:
        return args.func(args)
    except CliError as exc:
        say(f"Error: {exc}")
        return 2


if __name__ == "__main__":
    sys.exit(main())
