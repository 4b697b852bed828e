# A minimal WebSocket echo server (RFC 6455) for the web preview test; runs in a LAN host's namespace.
# Echoes text and binary messages; the text message "path?" is answered with the request path it was opened on.
import base64, hashlib, socket, struct, sys, threading

GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

def serve(c):
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = c.recv(4096)
        if not chunk:
            c.close()
            return
        data += chunk
    head, buf = data.split(b"\r\n\r\n", 1)
    lines = head.decode("latin-1").split("\r\n")
    path = lines[0].split(" ")[1]
    key = [l.split(":", 1)[1].strip() for l in lines if l.lower().startswith("sec-websocket-key:")][0]
    accept = base64.b64encode(hashlib.sha1((key + GUID).encode()).digest()).decode()
    c.sendall(("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
               "Sec-WebSocket-Accept: %s\r\n\r\n" % accept).encode())
    def need(n):
        nonlocal buf
        while len(buf) < n:
            chunk = c.recv(65536)
            if not chunk:
                raise EOFError
            buf += chunk
        out, buf = buf[:n], buf[n:]
        return out
    try:
        while True:
            b0, b1 = need(2)
            n = b1 & 127
            if n == 126:
                n = struct.unpack(">H", need(2))[0]
            elif n == 127:
                n = struct.unpack(">Q", need(8))[0]
            mask = need(4)
            payload = bytes(x ^ mask[i % 4] for i, x in enumerate(need(n)))
            op = b0 & 15
            if op == 8:
                c.sendall(bytes([0x88, 0]))
                return
            if op == 1 and payload == b"path?":
                payload = path.encode()
            n = len(payload)  # a fragment is echoed as a fragment (FIN kept)
            header = bytes([(b0 & 0x80) | op]) + (bytes([n]) if n < 126 else bytes([126]) + struct.pack(">H", n))
            c.sendall(header + payload)
    except EOFError:
        pass
    finally:
        c.close()

server = socket.socket()
server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
server.bind((sys.argv[1], int(sys.argv[2])))
server.listen(64)
while True:
    client, _ = server.accept()
    threading.Thread(target=serve, args=(client,), daemon=True).start()
