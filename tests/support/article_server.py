"""A real HTTP server on a loopback port serving article pages whose content a test
changes between fetches (stdlib http.server in a thread)."""
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def html_page(title, paragraphs):
    body = "".join(f"<p>{p}</p>" for p in paragraphs)
    return (f"<!doctype html><html><head><title>{title}</title><style>p {{ color: red }}</style>"
            f"<script>var notArticle = 'обьявил';</script></head><body><article><h1>{title}</h1>"
            f"{body}</article></body></html>").encode("utf-8")


class ArticleServer:
    """`routes[path]` is (status, headers, body) or a callable(handler) that answers itself."""

    def __init__(self, host="127.0.0.1"):
        self.routes = {}
        self.hits = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 - http.server's name
                server.hits.append(self.path)
                route = server.routes.get(self.path)
                if callable(route):
                    return route(self)
                status, headers, body = route or (404, {"Content-Type": "text/html"}, b"<h1>Not found</h1>")
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                if "Content-Length" not in headers:
                    self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer((host, 0), Handler)
        self.httpd.daemon_threads = True
        self.host, self.port = self.httpd.server_address[:2]
        self.origin = f"http://{self.host}:{self.port}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def url(self, path):
        return self.origin + path

    def page(self, path, html, content_type="text/html; charset=utf-8"):
        self.routes[path] = (200, {"Content-Type": content_type}, html)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()


def slow_headers(seconds):
    def answer(handler):
        time.sleep(seconds)
        try:
            handler.send_response(200)
            handler.send_header("Content-Type", "text/html")
            handler.end_headers()
            handler.wfile.write(b"<p>late</p>")
        except OSError:
            pass  # the client gave up, as it should
    return answer


def trickle(seconds, pieces=20):
    """Headers at once, then a body dribbled out over `seconds`."""
    def answer(handler):
        try:
            handler.send_response(200)
            handler.send_header("Content-Type", "text/html")
            handler.end_headers()
            for _ in range(pieces):
                handler.wfile.write(b"<p>x</p>")
                handler.wfile.flush()
                time.sleep(seconds / pieces)
        except OSError:
            pass
    return answer
