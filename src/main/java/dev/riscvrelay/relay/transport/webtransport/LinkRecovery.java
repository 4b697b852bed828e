package dev.riscvrelay.relay.transport.webtransport;

import dev.riscvrelay.relay.metrics.Counter;
import dev.riscvrelay.relay.metrics.Counters;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.LongSupplier;

/**
 * Link recovery: a lost frame sent once more across the QUIC link, so the TCP inside the frames does not see the
 * path's random loss. QUIC datagrams are never retransmitted (RFC 9221), and a guest's TCP that sees 1% loss at
 * 20 ms slows to a few Mbit/s (its rate is about MSS / RTT * 1.22 / sqrt(loss)); a link layer that repairs its own
 * losses, as Wi-Fi does, leaves it the rare loss a second try also lost.
 *
 * <p>Both ends of a session that agreed on it at the CONNECT ({@link #HEADER}) put a type byte and a sequence number
 * in front of every frame:
 * <pre>
 *   DATA    0x00, seq (u32, big-endian), the Ethernet frame
 *   NACK    0x01, count (u8, 1..64), count × seq (u32): "send these once more"
 *   PARITY  0x02, group (u16), XOR of the group's frame lengths (u16), XOR of its frames (each padded with zeros)
 * </pre>
 * The receiver names each gap in a NACK at once and delivers frames in order, as a mobile network's radio link
 * does: the frames after a hole wait (at most {@link #MAX_HELD}) until it is filled, so the TCP inside sees neither
 * the loss nor a reordering it would take for loss (a NewReno sender halves its window on three duplicate ACKs,
 * repaired or not). A hole still open after 1.5 repair times (the measured time from asking to filling) is asked
 * for again, and after 4 repair times it is given up: the frames behind it go on, and the TCP inside recovers that
 * loss itself. Asks are budgeted ({@link #ASK_BUDGET_PERCENT}): loss beyond the budget is congestion, and is left
 * for the TCP inside to see. A second copy of a frame is dropped. The sender keeps a copy of its
 * last {@link #SLOTS} datagrams in one buffer and resends those of the newer three quarters it is asked for
 * ({@link #RESEND_WINDOW}).
 *
 * <p>Owned by one thread (the session's event loop): both directions' state, no locks. Per frame the sender copies
 * it into its slot once and writes a slice of that slot, so the frame's own buffer goes back at once.
 * The caller flushes the QUIC channel at least every {@link #SLOTS}/4 writes ({@link #flushDue}), so a slot is
 * never overwritten while a slice of it still waits for the flush that copies it into the QUIC stack: a resend
 * leaves at most {@link #RESEND_WINDOW} writes after its frame, a quarter of the slots before they come round.
 *
 * <p>Parity ({@link #PARITY_HEADER_NAME}, agreed at the CONNECT): on a long path, where a NACK's repair takes a round
 * trip of 10 ms or more and every hole holds the frames behind it that long, the sender follows each group of
 * {@link #PARITY_GROUP} frames (sequence numbers {@code 16g} to {@code 16g + 15}) with the XOR of them. The receiver
 * keeps a running XOR of each recent group ({@link #PARITY_GROUPS}, from the first parity it gets on), and when a
 * group's parity and all its frames but one are in, the XOR left is the missing frame: the hole closes within
 * sixteen frames of the loss instead of a round trip later. A second loss in the group waits for its resend as
 * before, and the NACK sent at once still brings a resend, which arrives as a duplicate. Across 1% random loss a
 * parity repairs most holes for a sixteenth more datagrams. None is sent on a short path, where a resend comes as
 * fast, nor on a path where nothing was lost for {@link #PARITY_AFTER_LOSS_NANOS}.
 */
final class LinkRecovery {

    /** The request header a client sends to ask for link recovery and the server echoes when it grants it. */
    static final String HEADER = "relay-link-recovery";
    static final String VERSION = "1";

