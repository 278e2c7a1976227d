"""A small load generator: many simulated clients in one thread, on non-blocking sockets.

Why not threads with http.client: on the 2 cores this benchmark shares with the server, 64 client
threads spent about one core on HTTP parsing and on waiting for the GIL, which both took CPU
from the server and added their own queueing to the latencies they measured. Here each client
is a generator that yields a ``Request`` and receives its ``Reply``; one selector loop runs them
all, every request on a new connection (``Connection: close``, as a resident's phone would), and
a reply's ``seconds`` run from the connect to the last byte of the body (by Content-Length or
the last chunk, as a browser reads it; a server that keeps the connection open for keep-alive
does not lengthen the figure).
"""
from __future__ import annotations

import errno
import selectors
import socket
import time
from collections.abc import Callable, Generator
from dataclasses import dataclass, field

CHUNK = 256 * 1024


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    body: bytes = b""
    cookies: dict[str, str] = field(default_factory=dict)
    content_type: str = "application/x-www-form-urlencoded"

    def wire(self, host: str) -> bytes:
        lines = [f"{self.method} {self.path} HTTP/1.1", f"Host: {host}", "Connection: close"]
        if self.cookies:
            lines.append("Cookie: " + "; ".join(f"{k}={v}" for k, v in self.cookies.items()))
        if self.method != "GET":
            lines += [f"Content-Type: {self.content_type}", f"Content-Length: {len(self.body)}"]
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + self.body


@dataclass(frozen=True)
class Reply:
    status: int  # 0 when the connection failed or broke before a whole status line came
    headers: list[tuple[str, str]]
    body: bytes
    seconds: float
    error: str = ""

    def cookies(self) -> dict[str, str]:
        """The cookies the reply sets (name=value, attributes dropped)."""
        jar = {}
        for name, value in self.headers:
            if name.lower() == "set-cookie":
                key, _, val = value.split(";", 1)[0].partition("=")
                jar[key.strip()] = val.strip()
        return jar


Client = Generator[Request, Reply, None]


class _Exchange:
    """One request on its own connection, from connect to the server's close."""

    def __init__(self, client: Client, request: Request, address: tuple[str, int]) -> None:
        self.client, self.started = client, time.perf_counter()
        self.out = memoryview(request.wire(f"{address[0]}:{address[1]}"))
        self.received = bytearray()
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setblocking(False)
        code = self.sock.connect_ex(address)
        if code not in (0, errno.EINPROGRESS):
            raise OSError(code, errno.errorcode.get(code, "connect failed"))

    def complete(self) -> bool:
        """Whether the whole reply has arrived (headers, then the body its framing announces)."""
        end = self.received.find(b"\r\n\r\n")
        if end < 0:
            return False
        head = bytes(self.received[:end]).lower()
        body = len(self.received) - end - 4
        marker = head.find(b"\r\ncontent-length:")
        if marker >= 0:
            value = head[marker + 17:].split(b"\r\n", 1)[0]
            return body >= int(value.strip())
        if b"\r\ntransfer-encoding: chunked" in head:
            return self.received.endswith(b"\r\n0\r\n\r\n")
        return False  # the body ends where the server closes the connection

    def reply(self, error: str = "") -> Reply:
        head, _, body = bytes(self.received).partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0][9:12]) if not error and lines[0][9:12].isdigit() else 0
        headers = [tuple(part.strip() for part in line.split(":", 1))
                   for line in lines[1:] if ":" in line]
        return Reply(status, headers, body, time.perf_counter() - self.started,
                     error or ("" if status else "no status line"))


def run(address: tuple[str, int], clients: list[Client], seconds: float) -> float:
    """Drive every client until ``seconds`` have passed (requests under way are finished, no new
    ones start); returns the elapsed time. Each client's first request is ``next(client)``."""
    selector = selectors.DefaultSelector()
    deadline = time.monotonic() + seconds
    started = time.perf_counter()

    def begin(client: Client, request: Request | None) -> None:
        if request is None or time.monotonic() >= deadline:
            client.close()
            return
        try:
            exchange = _Exchange(client, request, address)
        except OSError as error:
            finish_failed(client, time.perf_counter(), repr(error))
            return
        selector.register(exchange.sock, selectors.EVENT_WRITE, exchange)

    def finish_failed(client: Client, since: float, error: str) -> None:
        advance(client, Reply(0, [], b"", time.perf_counter() - since, error))

    def advance(client: Client, reply: Reply) -> None:
        try:
            request = client.send(reply)
        except StopIteration:
            return
        begin(client, request)

    def close(exchange: _Exchange, error: str = "") -> None:
        selector.unregister(exchange.sock)
        exchange.sock.close()
        advance(exchange.client, exchange.reply(error))

    for client in clients:
        begin(client, next(client))
    while selector.get_map():
        for key, events in selector.select(timeout=1.0):
            exchange: _Exchange = key.data
            try:
                if events & selectors.EVENT_WRITE:
                    exchange.out = exchange.out[exchange.sock.send(exchange.out):]
                    if not exchange.out:
                        selector.modify(exchange.sock, selectors.EVENT_READ, exchange)
                    continue
                chunk = exchange.sock.recv(CHUNK)
            except (BlockingIOError, InterruptedError):
                continue
            except OSError as error:
                close(exchange, type(error).__name__)
                continue
            if chunk:
                exchange.received += chunk
                if exchange.complete():
                    close(exchange)
            else:
                close(exchange)
    return time.perf_counter() - started


def repeat(step: Callable[[], Client]) -> Client:
    """A client that runs ``step``'s exchanges over and over (one resident after another)."""
    while True:
        yield from step()
