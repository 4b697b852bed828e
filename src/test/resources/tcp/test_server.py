# Test "internet" server for the TCP NAT tests; runs inside the internet namespace.
#   HTTP on 8080:  GET /data/<bytes>/<seed>  deterministic bytes (random.Random(seed).randbytes, 1 MiB blocks)
#                  PUT /sha256               answers the sha256 hex of the body
#   9000: reads until EOF (the client's half-close), then answers "<bytes read> <sha256>\n" and closes
#   9001: accepts and resets at once (SO_LINGER 0)
import hashlib, random, socket, struct, sys, threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

HOST = sys.argv[1]
BLOCK = 1 << 20

def blocks(size, seed):
    rng = random.Random(seed)
    left = size
    while left > 0:
        n = min(BLOCK, left)
        yield rng.randbytes(n)
        left -= n

class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def log_message(self, *args):
        pass
    def do_GET(self):
        parts = self.path.strip("/").split("/")
        if len(parts) != 3 or parts[0] != "data":
            self.send_error(404)
            return
        size, seed = int(parts[1]), int(parts[2])
        self.send_response(200)
        self.send_header("Content-Length", str(size))
        self.end_headers()
        for block in blocks(size, seed):
            self.wfile.write(block)
    def do_PUT(self):
        left = int(self.headers["Content-Length"])
        digest = hashlib.sha256()
        while left > 0:
            chunk = self.rfile.read(min(left, BLOCK))
            if not chunk:
                break
            digest.update(chunk)
            left -= len(chunk)
        body = (digest.hexdigest() + "\n").encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

class Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 512
    def server_bind(self):
        # No getfqdn(): the namespace has no resolver.
        socket.socket.bind(self.socket, self.server_address)
        self.server_name, self.server_port = self.server_address[:2]

def listener(port):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((HOST, port))
    s.listen(64)
    return s

def half_close_server():
    s = listener(9000)
    while True:
        c, _ = s.accept()
        def serve(c=c):
            digest, total = hashlib.sha256(), 0
            while True:
                chunk = c.recv(65536)
                if not chunk:
                    break
                digest.update(chunk)
                total += len(chunk)
            c.sendall(("%d %s\n" % (total, digest.hexdigest())).encode())
            c.close()
        threading.Thread(target=serve, daemon=True).start()

def reset_server():
    s = listener(9001)
    while True:
        c, _ = s.accept()
        c.recv(1)
        c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        c.close()

threading.Thread(target=half_close_server, daemon=True).start()
threading.Thread(target=reset_server, daemon=True).start()
print("ready", flush=True)
Server((HOST, 8080), Handler).serve_forever()