    static final byte DATA = 0x00;
    static final byte NACK = 0x01;
    static final byte PARITY = 0x02;
    /** Type byte, group number (u16) and the XOR of the group's frame lengths (u16) in front of a parity's bytes. */
    static final int PARITY_HEADER = 1 + Short.BYTES + Short.BYTES;
    /**
     * Frames one parity datagram covers. Across the internet profile's 1% loss on two links, groups of 16 and 32 gave
     * the same host-to-host rate and groups of 8 less (their datagrams cost more than the repairs they add); at 3%
     * loss a group of 16 still has a single loss in about 60% of the groups a loss hits, one of 32 in about 38%.
     */
    static final int PARITY_GROUP = 16;
    private static final int PARITY_SHIFT = Integer.numberOfTrailingZeros(PARITY_GROUP);
    /** Groups the receiver keeps a running XOR of: 512 frames, about 60 ms at 100 Mbit/s. */
    static final int PARITY_GROUPS = 32;
    /** Parity is sent while the peer asked for a resend within this long: a path that loses nothing gets none. */
    static final long PARITY_AFTER_LOSS_NANOS = TimeUnit.SECONDS.toNanos(2);
    /**
     * The request header a client sends, beside {@link #HEADER}, when it takes parity datagrams and sends them; the
     * server echoes it when it does both too. Its value is the group's size: only {@link #PARITY_GROUP} is spoken.
     */
    static final String PARITY_HEADER_NAME = "relay-link-parity";
    static final String PARITY_VERSION = Integer.toString(PARITY_GROUP);
    /** Type byte and sequence number in front of each frame. */
    static final int DATA_HEADER = 1 + Integer.BYTES;
    /** Sequence numbers one NACK datagram names at most. */
    static final int MAX_NACK_SEQS = 64;
    /** Datagrams the sender keeps; only the newer {@link #RESEND_WINDOW} are resent (see the class comment). */
    static final int SLOTS = 1024;
    /**
     * How far back a frame is still resent, and how many frames wait behind one hole at most: room for a second
     * try. At 100 Mbit/s and a 20 ms round trip, 768 datagrams are 90 ms; a hole asked for again after 1.5 repair
     * times is filled at about 65 ms. With half the slots (60 ms) every lost NACK or resend was a frame given up,
     * and a loss for the TCP inside.
     */
    static final int RESEND_WINDOW = SLOTS / 4 * 3;
    /** Sequence numbers the receiver remembers, for telling a late frame from a duplicate. */
    static final int WINDOW = 2048;
    /** A gap this large is an outage, not loss: nothing in it is asked for. */
    static final int MAX_GAP = 64;
    /** Frames that wait behind one hole at most before it is given up. */
    static final int MAX_HELD = RESEND_WINDOW;
    static final int MAX_NACKS = 2;
    /**
     * Asks are budgeted to 3% of the frames received (in hundredths of an ask per frame; up to 64 asks saved up).
     * Random loss stays under it and is repaired; loss beyond it is a queue overflowing somewhere on the path, and
     * those frames are left lost at once, so the TCP inside sees its congestion and slows down, instead of the
     * repairs hiding it and adding to it.
     */
    static final int ASK_BUDGET_PERCENT = 3;
    /** Both budgets count in hundredths: one ask, or one resend, costs this much credit. */
    private static final int CREDIT_UNIT = 100;
    private static final int MAX_ASK_CREDIT = 64 * CREDIT_UNIT;
    /**
     * Resends are budgeted too, to 10% of the frames sent (up to 128 saved up): a peer that asks for more, or for one
     * frame over and over, cannot make this end send more than a tenth again of what it sent.
     */
    static final int RESEND_BUDGET_PERCENT = 10;
    private static final int MAX_RESEND_CREDIT = 128 * CREDIT_UNIT;
    private static final long INITIAL_REPAIR_NANOS = TimeUnit.MILLISECONDS.toNanos(50);
    private static final long MIN_TICK_NANOS = TimeUnit.MILLISECONDS.toNanos(1);
    /**
     * The longest frames wait behind a hole, whatever the repair time: below the 200 ms a TCP sender waits at least
     * before its retransmission timeout (RFC 6298's 1 s, Linux's 200 ms), so waiting never costs the TCP inside a
     * timeout and a collapse of its window.
     */
    static final long MAX_HOLD_NANOS = TimeUnit.MILLISECONDS.toNanos(150);

    /** Runs a task on the owner's event loop after a delay. */
    @FunctionalInterface
    interface Timer {
        void schedule(Runnable task, long delayNanos);
    }

