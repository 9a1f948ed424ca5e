"""Serve a built site on 127.0.0.1 the way a real host would: gzip, keep-alive, caching.

``python tools/lighthouse/serve.py _build/html --port 8000`` serves until interrupted;
``tools/lighthouse/run_lighthouse.py`` starts the same server in a thread.

Text responses (HTML, CSS, JavaScript, SVG, JSON, XML, plain text) are gzip-compressed
when the client accepts it; fonts (woff2 is compressed already) and images are sent as
they are. A missing path answers the site's own 404.html with status 404, as GitHub
Pages does. Nothing but the standard library.
"""

from __future__ import annotations

import argparse
import functools
import gzip
import threading
from http import HTTPStatus
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit

COMPRESSIBLE = ("text/", "application/javascript", "application/json", "application/xml",
                "image/svg+xml", "application/x-javascript")


class GzipHandler(SimpleHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, like a real host
    extensions_map = {**SimpleHTTPRequestHandler.extensions_map,
                      ".js": "application/javascript", ".mjs": "application/javascript",
                      ".woff2": "font/woff2", ".svg": "image/svg+xml",
                      ".ipynb": "application/json", ".xml": "application/xml"}

    def log_message(self, format, *args):  # noqa: A002 - the base class's name
        pass

    def _file_for(self, path: str) -> Path | None:
        fs_path = Path(self.translate_path(path))
        if fs_path.is_dir():
            fs_path = fs_path / "index.html"
        return fs_path if fs_path.is_file() else None

    def do_HEAD(self):  # noqa: N802 - the base class's name
        self._respond(head=True)

    def do_GET(self):  # noqa: N802 - the base class's name
        self._respond(head=False)

    def _respond(self, head: bool):
        path = unquote(urlsplit(self.path).path)
        fs_path = self._file_for(path)
        status = HTTPStatus.OK
        if fs_path is None:
            status = HTTPStatus.NOT_FOUND
            fs_path = Path(self.directory) / "404.html"
            if not fs_path.is_file():
                self.send_error(HTTPStatus.NOT_FOUND)
                return
        body = fs_path.read_bytes()
        ctype = self.guess_type(str(fs_path))
        if ctype.startswith("text/") or ctype == "application/javascript":
            ctype += "; charset=utf-8"
        encoded = False
        if ("gzip" in self.headers.get("Accept-Encoding", "")
                and ctype.startswith(COMPRESSIBLE)):
            body = gzip.compress(body, compresslevel=6, mtime=0)
            encoded = True
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        if encoded:
            self.send_header("Content-Encoding", "gzip")
        self.send_header("Vary", "Accept-Encoding")
        # GitHub Pages' own policy: ten minutes for everything
        self.send_header("Cache-Control", "max-age=600")
        self.end_headers()
        if not head:
            self.wfile.write(body)


def start(site: Path, port: int = 0) -> tuple[ThreadingHTTPServer, str]:
    """Serve ``site`` in a daemon thread; return the server and its base URL."""
    handler = functools.partial(GzipHandler, directory=str(site))
    server = ThreadingHTTPServer(("127.0.0.1", port), handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}/"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("site", type=Path)
    parser.add_argument("--port", type=int, default=8000)
    args = parser.parse_args()
    handler = functools.partial(GzipHandler, directory=str(args.site))
    with ThreadingHTTPServer(("127.0.0.1", args.port), handler) as server:
        print(f"Serving {args.site} with gzip on http://127.0.0.1:{args.port}/")
        server.serve_forever()


if __name__ == "__main__":
    main()
