package dev.riscvrelay.relay.wire;

import io.netty.buffer.ByteBuf;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * The Internet checksum (RFC 1071): the 16-bit one's complement of the one's complement sum of 16-bit words.
 *
 * <p>Partial sums are plain {@code long}s that may be added together before {@link #finish}, so a pseudo-header
 * sum and a payload sum combine without copying. One's complement addition is byte-order independent (RFC 1071
 * section 2(B)) and associative, so summing 32-bit big-endian words and folding at the end gives the same result
 * as summing 16-bit words.
 */
public final class Checksums {

    private Checksums() {
    }

    /**
     * The unfolded one's complement sum of {@code length} bytes at absolute {@code index}, as big-endian 16-bit
     * words; an odd last byte counts as the high byte of a word padded with zero (RFC 1071 section 4.1).
     */
    public static long sum(ByteBuf buf, int index, int length) {
        if (length >= 64 && buf.nioBufferCount() == 1) {
            // One view of the bytes, then plain 64-bit loads: no per-word bounds, reference-count or leak-tracking
            // checks of the ByteBuf accessors (a segment's checksum is on every hop of the data path).
            return sum(buf.internalNioBuffer(index, length), length);
        }
        long sum = 0;
        int end = index + length;
        int i = index;
        for (; i + 4 <= end; i += 4) {
            sum += buf.getUnsignedInt(i);
        }
        if (i + 2 <= end) {
            sum += buf.getUnsignedShort(i);
            i += 2;
        }
        if (i < end) {
            sum += buf.getUnsignedByte(i) << 8;
        }
        return sum;
    }

    /** {@link #sum(ByteBuf, int, int)} over {@code length} bytes from the position of {@code bytes}. */
    private static long sum(ByteBuffer bytes, int length) {
        boolean bigEndian = bytes.order() == ByteOrder.BIG_ENDIAN;
        int i = bytes.position();
        int end = i + length;
        long sum = 0;
        for (; i + 8 <= end; i += 8) {
            long word = bytes.getLong(i);
            if (!bigEndian) {
                word = Long.reverseBytes(word);
            }
            // Two 32-bit halves: the sum of up to 2^31 of them cannot overflow a long.
            sum += (word >>> 32) + (word & 0xFFFF_FFFFL);
        }
        for (; i + 2 <= end; i += 2) {
            sum += ((bytes.get(i) & 0xFF) << 8) | (bytes.get(i + 1) & 0xFF);
        }
        if (i < end) {
            sum += (bytes.get(i) & 0xFF) << 8;
        }
        return sum;
    }

    /** The sum of the IPv4 pseudo-header that UDP and TCP checksums cover (RFC 768, RFC 9293 section 3.1). */
    public static long pseudoHeaderSum(int sourceAddress, int destinationAddress, int protocol, int length) {
        return (sourceAddress & 0xFFFFFFFFL) + (destinationAddress & 0xFFFFFFFFL) + protocol + length;
    }

    /**
     * The sum of the IPv6 pseudo-header that upper-layer checksums cover (RFC 8200 section 8.1): both addresses,
     * the upper-layer length and the next header.
     */
    public static long pseudoHeaderSum6(long sourceHigh, long sourceLow, long destinationHigh, long destinationLow,
            int nextHeader, int length) {
        return halves(sourceHigh) + halves(sourceLow) + halves(destinationHigh) + halves(destinationLow)
                + nextHeader + (length & 0xFFFF_FFFFL);
    }

    private static long halves(long value) {
        return (value >>> 32) + (value & 0xFFFF_FFFFL);
    }

    /** Folds a partial sum's carries back into 16 bits. */
    public static int fold(long sum) {
        while ((sum >>> 16) != 0) {
            sum = (sum & 0xFFFF) + (sum >>> 16);
        }
        return (int) sum;
    }

    /** The checksum field value for a partial sum: its folded one's complement. */
    public static int finish(long sum) {
        return ~fold(sum) & 0xFFFF;
    }

    /** The Internet checksum of a byte range (the checksum field inside it must hold zero when computing). */
    public static int internetChecksum(ByteBuf buf, int index, int length) {
        return finish(sum(buf, index, length));
    }

    /** Whether a range that includes its own checksum field sums to all ones, i.e. verifies (RFC 1071 section 1). */
    public static boolean verifies(ByteBuf buf, int index, int length) {
        return fold(sum(buf, index, length)) == 0xFFFF;
    }

    /**
     * The new checksum after one 16-bit word of the covered data changes from {@code oldWord} to {@code newWord},
     * without resumming: RFC 1624 equation 3, {@code HC' = ~(~HC + ~m + m')}, which (unlike equation 2) never
     * produces 0xFFFF for data whose checksum must be 0x0000.
     */
    public static int update16(int oldChecksum, int oldWord, int newWord) {
        long sum = (~oldChecksum & 0xFFFF) + (~oldWord & 0xFFFF) + (newWord & 0xFFFF);
        return finish(sum);
    }

    /**
     * The checksum of an ICMP or ICMPv6 message answered by changing only its type byte, from {@code oldType} to
     * {@code newType} (an echo request turned into its reply; for ICMPv6 the swapped addresses leave the
     * pseudo-header's sum as it was), from the verified {@code oldChecksum}, without summing the data again.
     * {@link #update16} gives 0x0000 for a reply of all zeros (identifier 0, sequence 0, no data), whose sum is +0 and
     * whose checksum must be 0xFFFF; 0xFFFF also verifies for every other message that 0x0000 would (their sum is -0),
     * so it is always the form returned.
     */
    public static int afterTypeChange(int oldChecksum, int oldType, int newType) {
        int checksum = update16(oldChecksum, oldType << 8, newType << 8);
        return checksum == 0 ? 0xFFFF : checksum;
    }

    /** {@link #update16} for a 32-bit field, such as an IPv4 address rewritten by NAT. */
    public static int update32(int oldChecksum, int oldValue, int newValue) {
        long sum = (~oldChecksum & 0xFFFF)
                + (~(oldValue >>> 16) & 0xFFFF) + (~oldValue & 0xFFFF)
                + ((newValue >>> 16) & 0xFFFF) + (newValue & 0xFFFF);
        return finish(sum);
    }
}
