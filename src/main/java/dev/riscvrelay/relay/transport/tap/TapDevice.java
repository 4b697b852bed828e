package dev.riscvrelay.relay.transport.tap;

import static dev.riscvrelay.relay.transport.tap.LinuxSyscalls.*;

import dev.riscvrelay.relay.lan.FrameSink;
import dev.riscvrelay.relay.metrics.Counter;
import dev.riscvrelay.relay.metrics.Counters;
import dev.riscvrelay.relay.wire.Checksums;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

/**
 * A Linux TAP device ({@code /dev/net/tun}, {@code IFF_TAP | IFF_NO_PI}): every read returns one whole Ethernet
 * frame (no FCS), every write sends one. Opened through the FFM API, no JNI.
 *
 * <p>Threading: one thread reads (it blocks in {@link #read} until a frame arrives or {@link #close} is called),
 * one thread writes; both may be different, and {@link #close} may come from any thread. Reads and writes go
 * straight between the kernel and the caller's direct buffer, without copies.
 *
 * <p>Frames larger than {@link Config#maxFrameSize()} are dropped whole (never split) and counted as
 * {@link Counter#DROP_TAP_TOO_LARGE}.
 *
 * <p>Namespaces: a TAP belongs to the network namespace of the thread that created it. Either create it here and
 * move it with {@code ip link set NAME netns NS} (the open file descriptor keeps working, but the move takes the
 * link down, so bring it up again inside NS), or create it inside a namespace with {@link #openInNamespace}.
 */
public final class TapDevice implements AutoCloseable {

    /**
     * Refuses a name Linux would refuse for an interface (its {@code dev_valid_name}): 1-15 bytes, not {@code .} or
     * {@code ..}, no {@code /}, {@code :} or white space; printable ASCII here, so that it reads the same everywhere.
     */
    public static void checkName(String name) {
        boolean valid = !name.isEmpty() && name.length() < IFNAMSIZ && !name.equals(".") && !name.equals("..")
                && name.chars().allMatch(c -> c > ' ' && c < 0x7F && c != '/' && c != ':');
        if (!valid) {
            throw new IllegalArgumentException("a TAP name is 1-15 printable ASCII characters without '/', ':' or"
                    + " spaces (and not . or ..): '" + name + "'");
        }
    }

    /**
     * How to open a TAP: its name (≤ 15 bytes), the MTU to set, the largest frame a read may return, and whether
     * writes may carry TCP super-frames ({@link SegmentCoalescer}): the device then speaks {@code IFF_VNET_HDR},
     * a virtio-net header before every frame.
     */
    public record Config(String name, int mtu, int maxFrameSize, boolean segmentOffload, int txQueueFrames) {
        public Config {
            checkName(name);
            if (mtu < 68 || mtu > 65521) {
                throw new IllegalArgumentException("MTU must be in 68..65521: " + mtu);
            }
            if (maxFrameSize < 14 || maxFrameSize > MAX_READ) {
                throw new IllegalArgumentException("maxFrameSize must be in 14.." + MAX_READ + ": " + maxFrameSize);
            }
            if (txQueueFrames < 1 || txQueueFrames > MAX_TX_QUEUE_FRAMES) {
                throw new IllegalArgumentException("the transmit queue must be 1.." + MAX_TX_QUEUE_FRAMES
                        + " frames: " + txQueueFrames);
            }
        }

        public Config(String name, int mtu, int maxFrameSize) {
            this(name, mtu, maxFrameSize, false, TX_QUEUE_FRAMES);
        }

        /** A TAP whose MTU matches the frame limit: nothing the kernel sends is dropped for size. */
        public static Config forMtu(String name, int mtu) {
            return new Config(name, mtu, mtu + ETHERNET_HEADER);
        }

        /** This config with TCP super-frame writes on (see {@link SegmentCoalescer}). */
        public Config withSegmentOffload() {
            return new Config(name, mtu, maxFrameSize, true, txQueueFrames);
        }

        /** This config with a transmit queue of {@code frames} instead of {@link #TX_QUEUE_FRAMES}. */
        public Config withTxQueue(int frames) {
            return new Config(name, mtu, maxFrameSize, segmentOffload, frames);
        }
    }