    private final ByteBufAllocator alloc;
    private final Counters counters;
    private final LongSupplier nanoClock;
    private final long quarterStreamId;
    private final int prefixLength;
    /** Datagrams to the peer: resends and NACKs (the owner writes them and flushes within its loop turn). */
    private final Consumer<ByteBuf> link;
    /** Frames in order, to the receiver's side of the session. */
    private final Consumer<ByteBuf> deliver;
    private final Timer timer;
    private final Runnable tick = this::onTick;
    private boolean released;

    // Sending: one buffer of SLOTS slots, allocated at the first frame.
    private final int slotSize;
    private ByteBuf slots;
    private final int[] slotSeq = new int[SLOTS];
    private final int[] slotLength = new int[SLOTS];
    private int nextSeq;
    private int unflushed;
    private int resendCredit = MAX_RESEND_CREDIT;
    /** Whether this end sends a parity datagram after each group of frames (long paths only: see data()). */
    private final boolean sendParity;
    private final ParityXor outgoingParity;
    /** Whether every frame of the group being sent went into {@link #outgoingParity}. */
    private boolean parityGroupCovered;
    /** When the peer last asked for a resend: parity goes only where frames are lost. */
    private long lastNackAt;
    private boolean nackSeen;
    /** Bytes of parity datagrams written since {@link #takeParityBytes()}. */
    private int parityBytes;

    // Receiving: the frames after a hole wait in held[] until it fills or is given up.
    private boolean started;
    private int highest;
    private int nextInOrder;
    private final long[] seen = new long[WINDOW / Long.SIZE];
    private final ByteBuf[] held = new ByteBuf[WINDOW];
    private final long[] firstAskedAt = new long[WINDOW];
    private final long[] lastAskedAt = new long[WINDOW];
    private final byte[] asks = new byte[WINDOW];
    private long repairNanos = INITIAL_REPAIR_NANOS;
    private int askCredit = MAX_ASK_CREDIT;
    private boolean timerSet;
    private final int[] toAsk = new int[MAX_NACK_SEQS];
    private int toAskCount;
    /** The receiver's running XOR per group, allocated at the first parity datagram. */
    private ParityXor[] incomingParity;

    /**
     * @param slotSize the largest datagram the connection sends
     * @param link where resends and NACKs go (the owner writes them to the QUIC connection)
     * @param deliver where received frames go, in order
     * @param sendParity whether to send parity datagrams (on long paths), which the peer agreed to take
     */
    LinkRecovery(int slotSize, long quarterStreamId, int prefixLength, ByteBufAllocator alloc, Counters counters,
            LongSupplier nanoClock, Consumer<ByteBuf> link, Consumer<ByteBuf> deliver, Timer timer,
            boolean sendParity) {
        this.sendParity = sendParity;
        this.outgoingParity = sendParity ? new ParityXor(slotSize) : null;
        this.slotSize = slotSize;
        this.quarterStreamId = quarterStreamId;
        this.prefixLength = prefixLength;
        this.alloc = alloc;
        this.counters = counters;
        this.nanoClock = nanoClock;
        this.link = link;
        this.deliver = deliver;
        this.timer = timer;
    }

    // ---- sending ----

    /**
     * The datagram for {@code frame} (whose reference this takes): prefix, DATA, the next sequence number, the
     * frame, copied into its slot. Returns a slice of the slot to write, or null when the frame is larger than a
     * slot (released, counted as too large). On a {@code longPath} (where a NACK's repair takes a round trip of 10 ms
     * or more) a parity datagram follows each group of {@link #PARITY_GROUP} frames through the link, when the peer
     * agreed to it and asked for a resend within {@link #PARITY_AFTER_LOSS_NANOS}.
     */
    ByteBuf data(ByteBuf frame, boolean longPath) {
        int length = prefixLength + DATA_HEADER + frame.readableBytes();
        if (length > slotSize) {
            frame.release();
            counters.increment(Counter.DROP_TOO_LARGE);
            return null;
        }
        if (slots == null) {
            slots = alloc.directBuffer(SLOTS * slotSize, SLOTS * slotSize);
        }
        int seq = nextSeq++;
        int slot = seq & (SLOTS - 1);
        int at = slot * slotSize;
        QuicVarint.set(slots, at, quarterStreamId, prefixLength);
        slots.setByte(at + prefixLength, DATA);
        slots.setInt(at + prefixLength + 1, seq);
        slots.setBytes(at + prefixLength + DATA_HEADER, frame, frame.readerIndex(), frame.readableBytes());
        frame.release();
        slotSeq[slot] = seq;
        slotLength[slot] = length;
        unflushed++;
        resendCredit = Math.min(MAX_RESEND_CREDIT, resendCredit + RESEND_BUDGET_PERCENT);
        ByteBuf datagram = slots.retainedSlice(at, length);
        if (sendParity) {
            addToParity(seq, at + prefixLength + DATA_HEADER, length - prefixLength - DATA_HEADER, longPath);
        }
        return datagram;
    }

