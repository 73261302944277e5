"""A real HTTP server on 127.0.0.1 for the URL import tests (no mocks of urllib)."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

GOOD = b"timestamp_utc,price_eur_per_mwh\n2024-03-01T00:00:00Z,61.42\n2024-03-01T01:00:00Z,58.14\n"


class PriceServer:
    """Serves /prices.csv from a queue of (status, body) answers; the last answer repeats."""

    def __init__(self) -> None:
        self.answers: list[tuple[int, bytes]] = [(200, GOOD)]
        self.requests: list[str] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 (http.server's name)
                server.requests.append(self.path)
                status, body = server.answers.pop(0) if len(server.answers) > 1 else server.answers[0]
                self.send_response(status)
                self.send_header("Content-Type", "text/csv")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):  # keep the test output clean
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/prices.csv"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(10)
