"""Threaded loopback WSGI server (werkzeug) that speaks HTTPS and plain HTTP on one port.

HTTPS is what CumulusCI and simple-salesforce need (see `tls`); plain HTTP serves the same app for
a browser opening the read-only Event page without trusting the certificate. The protocol is
chosen per connection from its first byte (0x16 starts a TLS handshake). Only 127.0.0.1 may
connect. Request lines are never logged by werkzeug: the app writes its own access log without
query strings, which may carry the session id (frontdoor.jsp?sid=...).

Connections are kept alive (HTTP/1.1), so a client such as requests' Session makes one TLS
handshake for many API calls. werkzeug's own request runner always answers `Connection: close`
and, after each response, discards whatever the client sent next, so `_Handler.run_wsgi`
replaces it: it reads exactly the request's body, answers with a Content-Length, and leaves the
connection open unless the client asked to close it.
"""

import gc
import socket
import ssl
import sys
import traceback

from werkzeug.exceptions import InternalServerError
from werkzeug.serving import ThreadedWSGIServer, WSGIRequestHandler
from werkzeug.wsgi import LimitedStream

HOST = "127.0.0.1"
_TLS_HANDSHAKE = b"\x16"
_NO_BODY = (204, 304)


class _Handler(WSGIRequestHandler):
    protocol_version = "HTTP/1.1"

    def make_environ(self):
        environ = super().make_environ()
        environ["wsgi.url_scheme"] = "https" if isinstance(self.request, ssl.SSLSocket) else "http"
        return environ

    def run_wsgi(self):
        """Serve one request on a kept-alive connection (see the module docstring)."""
        if self.headers.get("Expect", "").lower().strip(" \t") == "100-continue":
            self.wfile.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        environ = self.environ = self.make_environ()
        if not environ.get("wsgi.input_terminated"):  # chunked bodies are read to their end
            try:
                length = int(environ.get("CONTENT_LENGTH") or 0)
            except ValueError:
                length, self.close_connection = 0, True
            environ["wsgi.input"] = LimitedStream(self.rfile, max(length, 0))
        try:
            status, headers, body = self._call(self.server.app, environ)
        except Exception:
            traceback.print_exc(file=sys.stderr)
            status, headers, body = self._call(InternalServerError(), environ)
            self.close_connection = True
        self._drain(environ["wsgi.input"])
        code, _, reason = status.partition(" ")
        self.send_response(int(code), reason)
        names = {key.lower() for key, _ in headers}
        for key, value in headers:
            if key.lower() != "connection":
                self.send_header(key, value)
        if "content-length" not in names and int(code) not in _NO_BODY:
            self.send_header("Content-Length", str(len(body)))
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if environ["REQUEST_METHOD"] != "HEAD" and int(code) not in _NO_BODY:
            self.wfile.write(body)
        self.wfile.flush()

    @staticmethod
    def _call(app, environ):
        """(status, headers, body bytes) of a WSGI app's whole response."""
        answer, chunks = [], []

        def start_response(status, headers, exc_info=None):
            answer[:] = [status, headers]
            return chunks.append

        result = app(environ, start_response)
        try:
            chunks.extend(result)
        finally:
            if hasattr(result, "close"):
                result.close()
        return answer[0], answer[1], b"".join(chunks)

    def _drain(self, stream):
        """Read what the app left of the request body, so the next request starts clean."""
        try:
            if isinstance(stream, LimitedStream):
                stream.exhaust()
            else:
                while stream.read(65536):
                    pass
        except (OSError, ValueError):
            self.close_connection = True

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

    def serve_forever(self, poll_interval=0.5):
        """Serve until `shutdown`, with the garbage collector tuned for a server: the youngest
        generation is collected every 100,000 allocations instead of 700, which one flow
        transaction reached hundreds of times (docs/performance.md). Process-wide, as every
        collector setting is; memory is still freed by reference counting as before. The
        thresholds found are put back when serving ends (a server inside a test process)."""
        found = gc.get_threshold()
        gc.set_threshold(100_000, *found[1:])
        try:
            super().serve_forever(poll_interval)
        finally:
            gc.set_threshold(*found)

    def get_request(self):
        sock, addr = self.socket.accept()
        if addr[0] != HOST:
            sock.close()
            raise OSError(f"refused connection from {addr[0]}: the local org is loopback-only")
        sock.settimeout(30)
        # A kept-alive connection must not wait for the client's delayed ACK between the
        # headers and the body of an answer (Nagle's algorithm: about 40 ms per call).
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
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
