"""Run the local org's HTTP server inside the current process, on a free port (tests, benches).

    with running_server(org, folder) as live:
        live.url, live.token, live.bundle     # https://127.0.0.1:<port>, session id, and the
                                              # org's own certificate, the only CA it needs
        live.app.calls                        # Counter of "METHOD route" -> calls

Clients must trust `live.bundle` (requests: `REQUESTS_CA_BUNDLE`, which overrides a session's
`verify`).
"""

import threading
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from localorg.server.app import LocalOrgApp, new_session_id
from localorg.server.httpd import LoopbackServer, make_tls_context
from localorg.server.metadata import seed_stock
from localorg.server.tls import ensure_certificate


@dataclass
class Live:
    url: str
    token: str
    bundle: Path
    app: LocalOrgApp
    port: int


@contextmanager
def running_server(org, folder: Path, access_log=None):
    seed_stock(org)
    cert, key, _ = ensure_certificate(Path(folder), bundle=False)  # clients trust `cert`
    token = new_session_id(org.org_id)
    app = LocalOrgApp(org, token, access_log=access_log)
    server = LoopbackServer(0, app, make_tls_context(cert, key))
    app.instance_url = f"https://127.0.0.1:{server.server_port}"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                              daemon=True)
    thread.start()
    try:
        yield Live(app.instance_url, token, cert, app, server.server_port)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
