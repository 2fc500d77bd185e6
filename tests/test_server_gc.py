"""The server collects its youngest generation less often while it serves, and puts the
process's collector thresholds back when serving ends (a server inside a test process)."""

import gc
import threading

from localorg.server.httpd import LoopbackServer, make_tls_context
from localorg.server.tls import ensure_certificate


def test_the_thresholds_are_raised_while_serving_and_put_back_after(tmp_path):
    cert, key, _ = ensure_certificate(tmp_path)
    found = gc.get_threshold()
    gc.set_threshold(700, *found[1:])
    server = LoopbackServer(0, lambda environ, start: [], make_tls_context(cert, key))
    serving = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.01},
                               daemon=True)
    try:
        serving.start()
        for _ in range(500):
            if gc.get_threshold()[0] == 100_000:
                break
            threading.Event().wait(0.01)
        assert gc.get_threshold()[0] == 100_000
        server.shutdown()
        serving.join(5)
        assert gc.get_threshold() == (700, *found[1:])
    finally:
        server.server_close()
        gc.set_threshold(*found)