    /** Ethernet header without VLAN tag: destination, source, EtherType. */
    public static final int ETHERNET_HEADER = 14;

    /**
     * The frames the kernel queues on the device for this reader (its txqueuelen; Linux gives a TAP 1000). The
     * host's bulk TCP fills whatever queue the device has while the reader is busy, and everything else the host
     * sends waits behind it. Across the field bed's clean link, pings to the gateway during an iperf3 upload had a
     * median of 8.7 and 11 ms with 1000 frames, 2.0 and 2.2 ms with 200, 1.4 and 1.6 ms with 128. Upload rates
     * between two hosts, runs alternating: 200 averaged 585 Mbit/s against 548 for 1000; 128 averaged 557 against
     * 625, so 128 is not taken. {@code relay bench --parts field} reports the ping during an upload with this queue
     * and with Linux's.
     */
    public static final int TX_QUEUE_FRAMES = 200;
    /**
     * The transmit queue for a reader whose path to the relay is long (a round trip of 10 ms or more, where it paces
     * its datagrams): there the queue holds no standing backlog, since the reader takes frames off it at once into
     * its own paced queue, but it must take the bursts of a host's CUBIC. Each hole link recovery repairs holds the
     * acknowledgements back for about a repair time, and the host answers them with one burst of about that time's
     * worth of its rate; what overflows is a loss its TCP sees. Linux's own default.
     */
    public static final int LONG_PATH_TX_QUEUE_FRAMES = 1000;
    /** The longest transmit queue a TAP is given: ten times Linux's default. */
    public static final int MAX_TX_QUEUE_FRAMES = 10_000;

    /** The largest frame this class reads: 64 KiB, more than any TAP MTU (65521) plus header. */
    static final int MAX_READ = 65536;

    /** struct virtio_net_hdr without num_buffers: what IFF_VNET_HDR puts before each frame by default. */
    static final int VNET_HEADER = 10;
    static final int VNET_FLAGS = 0;
    static final int VNET_GSO_TYPE = 1;
    static final int VNET_HDR_LEN = 2;
    static final int VNET_GSO_SIZE = 4;
    static final int VNET_CSUM_START = 6;
    static final int VNET_CSUM_OFFSET = 8;
    static final byte VNET_F_NEEDS_CSUM = 1;
    static final byte VNET_GSO_NONE = 0;
    static final byte VNET_GSO_TCPV4 = 1;
    private static final ValueLayout.OfShort LE_SHORT =
            ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(java.nio.ByteOrder.LITTLE_ENDIAN);

    private static final long CLOSE_WAIT_NANOS = TimeUnit.SECONDS.toNanos(5);
    private static final int CLOSED = 1 << 30;

    private final String name;
    private final int maxFrameSize;
    private final boolean segmentOffload;
    private final Counters counters;
    private final int tapFd;
    private final int wakeFd;
    /** An AF_INET socket of the device's namespace: the link's ioctls (its transmit queue) act through it. */
    private final int controlFd;
    /** CLOSED bit plus the number of threads inside a read or write; close() waits for them to leave. */
    private final AtomicInteger state = new AtomicInteger();

    private final Arena arena = Arena.ofShared();
    private final MemorySegment readerCallState = newCallState(arena);
    private final MemorySegment writerCallState = newCallState(arena);
    private final MemorySegment closerCallState = newCallState(arena);
    private final MemorySegment pollFds = arena.allocate(POLLFD_SIZE * 2, 8);
    /** Where frames from heap or composite buffers (or behind a virtio-net header) are gathered before a write. */
    private final MemorySegment writeScratch = arena.allocate(VNET_HEADER + MAX_READ, 8);
    private final MemorySegment wakeValue = arena.allocate(8, 8);
    /** With IFF_VNET_HDR: the header of each read, and the two iovecs that split it from the frame. */
    private final MemorySegment readHeader = arena.allocate(VNET_HEADER, 8);
    private final MemorySegment readIovecs = arena.allocate(32, 8);

