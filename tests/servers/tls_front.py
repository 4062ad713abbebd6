"""A TLS front: accepts TLS on an address and port of the test's choosing (say 127.9.8.7:993 with
a certificate for imap.example.test) and pipes the decrypted bytes to a real server's plaintext
port (Dovecot's, aiosmtpd's). Lets a test put real servers behind the names and standard ports
that discovery guesses."""

from __future__ import annotations

import select
import socket
import ssl
import threading

from .certs import ServerCert


class TlsFront:
    def __init__(self, address: str, port: int, cert: ServerCert, upstream: tuple[str, int]) -> None:
        self.upstream = upstream
        self.context = cert.server_context()
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind((address, port))
        self.listener.listen(16)
        self.address, self.port = address, port
        self._stop = threading.Event()
        threading.Thread(target=self._accept, daemon=True, name="tls-front").start()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client: socket.socket) -> None:
        try:
            client.settimeout(10)
            secure = self.context.wrap_socket(client, server_side=True)
            upstream = socket.create_connection(self.upstream, timeout=10)
        except (OSError, ssl.SSLError):
            client.close()
            return
        with secure, upstream:
            pairs = {secure: upstream, upstream: secure}
            while not self._stop.is_set():
                readable, _, _ = select.select(list(pairs), [], [], 0.5)
                try:
                    for sock in readable:
                        data = sock.recv(65536)
                        if not data:
                            return
                        pairs[sock].sendall(data)
                    while secure.pending():
                        upstream.sendall(secure.recv(secure.pending()))
                except (OSError, ssl.SSLError):
                    return

    def close(self) -> None:
        self._stop.set()
        self.listener.close()