    /**
     * XORs the frame of {@code seq} (in its slot) into the group's parity; after the group's last frame the parity
     * goes through the link, if every frame of the group went in (a group that began on a short path is not covered).
     */
    private void addToParity(int seq, int frameAt, int frameLength, boolean longPath) {
        int position = seq & (PARITY_GROUP - 1);
        if (position == 0) {
            outgoingParity.reset(seq >>> PARITY_SHIFT);
            parityGroupCovered = longPath && nackSeen && nanoClock.getAsLong() - lastNackAt < PARITY_AFTER_LOSS_NANOS;
        }
        if (!parityGroupCovered) {
            return;
        }
        outgoingParity.addFrame(position, slots, frameAt, frameLength);
        if (position == PARITY_GROUP - 1) {
            ByteBuf parity = alloc.directBuffer(prefixLength + PARITY_HEADER + outgoingParity.length());
            QuicVarint.set(parity, 0, quarterStreamId, prefixLength);
            parity.writerIndex(prefixLength);
            parity.writeByte(PARITY).writeShort(outgoingParity.group()).writeShort(outgoingParity.lengthXor());
            outgoingParity.writeBytes(parity, outgoingParity.length());
            counters.increment(Counter.RECOVERY_PARITY_SENT);
            parityGroupCovered = false;
            parityBytes += parity.readableBytes();
            link.accept(parity);
        }
    }

    /** Bytes of parity datagrams written since the last call: the caller's pacer counts them as sent. */
    int takeParityBytes() {
        int bytes = parityBytes;
        parityBytes = 0;
        return bytes;
    }

    /** Resends the datagram of {@code seq} if it is still among the newer {@link #RESEND_WINDOW} slots. */
    private void resend(int seq) {
        int age = nextSeq - seq;
        int slot = seq & (SLOTS - 1);
        if (slots == null || age <= 0 || age > RESEND_WINDOW || slotSeq[slot] != seq) {
            counters.increment(Counter.RECOVERY_TOO_LATE);
            return;
        }
        if (resendCredit < CREDIT_UNIT) {
            counters.increment(Counter.RECOVERY_RESEND_REFUSED);
            return;
        }
        resendCredit -= CREDIT_UNIT;
        unflushed++;
        counters.increment(Counter.RECOVERY_RESENT);
        link.accept(slots.retainedSlice(slot * slotSize, slotLength[slot]));
    }

    /** True when the caller must flush now: a quarter of the slots have slices waiting for a flush. */
    boolean flushDue() {
        return unflushed >= SLOTS - RESEND_WINDOW;
    }

    /** The caller flushed: every slice written so far is in the QUIC stack. */
    void flushed() {
        unflushed = 0;
    }

    // ---- receiving ----

    /**
     * A datagram from the peer, its prefix skipped (this takes over its reference). A frame goes to the receiver's
     * delivery at once when it is next in order, else it waits for the frames before it (or until they are given
     * up); a NACK is answered through the link; a duplicate, a frame too old to tell or a malformed datagram is
     * dropped and counted. NACKs for gaps it shows go out at once.
     */
    void receive(ByteBuf payload) {
        if (!payload.isReadable()) {
            malformed(payload);
            return;
        }
        byte type = payload.readByte();
        if (type == NACK) {
            onNack(payload);
            return;
        }
        if (type == PARITY) {
            onParity(payload);
            return;
        }
        if (type != DATA || payload.readableBytes() < Integer.BYTES) {
            malformed(payload);
            return;
        }
        int seq = payload.readInt();
        onData(seq, payload, false);
        if (incomingParity != null) {
            recoverFromParity(seq >>> PARITY_SHIFT);
        }
        if (toAskCount > 0) {
            sendNack();
        }
    }

