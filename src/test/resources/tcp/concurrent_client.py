# Runs in the VM namespace: N threads, each downloads GET /data/<size>/<seed> and uploads the same bytes with PUT,
# checking both against the sha256 of the bytes it expects. Prints "ok N" or the failures.
import hashlib, http.client, random, sys, threading

host, count, size = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
failures = []
lock = threading.Lock()

def one(seed):
    try:
        expected = random.Random(seed).randbytes(size) if size <= (1 << 20) else None
        want = hashlib.sha256(expected).hexdigest()
        c = http.client.HTTPConnection(host, 8080, timeout=120)
        c.request("GET", "/data/%d/%d" % (size, seed))
        got = c.getresponse().read()
        if hashlib.sha256(got).hexdigest() != want:
            raise Exception("download %d: %d bytes, wrong sha256" % (seed, len(got)))
        c.request("PUT", "/sha256", body=expected)
        echoed = c.getresponse().read().decode().strip()
        if echoed != want:
            raise Exception("upload %d: server saw %s" % (seed, echoed))
        c.close()
    except Exception as e:
        with lock:
            failures.append("%d: %r" % (seed, e))

threads = [threading.Thread(target=one, args=(i,)) for i in range(count)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print("failures %d" % len(failures))
for f in failures[:10]:
    print(f)
if not failures:
    print("ok %d" % count)
