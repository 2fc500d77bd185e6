"""Kept-alive HTTPS connections: many API calls over one connection, each answered whole."""

import http.client
import json
import ssl

V = "63.0"


def connection(live):
    ctx = ssl.create_default_context(cafile=str(live.bundle))
    return http.client.HTTPSConnection("127.0.0.1", live.port, context=ctx, timeout=10)


def call(conn, live, method, path, body=None, headers=None):
    headers = {"Authorization": f"Bearer {live.token}", **(headers or {})}
    if body is not None:
        body = json.dumps(body).encode() if not isinstance(body, bytes) else body
        headers.setdefault("Content-Type", "application/json")
    conn.request(method, path, body=body, headers=headers)
    response = conn.getresponse()
    return response, response.read()


def test_one_connection_serves_many_calls(live):
    conn = connection(live)
    base = f"/services/data/v{V}"
    created, body = call(conn, live, "POST", f"{base}/sobjects/Contact", {"LastName": "Kept"})
    assert created.status == 201 and created.getheader("Connection") is None
    sock = conn.sock
    # A body the app refuses unread, then an empty 204, then a HEAD: the next request on the
    # same socket is still read from its first byte.
    refused, _ = call(conn, live, "POST", f"{base}/sobjects/NoSuchObject", {"x": "y" * 5000})
    assert refused.status == 404
    rid = json.loads(body)["id"]
    updated, rest = call(conn, live, "PATCH", f"{base}/sobjects/Contact/{rid}",
                         {"Email": "k@x.test"})
    assert (updated.status, rest) == (204, b"")
    head, rest = call(conn, live, "HEAD", f"{base}/sobjects/Contact/{rid}")
    assert (head.status, rest) == (200, b"")  # answered as GET, without its body
    found, body = call(conn, live, "GET", f"{base}/sobjects/Contact/{rid}")
    assert found.status == 200 and json.loads(body)["Email"] == "k@x.test"
    assert conn.sock is sock  # never reconnected
    conn.close()


def test_a_client_asking_to_close_is_answered_and_closed(live):
    conn = connection(live)
    response, body = call(conn, live, "GET", "/services/data", headers={"Connection": "close"})
    assert response.status == 200 and json.loads(body)
    assert response.getheader("Connection") == "close"
    assert response.will_close
    conn.close()


def test_a_chunked_request_body_is_read_to_its_end(live):
    conn = connection(live)
    payload = json.dumps({"LastName": "Chunked"}).encode()
    chunked = f"{len(payload):x}\r\n".encode() + payload + b"\r\n0\r\n\r\n"
    response, body = call(conn, live, "POST", f"/services/data/v{V}/sobjects/Contact", chunked,
                          headers={"Transfer-Encoding": "chunked"})
    assert response.status == 201, body
    again, _ = call(conn, live, "GET", "/services/data")
    assert again.status == 200
    conn.close()


def test_answers_are_sent_without_waiting_for_delayed_acks(tmp_path):
    """Accepted sockets have TCP_NODELAY: on a kept-alive connection, Nagle's algorithm would
    hold an answer's body until the client acknowledged its headers (about 40 ms a call)."""
    import socket

    from localorg.server.httpd import LoopbackServer, make_tls_context
    from localorg.server.tls import ensure_certificate

    cert, key, _ = ensure_certificate(tmp_path)
    server = LoopbackServer(0, lambda environ, start: [], make_tls_context(cert, key))
    try:
        with socket.create_connection(("127.0.0.1", server.server_port), timeout=5):
            accepted, _ = server.get_request()
            with accepted:
                assert accepted.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 1
    finally:
        server.server_close()