    private void malformed(ByteBuf payload) {
        payload.release();
        counters.increment(Counter.DROP_BAD_DATAGRAM);
    }

    private void onNack(ByteBuf payload) {
        try {
            int count = payload.isReadable() ? payload.readUnsignedByte() : 0;
            if (count == 0 || count > MAX_NACK_SEQS || payload.readableBytes() != count * Integer.BYTES) {
                counters.increment(Counter.DROP_BAD_DATAGRAM);
                return;
            }
            if (sendParity) {
                nackSeen = true;
                lastNackAt = nanoClock.getAsLong();
            }
            for (int i = 0; i < count; i++) {
                resend(payload.readInt());
            }
        } finally {
            payload.release();
        }
    }

    /** A frame new or not; {@code recovered}: rebuilt from its group's parity, not received. */
    private void onData(int seq, ByteBuf frame, boolean recovered) {
        if (!started) {
            started = true;
            highest = seq - 1;
            nextInOrder = seq;
        }
        int ahead = seq - highest;
        boolean outage = ahead > MAX_GAP;
        if (!outage) {
            askCredit = Math.min(MAX_ASK_CREDIT, askCredit + ASK_BUDGET_PERCENT);
        }
        if (ahead > 0) {
            if (outage) {
                // An outage, or a peer that started over: what was held goes out as it is, and order restarts here.
                giveUpUpTo(highest + 1);
                nextInOrder = seq;
                counters.increment(Counter.RECOVERY_OUTAGES);
                counters.add(Counter.RECOVERY_OUTAGE_FRAMES, ahead - 1);
            }
            if (ahead >= WINDOW) {
                Arrays.fill(seen, 0);
            } else {
                long now = outage ? 0 : nanoClock.getAsLong();
                for (int s = highest + 1; s != seq; s++) {
                    clear(s);
                    if (!outage) {
                        openHole(s, now);
                    }
                }
            }
            highest = seq;
            mark(seq);
            addToGroup(seq, frame, recovered);
            if (recovered) {
                counters.increment(Counter.RECOVERY_PARITY_REPAIRED); // rebuilt before any later frame showed it lost
            }
            held[seq & (WINDOW - 1)] = frame;
            if (ahead > 1 && !outage) {
                holding();
            }
            drain();
            return;
        }
        if (-ahead >= WINDOW) {
            frame.release();
            counters.increment(Counter.DROP_RECOVERY_TOO_OLD);
            return;
        }
        if (isMarked(seq)) {
            frame.release();
            counters.increment(Counter.DROP_RECOVERY_DUPLICATE);
            return;
        }
        mark(seq);
        addToGroup(seq, frame, recovered);
        if (seq - nextInOrder < 0) {
            // Given up on already, the frames behind it delivered: late is still better than lost.
            deliver.accept(frame);
            return;
        }
        int at = seq & (WINDOW - 1);
        counters.increment(recovered ? Counter.RECOVERY_PARITY_REPAIRED : Counter.RECOVERY_REPAIRED);
        // A parity's repair says nothing of a NACK's round trip, which the ticks and the giving up wait for.
        if (asks[at] == 1 && !recovered) {
            long sample = nanoClock.getAsLong() - firstAskedAt[at];
            repairNanos += (sample - repairNanos) / 8;
        }
        held[at] = frame;
        drain();
    }

    // ---- parity ----

    /** A frame seen for the first time goes into its group's running XOR, once the peer has sent parity. */
    private void addToGroup(int seq, ByteBuf frame, boolean recovered) {
        if (incomingParity == null || recovered) {
            return;
        }
        ParityXor group = group(seq >>> PARITY_SHIFT);
        if (group != null && group.fits(frame.readableBytes())) {
            group.addFrame(seq & (PARITY_GROUP - 1), frame, frame.readerIndex(), frame.readableBytes());
        }
    }

    /**
     * The group whose number ends in the 16 bits {@code shortNumber} nearest to group {@code near}: group numbers are
     * a sequence number without its position in the group, and wrap with it.
     */
    static int groupNear(int near, int shortNumber) {
        return (near + (short) (shortNumber - near)) & (-1 >>> PARITY_SHIFT);
    }

