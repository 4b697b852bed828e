package dev.riscvrelay.relay.transport.tap;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;

/**
 * The few Linux (x86_64/aarch64 glibc) calls a TAP device needs, bound once through the FFM API. Every handle
 * captures errno into a caller-owned state segment ({@link #newCallState}); a thread must use its own segment.
 *
 * <p>Constants come from {@code <linux/if_tun.h>}, {@code <linux/sockios.h>}, {@code <net/if.h>},
 * {@code <fcntl.h>}, {@code <poll.h>} and {@code <sys/eventfd.h>}; they are the same on every Linux architecture
 * that uses the generic ioctl encoding (x86, arm, riscv).
 */
final class LinuxSyscalls {

    // errno values (asm-generic/errno-base.h, errno.h)
    static final int EPERM = 1;
    static final int ENOENT = 2;
    static final int EINTR = 4;
    static final int EIO = 5;
    static final int ENXIO = 6;
    static final int EBADF = 9;
    static final int EAGAIN = 11;
    static final int EACCES = 13;
    static final int EBUSY = 16;
    static final int ENODEV = 19;
    static final int EINVAL = 22;
    static final int EBADFD = 77;

    // open(2) flags
    static final int O_RDWR = 0x2;
    static final int O_RDONLY = 0x0;
    static final int O_NONBLOCK = 0x800;
    static final int O_CLOEXEC = 0x80000;

    // TUNSETIFF = _IOW('T', 202, int); struct ifreq flags for it
    static final long TUNSETIFF = 0x400454caL;
    static final short IFF_TAP = 0x0002;
    static final short IFF_NO_PI = 0x1000;
    /** Every read and write starts with a struct virtio_net_hdr (10 bytes, little-endian on every host we run). */
    static final short IFF_VNET_HDR = 0x4000;

    // Interface ioctls on any socket (linux/sockios.h) and the link flag they set
    static final long SIOCGIFFLAGS = 0x8913;
    static final long SIOCSIFFLAGS = 0x8914;
    static final long SIOCGIFMTU = 0x8921;
    static final long SIOCSIFMTU = 0x8922;
    static final long SIOCSIFTXQLEN = 0x8943;
    static final short IFF_UP = 0x1;

    static final int AF_INET = 2;
    static final int SOCK_DGRAM = 2;
    static final int SOCK_CLOEXEC = O_CLOEXEC;

    static final int EFD_NONBLOCK = O_NONBLOCK;
    static final int EFD_CLOEXEC = O_CLOEXEC;

    static final short POLLIN = 0x1;
    static final short POLLERR = 0x8;
    static final short POLLHUP = 0x10;
    static final short POLLNVAL = 0x20;

    static final int CLONE_NEWNET = 0x40000000;

    /** struct ifreq: a 16-byte name, then a 24-byte union whose first member we use (short flags or int mtu). */
    static final int IFNAMSIZ = 16;
    static final long IFREQ_SIZE = 40;
    static final long IFREQ_UNION_OFFSET = 16;

    /** struct pollfd { int fd; short events; short revents; } */
    static final long POLLFD_SIZE = 8;
    static final long POLLFD_EVENTS_OFFSET = 4;
    static final long POLLFD_REVENTS_OFFSET = 6;

    private static final Linker LINKER = Linker.nativeLinker();
    private static final SymbolLookup LIBC = LINKER.defaultLookup();
    private static final Linker.Option CAPTURE_ERRNO = Linker.Option.captureCallState("errno");
    private static final StructLayout CALL_STATE = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO =
            CALL_STATE.varHandle(MemoryLayout.PathElement.groupElement("errno"));

