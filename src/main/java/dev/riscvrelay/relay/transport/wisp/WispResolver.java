package dev.riscvrelay.relay.transport.wisp;

import io.netty.util.NetUtil;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.function.IntConsumer;

/**
 * Turns a CONNECT's host name into an IPv4 address with the host's resolver ({@code /etc/hosts}, {@code
 * /etc/resolv.conf}, the JVM's cache). Literals are answered at once; names are looked up on a few threads of their
 * own, never on the event loop, with a bounded queue, and the answer is handed back on the caller's loop.
 */
final class WispResolver implements AutoCloseable {

    /** No IPv4 address: the name does not resolve, or only to IPv6, which the egress policy does not cover. */
    static final int NONE = 0;

    private final ThreadPoolExecutor threads;

    WispResolver(int threadCount, int queued) {
        this.threads = new ThreadPoolExecutor(threadCount, threadCount, 30, TimeUnit.SECONDS,
                new ArrayBlockingQueue<>(queued), runnable -> {
                    Thread thread = new Thread(runnable, "wisp-resolver");
                    thread.setDaemon(true);
                    return thread;
                });
        threads.allowCoreThreadTimeOut(true);
    }

    /**
     * Resolves {@code host}; {@code done} gets the address (network order) or {@link #NONE}, on {@code loop}.
     *
     * @return false when the queue is full ({@code done} is not called)
     */
    boolean resolve(String host, Executor loop, IntConsumer done) {
        byte[] literal = NetUtil.createByteArrayFromIpAddressString(host);
        if (literal != null) {
            done.accept(literal.length == 4 ? toInt(literal) : NONE);
            return true;
        }
        try {
            threads.execute(() -> {
                int address = lookUp(host);
                loop.execute(() -> done.accept(address));
            });
            return true;
        } catch (RejectedExecutionException e) {
            return false;
        }
    }

    private static int lookUp(String host) {
        try {
            for (InetAddress address : InetAddress.getAllByName(host)) {
                if (address instanceof Inet4Address) {
                    return toInt(address.getAddress());
                }
            }
        } catch (UnknownHostException | SecurityException e) {
            // no address: the caller closes the stream as unreachable
        }
        return NONE;
    }

    private static int toInt(byte[] b) {
        return (b[0] & 0xFF) << 24 | (b[1] & 0xFF) << 16 | (b[2] & 0xFF) << 8 | (b[3] & 0xFF);
    }

    @Override
    public void close() {
        threads.shutdownNow();
    }
}
