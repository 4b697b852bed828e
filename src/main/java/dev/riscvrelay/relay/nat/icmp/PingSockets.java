package dev.riscvrelay.relay.nat.icmp;

import static java.lang.foreign.ValueLayout.JAVA_INT;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;

/**
 * Unprivileged ICMP echo sockets, {@code socket(AF_INET, SOCK_DGRAM, IPPROTO_ICMP)} and for IPv6
 * {@code socket(AF_INET6, SOCK_DGRAM, IPPROTO_ICMPV6)}, through the FFM API (the same sysctl rules both). Linux
 * allows them to processes whose group is inside {@code net.ipv4.ping_group_range} (no capability needed, and none
 * bypasses the range). The kernel rewrites each echo request's identifier to the socket's local "port" and its
 * checksum, and delivers only echo replies that carry that identifier. Uses only the JDK, so the probe can run in
 * a bare JVM.
 */
public final class PingSockets {

    /** The sysctl that decides who may open ping sockets. */
    public static final String SYSCTL = "net.ipv4.ping_group_range";

    private static final int AF_INET = 2;
    private static final int SOCK_DGRAM = 2;
    private static final int SOCK_NONBLOCK = 0x800;
    private static final int SOCK_CLOEXEC = 0x80000;
    private static final int IPPROTO_ICMP = 1;
    private static final int AF_INET6 = 10;
    private static final int IPPROTO_ICMPV6 = 58;
    static final int EACCES = 13;
    /** connect(): the host has no route to the destination's network. */
    public static final int ENETUNREACH = 101;
    /** connect(): the destination host is unreachable. */
    public static final int EHOSTUNREACH = 113;
    private static final int SOCKADDR_IN_SIZE = 16;
    private static final int SOCKADDR_IN6_SIZE = 28;

    private static final StructLayout CAPTURED = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO =
            CAPTURED.varHandle(MemoryLayout.PathElement.groupElement("errno"));
    private static final MethodHandle SOCKET;
    private static final MethodHandle CONNECT;
    private static final MethodHandle CLOSE;

    static {
        Linker linker = Linker.nativeLinker();
        var libc = linker.defaultLookup();
        Linker.Option errno = Linker.Option.captureCallState("errno");
        SOCKET = linker.downcallHandle(libc.find("socket").orElseThrow(),
                FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT), errno);
        CONNECT = linker.downcallHandle(libc.find("connect").orElseThrow(),
                FunctionDescriptor.of(JAVA_INT, JAVA_INT, ValueLayout.ADDRESS, JAVA_INT), errno);
        CLOSE = linker.downcallHandle(libc.find("close").orElseThrow(),
                FunctionDescriptor.of(JAVA_INT, JAVA_INT));
    }

    private PingSockets() {
    }

    /** A failed system call and its errno. */
    public static final class PingSocketException extends java.io.IOException {
        private static final long serialVersionUID = 1L;
        private final int errno;

        PingSocketException(String call, int errno) {
            super(call + " failed: errno " + errno + (errno == EACCES
                    ? " (EACCES: this process's group is outside " + SYSCTL + ")" : ""));
            this.errno = errno;
        }

        public int errno() {
            return errno;
        }
    }

    /**
     * Opens a non-blocking ping socket connected to {@code destination} (network-order int), so the kernel hands it
     * only that host's replies.
     *
     * @return the file descriptor, which the caller owns
     */
    public static int openConnected(int destination) throws PingSocketException {
        // struct sockaddr_in: family in host order, port and address in network order, 8 bytes of zero.
        return openConnected(AF_INET, IPPROTO_ICMP, "socket(AF_INET, SOCK_DGRAM, IPPROTO_ICMP)",
                "connect(ping socket)", SOCKADDR_IN_SIZE,
                address -> address.set(ValueLayout.JAVA_INT.withOrder(ByteOrder.BIG_ENDIAN), 4, destination));
    }

    /**
     * Opens a non-blocking ICMPv6 ping socket connected to {@code high}:{@code low}; the kernel rewrites the echo
     * identifier and computes the checksum over the IPv6 pseudo-header. A connect without a route fails here with
     * {@link #ENETUNREACH}.
     *
     * @return the file descriptor, which the caller owns
     */
    public static int openConnected6(long high, long low) throws PingSocketException {
        // struct sockaddr_in6: family in host order, port, flow info, the address in network order, scope id.
        return openConnected(AF_INET6, IPPROTO_ICMPV6, "socket(AF_INET6, SOCK_DGRAM, IPPROTO_ICMPV6)",
                "connect(ICMPv6 ping socket)", SOCKADDR_IN6_SIZE, address -> {
                    address.set(ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN), 8, high);
                    address.set(ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN), 16, low);
                });
    }

    /** A ping socket of {@code family}, connected to the address {@code fill} writes after the family. */
    private static int openConnected(int family, int protocol, String socketCall, String connectCall,
            int addressSize, java.util.function.Consumer<MemorySegment> fill) throws PingSocketException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CAPTURED);
            int fd = (int) SOCKET.invokeExact(state, family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, protocol);
            if (fd < 0) {
                throw new PingSocketException(socketCall, (int) ERRNO.get(state, 0L));
            }
            MemorySegment address = arena.allocate(addressSize);
            address.set(ValueLayout.JAVA_SHORT, 0, (short) family);
            fill.accept(address);
            if ((int) CONNECT.invokeExact(state, fd, address, addressSize) != 0) {
                int errno = (int) ERRNO.get(state, 0L);
                close(fd);
                throw new PingSocketException(connectCall, errno);
            }
            return fd;
        } catch (PingSocketException e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException("native call failed", t);
        }
    }

    public static void close(int fd) {
        try {
            int ignored = (int) CLOSE.invokeExact(fd);
        } catch (Throwable t) {
            throw new IllegalStateException("close(" + fd + ") failed", t);
        }
    }

    /**
     * Whether this process may open ping sockets: opens one and closes it.
     *
     * @return null when allowed, else why not
     */
    public static String probe() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CAPTURED);
            int fd = (int) SOCKET.invokeExact(state, AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, IPPROTO_ICMP);
            if (fd < 0) {
                int errno = (int) ERRNO.get(state, 0L);
                return errno == EACCES
                        ? "ICMP echo sockets are not allowed for this process's group: set " + SYSCTL
                                + " to a range that includes it (e.g. sysctl -w " + SYSCTL + "=\"0 2147483647\")"
                        : "socket(AF_INET, SOCK_DGRAM, IPPROTO_ICMP) failed with errno " + errno;
            }
            close(fd);
            return null;
        } catch (Throwable t) {
            return "native access to socket() failed: " + t;
        }
    }

    /** Prints {@code allowed} or {@code denied: reason}; exit status 0 or 3. For probing as another user. */
    public static void main(String[] args) {
        String denied = probe();
        System.out.println(denied == null ? "allowed" : "denied: " + denied);
        System.exit(denied == null ? 0 : 3);
    }
}
