"""Threaded loopback WSGI server (werkzeug) that speaks HTTPS and plain HTTP on one port.

HTTPS is what CumulusCI and simple-salesforce need (see `tls`); plain HTTP serves the same app for
a browser opening the read-only Event page without trusting the certificate. The protocol is
chosen per connection from its first byte (0x16 starts a TLS handshake). Only 127.0.0.1 may
connect. Request lines are never logged by werkzeug: the app writes its own access log without
query strings, which may carry the session id (frontdoor.jsp?sid=...).
"""

import socket
import ssl

from werkzeug.serving import ThreadedWSGIServer, WSGIRequestHandler

HOST = "127.0.0.1"
_TLS_HANDSHAKE = b"\x16"


class _Handler(WSGIRequestHandler):
    def make_environ(self):
        environ = super().make_environ()
        environ["wsgi.url_scheme"] = "https" if isinstance(self.request, ssl.SSLSocket) else "http"
        return environ

    def log_request(self, code="-", size="-"):
        """Silenced: the app's access log records method, path (no query) and status."""

    def log_error(self, format, *args):
        """Silenced: connection errors of clients carry no information the app needs."""


class LoopbackServer(ThreadedWSGIServer):
    """Serve `app` on 127.0.0.1:`port` (0 picks a free port); `tls` is an ssl.SSLContext."""

    daemon_threads = True

    def __init__(self, port: int, app, tls: ssl.SSLContext):
        super().__init__(HOST, port, app, handler=_Handler)
        self.tls = tls

    def get_request(self):
        sock, addr = self.socket.accept()
        if addr[0] != HOST:
            sock.close()
            raise OSError(f"refused connection from {addr[0]}: the local org is loopback-only")
        sock.settimeout(30)
        return sock, addr

    def finish_request(self, request, client_address):
        """In the connection's own thread (an idle or slow client must not hold up the accept
        loop, as a browser's unused pre-connection did for 30 s): TLS or plain, then serve."""
        if request.recv(1, socket.MSG_PEEK) != _TLS_HANDSHAKE:
            super().finish_request(request, client_address)
            return
        with self.tls.wrap_socket(request, server_side=True) as tls_sock:
            super().finish_request(tls_sock, client_address)

    def handle_error(self, request, client_address):
        """Client disconnects and TLS failures end that connection only; nothing is printed."""


def make_tls_context(cert_file, key_file) -> ssl.SSLContext:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.load_cert_chain(cert_file, key_file)
    return ctx