    private TapDevice(String name, int tapFd, int wakeFd, int controlFd, Config config, Counters counters) {
        this.name = name;
        this.tapFd = tapFd;
        this.wakeFd = wakeFd;
        this.controlFd = controlFd;
        this.maxFrameSize = config.maxFrameSize();
        this.segmentOffload = config.segmentOffload();
        this.counters = counters;
        pollFds.set(ValueLayout.JAVA_INT, 0, tapFd);
        pollFds.set(ValueLayout.JAVA_SHORT, POLLFD_EVENTS_OFFSET, POLLIN);
        pollFds.set(ValueLayout.JAVA_INT, POLLFD_SIZE, wakeFd);
        pollFds.set(ValueLayout.JAVA_SHORT, POLLFD_SIZE + POLLFD_EVENTS_OFFSET, POLLIN);
        wakeValue.set(ValueLayout.JAVA_LONG, 0, 1L);
    }

    /**
     * Opens (creating it if missing, not persistent) the TAP device {@code config.name()} in this process's
     * network namespace, sets its MTU and brings the link up.
     */
    public static TapDevice open(Config config, Counters counters) throws TapException {
        try (Arena call = Arena.ofConfined()) {
            MemorySegment callState = newCallState(call);
            int tapFd = openTap(call, callState, config.name(), config.segmentOffload());
            int wakeFd = -1;
            int controlFd = -1;
            try {
                // The socket stays in this namespace for later link changes, whichever thread makes them.
                controlFd = socket(callState, AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
                if (controlFd < 0) {
                    throw failure("socket(AF_INET, SOCK_DGRAM)", errno(callState));
                }
                configureLink(call, callState, controlFd, config.name(), config.mtu(), config.txQueueFrames());
                wakeFd = eventfd(callState, 0, EFD_NONBLOCK | EFD_CLOEXEC);
                if (wakeFd < 0) {
                    throw failure("eventfd", errno(callState));
                }
                return new TapDevice(config.name(), tapFd, wakeFd, controlFd, config, counters);
            } catch (TapException | RuntimeException e) {
                LinuxSyscalls.close(callState, tapFd);
                if (wakeFd >= 0) {
                    LinuxSyscalls.close(callState, wakeFd);
                }
                if (controlFd >= 0) {
                    LinuxSyscalls.close(callState, controlFd);
                }
                throw e;
            }
        }
    }

    /**
     * Like {@link #open}, but creates the TAP inside the network namespace named by {@code netnsFile} (e.g.
     * {@code /run/netns/NAME}, or {@code /proc/PID/ns/net}). setns(2) changes only the calling thread, so a
     * short-lived platform thread joins the namespace, opens and configures the device, and ends; the file
     * descriptor it leaves behind reads and writes the namespaced device from any thread.
     */
    public static TapDevice openInNamespace(Path netnsFile, Config config, Counters counters) throws TapException {
        TapDevice[] opened = new TapDevice[1];
        TapException[] failed = new TapException[1];
        Thread opener = Thread.ofPlatform().name("tap-open-" + config.name()).unstarted(() -> {
            try (Arena call = Arena.ofConfined()) {
                MemorySegment callState = newCallState(call);
                int nsFd = LinuxSyscalls.open(callState, call.allocateFrom(netnsFile.toString()),
                        O_RDONLY | O_CLOEXEC);
                if (nsFd < 0) {
                    failed[0] = new TapException("cannot open network namespace " + netnsFile + ": "
                            + strerror(errno(callState)), errno(callState));
                    return;
                }
                int joined = setns(callState, nsFd, CLONE_NEWNET);
                int setnsErrno = errno(callState);
                LinuxSyscalls.close(callState, nsFd);
                if (joined != 0) {
                    failed[0] = new TapException("cannot enter network namespace " + netnsFile + ": "
                            + strerror(setnsErrno) + " (needs CAP_SYS_ADMIN)", setnsErrno);
                    return;
                }
                opened[0] = open(config, counters);
            } catch (TapException e) {
                failed[0] = e;
            }
        });
        opener.start();
        try {
            opener.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new TapException("interrupted while opening TAP " + config.name(), EINTR);
        }
        if (failed[0] != null) {
            throw failed[0];
        }
        return opened[0];
    }

    private static int openTap(Arena call, MemorySegment callState, String name, boolean vnetHeader)
            throws TapException {
        int fd = LinuxSyscalls.open(callState, call.allocateFrom("/dev/net/tun"), O_RDWR | O_NONBLOCK | O_CLOEXEC);
        if (fd < 0) {
            int errno = errno(callState);
            throw switch (errno) {
                case EPERM, EACCES -> new TapException(
                        "no permission for /dev/net/tun: run as root or with CAP_NET_ADMIN", errno);
                case ENOENT, ENODEV, ENXIO -> new TapException(
                        "no /dev/net/tun: load the tun module (modprobe tun)", errno);
                default -> failure("open /dev/net/tun", errno);
            };
        }
        MemorySegment ifreq = ifreq(call, name);
        ifreq.set(ValueLayout.JAVA_SHORT, IFREQ_UNION_OFFSET,
                (short) (IFF_TAP | IFF_NO_PI | (vnetHeader ? IFF_VNET_HDR : 0)));
        if (ioctl(callState, fd, TUNSETIFF, ifreq) != 0) {
            int errno = errno(callState);
            LinuxSyscalls.close(callState, fd);
            throw switch (errno) {
                case EPERM, EACCES -> new TapException("no permission to create or attach TAP " + name
                        + ": run as root or with CAP_NET_ADMIN (or create it persistent for this user)", errno);
                case EBUSY -> new TapException("TAP name " + name
                        + " is in use (another process has it open, or a non-TAP device has this name)", errno);
                case EINVAL -> new TapException("TAP name " + name
                        + " is taken by a device of another kind (e.g. a TUN device)", errno);
                default -> failure("ioctl(TUNSETIFF) for " + name, errno);
            };
        }
        return fd;
    }

    /**
     * MTU, transmit queue length and IFF_UP are set through {@code sock}, an AF_INET socket: these ioctls act on the
     * socket's namespace.
     */
    private static void configureLink(Arena call, MemorySegment callState, int sock, String name, int mtu,
            int txQueueFrames) throws TapException {
        MemorySegment ifreq = ifreq(call, name);
        ifreq.set(ValueLayout.JAVA_INT, IFREQ_UNION_OFFSET, mtu);
        if (ioctl(callState, sock, SIOCSIFMTU, ifreq) != 0) {
            throw failure("ioctl(SIOCSIFMTU, " + mtu + ") for " + name, errno(callState));
        }
        // Best effort: a kernel or a sandbox that refuses it leaves the device's own queue, which still works.
        ifreq = ifreq(call, name);
        ifreq.set(ValueLayout.JAVA_INT, IFREQ_UNION_OFFSET, txQueueFrames);
        ioctl(callState, sock, SIOCSIFTXQLEN, ifreq);
        ifreq = ifreq(call, name);
        if (ioctl(callState, sock, SIOCGIFFLAGS, ifreq) != 0) {
            throw failure("ioctl(SIOCGIFFLAGS) for " + name, errno(callState));
        }
        short flags = ifreq.get(ValueLayout.JAVA_SHORT, IFREQ_UNION_OFFSET);
        ifreq.set(ValueLayout.JAVA_SHORT, IFREQ_UNION_OFFSET, (short) (flags | IFF_UP));
        if (ioctl(callState, sock, SIOCSIFFLAGS, ifreq) != 0) {
            throw failure("ioctl(SIOCSIFFLAGS, IFF_UP) for " + name, errno(callState));
        }
    }

    /**
     * Sets the device's transmit queue to {@code frames} (1..{@link #MAX_TX_QUEUE_FRAMES}), from any thread; false
     * when the kernel refused or the device is closed. Frames already queued stay.
     */
    public boolean setTxQueue(int frames) {
        if (frames < 1 || frames > MAX_TX_QUEUE_FRAMES) {
            throw new IllegalArgumentException("the transmit queue must be 1.." + MAX_TX_QUEUE_FRAMES + " frames: "
                    + frames);
        }
        if (!enter()) {
            return false;
        }
        try (Arena call = Arena.ofConfined()) {
            MemorySegment ifreq = ifreq(call, name);
            ifreq.set(ValueLayout.JAVA_INT, IFREQ_UNION_OFFSET, frames);
            return ioctl(newCallState(call), controlFd, SIOCSIFTXQLEN, ifreq) == 0;
        } finally {
            exit();
        }
    }

    private static MemorySegment ifreq(Arena call, String name) {
        MemorySegment ifreq = call.allocate(IFREQ_SIZE, 8); // zeroed by the arena
        MemorySegment.copy(name.getBytes(StandardCharsets.US_ASCII), 0, ifreq, ValueLayout.JAVA_BYTE, 0,
                name.length());
        return ifreq;
    }

    private static TapException failure(String what, int errno) {
        return new TapException(what + " failed: " + strerror(errno) + " (errno " + errno + ")", errno);
    }

    public String name() {
        return name;
    }

    public int maxFrameSize() {
        return maxFrameSize;
    }

    /**
     * Reads the next frame into {@code dst} at its writer index and advances the writer index by the frame's
     * length. Blocks until a frame that fits {@link #maxFrameSize()} arrives (larger ones are dropped and counted)
     * or the device is closed. {@code dst} must be direct and have at least {@code maxFrameSize() + 1} writable
     * bytes (the extra byte tells an oversized frame from one of exactly the limit).
     *
     * @return the frame length, or -1 once the device is closed
     */
    public int read(ByteBuf dst) throws TapException {
        return read(dst, true);
    }

    /**
     * As {@link #read(ByteBuf)} without waiting: 0 when no frame is waiting. For a reader driven by readiness
     * events on an event loop ({@link #fd()}).
     *
     * @return the frame length, 0 when none is waiting, or -1 once the device is closed
     */
    public int tryRead(ByteBuf dst) throws TapException {
        return read(dst, false);
    }

    private int read(ByteBuf dst, boolean wait) throws TapException {
        int room = maxFrameSize + 1;
        if (dst.writableBytes() < room) {
            throw new IllegalArgumentException("need " + room + " writable bytes, buffer has " + dst.writableBytes());
        }
        int length = read(addressOf(dst, dst.writerIndex(), room), wait);
        if (length > 0) {
            dst.writerIndex(dst.writerIndex() + length);
        }
        return length;
    }

    /** The TAP's file descriptor (non-blocking), for readiness events; the device keeps owning and closes it. */
    int fd() {
        return tapFd;
    }

    /**
     * Reads the next frame into {@code dst} (a native segment of at least {@code maxFrameSize() + 1} bytes);
     * see {@link #read(ByteBuf)}.
     *
     * @return the frame length, or -1 once the device is closed
     */
    public int read(MemorySegment dst) throws TapException {
        return read(dst, true);
    }

    private int read(MemorySegment dst, boolean wait) throws TapException {
        if (!dst.isNative() || dst.byteSize() < maxFrameSize + 1L) {
            throw new IllegalArgumentException("need a native segment of " + (maxFrameSize + 1) + " bytes");
        }
        if (!enter()) {
            return -1;
        }
        try {
            long room = maxFrameSize + 1L;
            if (segmentOffload) {
                readIovecs.set(ValueLayout.ADDRESS, 0, readHeader);
                readIovecs.set(ValueLayout.JAVA_LONG, 8, VNET_HEADER);
                readIovecs.set(ValueLayout.ADDRESS, 16, dst);
                readIovecs.set(ValueLayout.JAVA_LONG, 24, room);
            }
            while (true) {
                long got = segmentOffload ? readv(readerCallState, tapFd, readIovecs, 2)
                        : LinuxSyscalls.read(readerCallState, tapFd, dst, room);
                long length = !segmentOffload || got < 0 ? got : Math.max(0, got - VNET_HEADER);
                if (length > 0 && segmentOffload && !acceptVnetHeader(dst, (int) length)) {
                    continue;
                }
                if (length > maxFrameSize) {
                    // The kernel cuts a frame to the buffer and returns the cut length (the rest is lost), so a
                    // read that fills limit + 1 bytes was a frame too big to forward.
                    counters.increment(Counter.DROP_TAP_TOO_LARGE);
                    continue;
                }
                if (length > 0) {
                    return (int) length;
                }
                int errno = length == 0 ? EAGAIN : errno(readerCallState);
                if (errno == EINTR) {
                    continue;
                }
                if (errno != EAGAIN) {
                    throw failure("read from TAP " + name, errno);
                }
                if (!wait) {
                    return 0;
                }
                if (!awaitReadable()) {
                    return -1;
                }
            }
        } finally {
            exit();
        }
    }

    /**
     * Checks the virtio-net header of a frame just read. No offloads are switched on (TUNSETOFFLOAD), so the
     * kernel sends whole, checksummed frames; should it still mark one as needing its checksum, it is finished
     * here. A segmentation offload frame is dropped and counted: it would exceed the frame limit.
     */
    private boolean acceptVnetHeader(MemorySegment frame, int length) {
        if (readHeader.get(ValueLayout.JAVA_BYTE, VNET_GSO_TYPE) != VNET_GSO_NONE) {
            counters.increment(Counter.DROP_TAP_TOO_LARGE);
            return false;
        }
        if ((readHeader.get(ValueLayout.JAVA_BYTE, VNET_FLAGS) & VNET_F_NEEDS_CSUM) != 0) {
            int start = Short.toUnsignedInt(readHeader.get(LE_SHORT, VNET_CSUM_START));
            int field = start + Short.toUnsignedInt(readHeader.get(LE_SHORT, VNET_CSUM_OFFSET));
            if (field + 2 > length) {
                counters.increment(Counter.DROP_TAP_TOO_LARGE);
                return false;
            }
            // The field holds the pseudo-header sum; the sum from csum_start to the end completes it. A rare path
            // (no offloads are on), so a wrapper per frame is fine here.
            ByteBuf bytes = Unpooled.wrappedBuffer(frame.asSlice(0, length).asByteBuffer());
            bytes.setShort(field, Checksums.internetChecksum(bytes, start, length - start));
        }
        return true;
    }

    /** Waits until the TAP has a frame (true) or close() woke us (false). */
    private boolean awaitReadable() throws TapException {
        while (true) {
            if ((state.get() & CLOSED) != 0) {
                return false;
            }
            int ready = poll(readerCallState, pollFds, 2, -1);
            if (ready < 0) {
                int errno = errno(readerCallState);
                if (errno == EINTR) {
                    continue;
                }
                throw failure("poll on TAP " + name, errno);
            }
            short wakeEvents = pollFds.get(ValueLayout.JAVA_SHORT, POLLFD_SIZE + POLLFD_REVENTS_OFFSET);
            if (wakeEvents != 0) {
                return false;
            }
            short tapEvents = pollFds.get(ValueLayout.JAVA_SHORT, POLLFD_REVENTS_OFFSET);
            if ((tapEvents & (POLLERR | POLLHUP | POLLNVAL)) != 0) {
                throw new TapException("TAP " + name + " failed while polling (revents 0x"
                        + Integer.toHexString(tapEvents & 0xffff) + ")", EIO);
            }
            if ((tapEvents & POLLIN) != 0) {
                return true;
            }
        }
    }

    /**
     * Writes the readable bytes of {@code frame} as one frame. Does not change the buffer's indices or reference
     * count. A frame the kernel refuses (link down, queue full) is counted as {@link Counter#DROP_TAP_WRITE_FAILED}.
     *
     * @return true if the kernel took the frame; false if it was dropped or the device is closed
     */
    public boolean write(ByteBuf frame) {
        int length = frame.readableBytes();
        if (length > MAX_READ) {
            counters.increment(Counter.DROP_TAP_WRITE_FAILED);
            return false;
        }
        MemorySegment source;
        if (frame.hasMemoryAddress() || (frame.isDirect() && frame.nioBufferCount() == 1)) {
            source = addressOf(frame, frame.readerIndex(), length);
        } else {
            source = writeScratch.asSlice(segmentOffload ? VNET_HEADER : 0);
            frame.getBytes(frame.readerIndex(), source.asByteBuffer().limit(length));
        }
        return write(source, length);
    }

    /** Writes the first {@code length} bytes of the native segment {@code frame} as one frame. */
    public boolean write(MemorySegment frame, int length) {
        if (segmentOffload) {
            // A plain frame behind an all-zero header (no offload); rare here: TapPort writes through a coalescer.
            writeScratch.set(ValueLayout.JAVA_LONG, 0, 0L);
            writeScratch.set(ValueLayout.JAVA_SHORT, 8, (short) 0);
            MemorySegment.copy(frame, 0, writeScratch, VNET_HEADER, length);
            return writeWithHeader(writeScratch, VNET_HEADER + length);
        }
        return writeRaw(frame, length);
    }

    /**
     * Writes {@code length} bytes that start with a virtio-net header (only on a device opened with
     * {@link Config#segmentOffload()}): a TCP super-frame the kernel takes as one GSO packet.
     */
    boolean writeWithHeader(MemorySegment headerAndFrame, int length) {
        if (!segmentOffload) {
            throw new IllegalStateException("TAP " + name + " was opened without a virtio-net header");
        }
        return writeRaw(headerAndFrame, length);
    }

    /**
     * As the {@link FrameSink} of a {@link SegmentCoalescer}: writes the readable bytes of {@code headerAndFrame}
     * (a virtio-net header, then the frame) like {@link #writeWithHeader(MemorySegment, int)}, and releases it.
     */
    void writeWithHeader(ByteBuf headerAndFrame) {
        try {
            int length = headerAndFrame.readableBytes();
            writeWithHeader(addressOf(headerAndFrame, headerAndFrame.readerIndex(), length), length);
        } finally {
            headerAndFrame.release();
        }
    }

    /** Whether writes may carry TCP super-frames (the device was opened with IFF_VNET_HDR). */
    public boolean segmentOffload() {
        return segmentOffload;
    }

    Counters counters() {
        return counters;
    }

    private boolean writeRaw(MemorySegment frame, int length) {
        if (!enter()) {
            return false;
        }
        try {
            while (true) {
                long written = LinuxSyscalls.write(writerCallState, tapFd, frame, length);
                if (written == length) {
                    return true;
                }
                if (written < 0 && errno(writerCallState) == EINTR) {
                    continue;
                }
                counters.increment(Counter.DROP_TAP_WRITE_FAILED);
                return false;
            }
        } finally {
            exit();
        }
    }

    private static MemorySegment addressOf(ByteBuf buf, int index, int length) {
        if (buf.hasMemoryAddress()) {
            return MemorySegment.ofAddress(buf.memoryAddress() + index).reinterpret(length);
        }
        if (!buf.isDirect() || buf.nioBufferCount() != 1) {
            throw new IllegalArgumentException("TAP reads need a direct, single-component buffer");
        }
        ByteBuffer nio = buf.nioBuffer(index, length);
        return MemorySegment.ofBuffer(nio);
    }

    private boolean enter() {
        while (true) {
            int current = state.get();
            if ((current & CLOSED) != 0) {
                return false;
            }
            if (state.compareAndSet(current, current + 1)) {
                return true;
            }
        }
    }

    private void exit() {
        state.decrementAndGet();
    }

    public boolean isClosed() {
        return (state.get() & CLOSED) != 0;
    }

    /**
     * Closes the device: wakes a blocked reader (its read returns -1), waits up to 5 s for reads and writes in
     * progress to leave, then closes the file descriptors. The kernel deletes a non-persistent TAP with its last
     * descriptor. Idempotent.
     */
    @Override
    public void close() {
        int before = state.getAndUpdate(s -> s | CLOSED);
        if ((before & CLOSED) != 0) {
            return;
        }
        // A blocked poll() on the TAP is not woken by close(2) of its fd; the eventfd is.
        LinuxSyscalls.write(closerCallState, wakeFd, wakeValue, 8);
        long deadline = System.nanoTime() + CLOSE_WAIT_NANOS;
        while ((state.get() & ~CLOSED) != 0 && System.nanoTime() < deadline) {
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(1));
        }
        LinuxSyscalls.close(closerCallState, tapFd);
        LinuxSyscalls.close(closerCallState, wakeFd);
        LinuxSyscalls.close(closerCallState, controlFd);
        if ((state.get() & ~CLOSED) == 0) {
            arena.close();
        }
        // else: a caller is stuck inside a call; leave its memory mapped rather than risk a crash.
    }

    @Override
    public String toString() {
        return "tap " + name;
    }
}