    /** The running XOR of group {@code number}, started over if its slot held an older group; null if too old. */
    private ParityXor group(int number) {
        ParityXor group = incomingParity[number & (PARITY_GROUPS - 1)];
        if (group.group() != number) {
            if (group.group() != -1 && ((number - group.group()) << PARITY_SHIFT) < 0) {
                return null; // its slot has a newer group
            }
            group.reset(number);
        }
        return group;
    }

    /** A parity datagram: PARITY, group number (u16), XOR of lengths (u16), the XOR of the group's frames. */
    private void onParity(ByteBuf payload) {
        try {
            if (payload.readableBytes() < PARITY_HEADER - 1 || !started) {
                counters.increment(started ? Counter.DROP_BAD_DATAGRAM : Counter.DROP_RECOVERY_TOO_OLD);
                return;
            }
            int shortNumber = payload.readUnsignedShort();
            int lengthXor = payload.readUnsignedShort();
            if (incomingParity == null) {
                incomingParity = new ParityXor[PARITY_GROUPS];
                for (int i = 0; i < PARITY_GROUPS; i++) {
                    incomingParity[i] = new ParityXor(slotSize);
                }
            }
            int number = groupNear(highest >>> PARITY_SHIFT, shortNumber);
            int first = number << PARITY_SHIFT;
            if (first - highest > MAX_GAP) {
                counters.increment(Counter.DROP_BAD_DATAGRAM); // no frame of it was sent yet
                return;
            }
            ParityXor group = highest - first < WINDOW / 2 ? group(number) : null;
            if (group == null) {
                counters.increment(Counter.DROP_RECOVERY_TOO_OLD);
                return;
            }
            if (group.hasParity()) {
                counters.increment(Counter.DROP_RECOVERY_DUPLICATE);
                return;
            }
            if (!group.fits(payload.readableBytes())) {
                counters.increment(Counter.DROP_BAD_DATAGRAM);
                return;
            }
            group.addParity(lengthXor, payload, payload.readerIndex(), payload.readableBytes());
            recoverFromParity(number);
        } finally {
            payload.release();
        }
    }

    /**
     * When group {@code number} has its parity and all its frames but one, that one is the XOR left: it goes on as if
     * it had arrived (if it has not meanwhile, as a resend).
     */
    private void recoverFromParity(int number) {
        ParityXor group = incomingParity[number & (PARITY_GROUPS - 1)];
        if (group.group() != number || !group.hasParity() || group.frames() != PARITY_GROUP - 1) {
            return;
        }
        int position = 0;
        while (group.has(position)) {
            position++;
        }
        int seq = (number << PARITY_SHIFT) + position;
        int length = group.lengthXor();
        if (isMarked(seq) || highest - seq >= WINDOW / 2) {
            return; // it came before this end kept the group, or it is too old to tell
        }
        if (length > group.length() || length == 0) {
            counters.increment(Counter.DROP_BAD_DATAGRAM); // the parity does not match the frames
            group.reset(-1);
            return;
        }
        ByteBuf frame = alloc.directBuffer(HttpDatagram.HEADROOM + length);
        frame.writerIndex(HttpDatagram.HEADROOM).readerIndex(HttpDatagram.HEADROOM);
        group.writeBytes(frame, length);
        group.reset(-1);
        onData(seq, frame, true);
    }

    /** {@code seq} did not arrive: asked for while the budget lasts, else left lost with nothing waiting for it. */
    private void openHole(int seq, long now) {
        int at = seq & (WINDOW - 1);
        firstAskedAt[at] = now;
        lastAskedAt[at] = now;
        if (askCredit >= CREDIT_UNIT) {
            askCredit -= CREDIT_UNIT;
            asks[at] = 1;
            ask(seq);
        } else {
            asks[at] = 0;
            counters.increment(Counter.RECOVERY_OVER_BUDGET);
        }
    }

    /** Delivers the held frames that are next in order, up to the first hole. */
    private void drain() {
        while (nextInOrder - highest <= 0) {
            int at = nextInOrder & (WINDOW - 1);
            ByteBuf frame = held[at];
            if (frame == null && asks[at] == 0 && !isMarked(nextInOrder)) {
                nextInOrder++; // not asked for: nothing to wait for
                continue;
            }
            if (frame == null) {
                if (highest - nextInOrder >= MAX_HELD) {
                    counters.increment(Counter.RECOVERY_UNREPAIRED_HELD_FULL);
                    giveUp(nextInOrder); // too much waits behind this hole
                    continue;
                }
                return;
            }
            held[at] = null;
            nextInOrder++;
            deliver.accept(frame);
        }
    }