    private static final MethodHandle OPEN = bind("open", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));
    private static final MethodHandle CLOSE = bind("close", FunctionDescriptor.of(JAVA_INT, JAVA_INT));
    private static final MethodHandle READ =
            bind("read", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG));
    private static final MethodHandle WRITE =
            bind("write", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG));
    private static final MethodHandle READV =
            bind("readv", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_INT));
    // ioctl(int fd, unsigned long request, ...): the third argument is variadic.
    private static final MethodHandle IOCTL = bind("ioctl",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG, ADDRESS), Linker.Option.firstVariadicArg(2));
    private static final MethodHandle POLL =
            bind("poll", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT));
    private static final MethodHandle EVENTFD = bind("eventfd", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT));
    private static final MethodHandle SOCKET =
            bind("socket", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT));
    private static final MethodHandle SETNS = bind("setns", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT));
    private static final MethodHandle STRERROR = LINKER.downcallHandle(
            LIBC.findOrThrow("strerror"), FunctionDescriptor.of(ADDRESS, JAVA_INT));

    private LinuxSyscalls() {
    }

    private static MethodHandle bind(String name, FunctionDescriptor descriptor, Linker.Option... extra) {
        Linker.Option[] options = new Linker.Option[extra.length + 1];
        options[0] = CAPTURE_ERRNO;
        System.arraycopy(extra, 0, options, 1, extra.length);
        return LINKER.downcallHandle(LIBC.findOrThrow(name), descriptor, options);
    }

    /** A segment that receives errno after each call; one per thread that makes calls. */
    static MemorySegment newCallState(Arena arena) {
        return arena.allocate(CALL_STATE);
    }

    static int errno(MemorySegment callState) {
        return (int) ERRNO.get(callState, 0L);
    }

    static String strerror(int errno) {
        try {
            MemorySegment text = (MemorySegment) STRERROR.invokeExact(errno);
            return text.reinterpret(256).getString(0);
        } catch (Throwable e) {
            return "errno " + errno;
        }
    }

    static int open(MemorySegment callState, MemorySegment path, int flags) {
        try {
            return (int) OPEN.invokeExact(callState, path, flags);
        } catch (Throwable e) {
            throw linkageBug(e);
        }
    }

    static int close(MemorySegment callState, int fd) {
        try {
            return (int) CLOSE.invokeExact(callState, fd);
        } catch (Throwable e) {
            throw linkageBug(e);
        }
    }

    static long read(MemorySegment callState, int fd, MemorySegment buffer, long count) {
        try {
            return (long) READ.invokeExact(callState, fd, buffer, count);
        } catch (Throwable e) {
            throw linkageBug(e);
        }
    }

    /** readv(2) into {@code count} struct iovec { void *base; size_t len; } at {@code iovecs}. */
    static long readv(MemorySegment callState, int fd, MemorySegment iovecs, int count) {
        try {
            return (long) READV.invokeExact(callState, fd, iovecs, count);
        } catch (Throwable e) {
            throw linkageBug(e);
        }
    }

    static long write(MemorySegment callState, int fd, MemorySegment buffer, long count) {
        try {
            return (long) WRITE.invokeExact(callState, fd, buffer, count);
        } catch (Throwable e) {
            throw linkageBug(e);
        }
    }

    static int ioctl(MemorySegment callState, int fd, long request, MemorySegment argument) {
        try {
            return (int) IOCTL.invokeExact(callState, fd, request, argument);
        } catch (Throwable e) {
            throw linkageBug(e);
        }
    }

    static int poll(MemorySegment callState, MemorySegment pollfds, long count, int timeoutMillis) {
        try {
            return (int) POLL.invokeExact(callState, pollfds, count, timeoutMillis);
        } catch (Throwable e) {
            throw linkageBug(e);
        }
    }

    static int eventfd(MemorySegment callState, int initialValue, int flags) {
        try {
            return (int) EVENTFD.invokeExact(callState, initialValue, flags);
        } catch (Throwable e) {
            throw linkageBug(e);
        }
    }

    static int socket(MemorySegment callState, int domain, int type, int protocol) {
        try {
            return (int) SOCKET.invokeExact(callState, domain, type, protocol);
        } catch (Throwable e) {
            throw linkageBug(e);
        }
    }

    static int setns(MemorySegment callState, int fd, int nsType) {
        try {
            return (int) SETNS.invokeExact(callState, fd, nsType);
        } catch (Throwable e) {
            throw linkageBug(e);
        }
    }

    private static IllegalStateException linkageBug(Throwable e) {
        return new IllegalStateException("native call failed to link", e);
    }
}