    /** Stops waiting for {@code seq}: counted, and the frames behind it may go. */
    private void giveUp(int seq) {
        counters.increment(Counter.RECOVERY_UNREPAIRED);
        nextInOrder = seq + 1;
    }

    /** Delivers everything held before {@code seq}, in order, giving up on the holes between. */
    private void giveUpUpTo(int seq) {
        while (nextInOrder - seq < 0) {
            int at = nextInOrder & (WINDOW - 1);
            ByteBuf frame = held[at];
            if (frame == null) {
                counters.increment(Counter.RECOVERY_UNREPAIRED);
                counters.increment(Counter.RECOVERY_UNREPAIRED_OUTAGE);
            } else {
                held[at] = null;
                deliver.accept(frame);
            }
            nextInOrder++;
        }
    }

    /** A hole opened: the timer looks at it (asks again, gives up) until no frame waits. */
    private void holding() {
        if (!timerSet) {
            timerSet = true;
            timer.schedule(tick, tickNanos());
        }
    }

    private long tickNanos() {
        return Math.max(MIN_TICK_NANOS, repairNanos / 4);
    }

    /**
     * Every hole still open: asked again after 1.5 repair times (at most {@link #MAX_NACKS} asks in all), given up
     * after 4 (the frames behind it then go); the timer runs again while frames wait.
     */
    private void onTick() {
        timerSet = false;
        if (released) {
            return;
        }
        long now = nanoClock.getAsLong();
        long giveUpAfter = Math.min(4 * repairNanos, MAX_HOLD_NANOS);
        long askAgain = Math.min(repairNanos + repairNanos / 2, giveUpAfter / 2);
        for (int s = nextInOrder; s - highest <= 0; s++) {
            int at = s & (WINDOW - 1);
            if (held[at] != null || isMarked(s) || asks[at] == 0) {
                continue;
            }
            if (now - firstAskedAt[at] >= giveUpAfter) {
                if (s == nextInOrder) {
                    giveUp(s);
                    drain();
                    s = nextInOrder - 1;
                }
            } else if (now - lastAskedAt[at] >= askAgain && asks[at] < MAX_NACKS && askCredit >= CREDIT_UNIT) {
                askCredit -= CREDIT_UNIT;
                asks[at]++;
                lastAskedAt[at] = now;
                ask(s);
            }
        }
        if (toAskCount > 0) {
            sendNack();
        }
        if (nextInOrder - highest <= 0) {
            holding();
        }
    }

    private void ask(int seq) {
        if (toAskCount == MAX_NACK_SEQS) {
            sendNack();
        }
        toAsk[toAskCount++] = seq;
    }

    private void sendNack() {
        ByteBuf nack = alloc.directBuffer(prefixLength + 2 + toAskCount * Integer.BYTES);
        QuicVarint.set(nack, 0, quarterStreamId, prefixLength);
        nack.writerIndex(prefixLength);
        nack.writeByte(NACK).writeByte(toAskCount);
        for (int i = 0; i < toAskCount; i++) {
            nack.writeInt(toAsk[i]);
        }
        counters.add(Counter.RECOVERY_ASKED, toAskCount);
        toAskCount = 0;
        unflushed++;
        link.accept(nack);
    }

    /** The measured time from asking for a lost frame to receiving it (its moving average), in nanoseconds. */
    long repairNanos() {
        return repairNanos;
    }

    private boolean isMarked(int seq) {
        int bit = seq & (WINDOW - 1);
        return (seen[bit >>> 6] & (1L << bit)) != 0;
    }

    private void mark(int seq) {
        int bit = seq & (WINDOW - 1);
        seen[bit >>> 6] |= 1L << bit;
    }

    private void clear(int seq) {
        int bit = seq & (WINDOW - 1);
        seen[bit >>> 6] &= ~(1L << bit);
    }

    /** Frees the slots and the frames waiting; the session ended. On the owning thread. */
    void release() {
        released = true;
        for (int i = 0; i < held.length; i++) {
            if (held[i] != null) {
                held[i].release();
                held[i] = null;
            }
        }
        if (slots != null) {
            slots.release();
            slots = null;
        }
    }
}
