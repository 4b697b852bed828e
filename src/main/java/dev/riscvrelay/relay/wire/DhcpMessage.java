package dev.riscvrelay.relay.wire;

import io.netty.buffer.ByteBuf;

/**
 * A reusable view of a DHCP message (RFC 2131 section 2, options RFC 2132) inside the data of a UDP datagram.
 * {@link #wrap} checks the fixed part, the hardware address format (Ethernet only), the magic cookie and walks every
 * option once with bounds, remembering where the options a server needs are; the accessors then read straight from
 * the buffer. Option overload (RFC 2132 section 9.3) is honoured: the {@code file} and {@code sname} fields are
 * walked as option areas when option 52 says so.
 *
 * <p>The static {@code write*} methods build a message into a buffer the caller owns.
 */
public final class DhcpMessage {

    /** op, htype, hlen, hops, xid, secs, flags, ciaddr, yiaddr, siaddr, giaddr, chaddr, sname, file. */
    public static final int FIXED_LENGTH = 236;
    public static final int MAGIC_COOKIE = 0x6382_5363;
    /** The fixed part plus the magic cookie: the shortest DHCP message. */
    public static final int MIN_LENGTH = FIXED_LENGTH + 4;
    /** RFC 1542 section 3.2.1: BOOTP messages are padded to at least 300 bytes for old relays and clients. */
    public static final int MIN_BOOTP_LENGTH = 300;

    public static final int OP_BOOTREQUEST = 1;
    public static final int OP_BOOTREPLY = 2;
    public static final int HTYPE_ETHERNET = 1;
    /** RFC 2131 section 2, figure 2: the leftmost bit of {@code flags}. */
    public static final int FLAG_BROADCAST = 0x8000;

    // DHCP message types (RFC 2132 section 9.6).
    public static final int DISCOVER = 1;
    public static final int OFFER = 2;
    public static final int REQUEST = 3;
    public static final int DECLINE = 4;
    public static final int ACK = 5;
    public static final int NAK = 6;
    public static final int RELEASE = 7;
    public static final int INFORM = 8;

    // Option codes (RFC 2132).
    public static final int OPTION_PAD = 0;
    public static final int OPTION_SUBNET_MASK = 1;
    public static final int OPTION_ROUTER = 3;
    public static final int OPTION_DNS_SERVERS = 6;
    public static final int OPTION_INTERFACE_MTU = 26;
    public static final int OPTION_BROADCAST_ADDRESS = 28;
    public static final int OPTION_REQUESTED_ADDRESS = 50;
    public static final int OPTION_LEASE_TIME = 51;
    public static final int OPTION_OVERLOAD = 52;
    public static final int OPTION_MESSAGE_TYPE = 53;
    public static final int OPTION_SERVER_IDENTIFIER = 54;
    public static final int OPTION_PARAMETER_REQUEST_LIST = 55;
    public static final int OPTION_MESSAGE = 56;
    public static final int OPTION_MAX_MESSAGE_SIZE = 57;
    public static final int OPTION_RENEWAL_TIME = 58;
    public static final int OPTION_REBINDING_TIME = 59;
    public static final int OPTION_CLIENT_IDENTIFIER = 61;
    public static final int OPTION_END = 255;

    private static final int OP = 0;
    private static final int HTYPE = 1;
    private static final int HLEN = 2;
    private static final int HOPS = 3;
    private static final int XID = 4;
    private static final int SECS = 8;
    private static final int FLAGS = 10;
    private static final int CIADDR = 12;
    private static final int YIADDR = 16;
    private static final int SIADDR = 20;
    private static final int GIADDR = 24;
    private static final int CHADDR = 28;
    private static final int CHADDR_LENGTH = 16;
    private static final int SNAME = 44;
    private static final int SNAME_LENGTH = 64;
    private static final int FILE = 108;
    private static final int FILE_LENGTH = 128;
    private static final int COOKIE = FIXED_LENGTH;
    private static final int OPTIONS = MIN_LENGTH;

    private static final int OVERLOAD_FILE = 1;
    private static final int OVERLOAD_SNAME = 2;

    private ByteBuf buf;
    private int offset;
    private int length;
    private int messageType;
    private int requestedAddressAt;
    private int serverIdentifierAt;
    private int clientIdentifierAt;
    private int clientIdentifierLength;
    private int maxMessageSize;
    private int overload;

    /** Views the {@code length} bytes at absolute {@code offset} (a UDP datagram's data) as a DHCP message. */
    public ParseResult wrap(ByteBuf buf, int offset, int length) {
        this.buf = buf;
        this.offset = offset;
        this.length = length;
        messageType = 0;
        requestedAddressAt = -1;
        serverIdentifierAt = -1;
        clientIdentifierAt = -1;
        clientIdentifierLength = 0;
        maxMessageSize = 0;
        overload = 0;
        if (length < MIN_LENGTH) {
            return ParseResult.TRUNCATED;
        }
        if (buf.getUnsignedByte(offset + HTYPE) != HTYPE_ETHERNET
                || buf.getUnsignedByte(offset + HLEN) != MacAddress.LENGTH) {
            return ParseResult.UNSUPPORTED_HARDWARE;
        }
        if (buf.getInt(offset + COOKIE) != MAGIC_COOKIE) {
            return ParseResult.BAD_MAGIC_COOKIE;
        }
        if (!walkOptions(offset + OPTIONS, offset + length, true)) {
            return ParseResult.BAD_OPTIONS;
        }
        // RFC 2132 section 9.3: the file field is walked before sname.
        if ((overload & OVERLOAD_FILE) != 0 && !walkOptions(offset + FILE, offset + FILE + FILE_LENGTH, false)) {
            return ParseResult.BAD_OPTIONS;
        }
        if ((overload & OVERLOAD_SNAME) != 0
                && !walkOptions(offset + SNAME, offset + SNAME + SNAME_LENGTH, false)) {
            return ParseResult.BAD_OPTIONS;
        }
        return ParseResult.OK;
    }

    /**
     * Walks one option area (RFC 2132 section 2): pad and end are single bytes, every other option is code, length,
     * data. An area may end without an end option; an option whose data runs past the area is malformed. The first
     * occurrence of an option wins (concatenation of split options, RFC 3396, matters for none of the options read
     * here).
     */
    private boolean walkOptions(int at, int end, boolean mainArea) {
        while (at < end) {
            int code = buf.getUnsignedByte(at);
            if (code == OPTION_PAD) {
                at++;
                continue;
            }
            if (code == OPTION_END) {
                return true;
            }
            if (at + 2 > end) {
                return false;
            }
            int optionLength = buf.getUnsignedByte(at + 1);
            int data = at + 2;
            if (data + optionLength > end) {
                return false;
            }
            switch (code) {
                case OPTION_MESSAGE_TYPE -> {
                    if (optionLength != 1) {
                        return false;
                    }
                    if (messageType == 0) {
                        messageType = buf.getUnsignedByte(data);
                    }
                }
                case OPTION_REQUESTED_ADDRESS -> {
                    if (optionLength != 4) {
                        return false;
                    }
                    if (requestedAddressAt < 0) {
                        requestedAddressAt = data;
                    }
                }
                case OPTION_SERVER_IDENTIFIER -> {
                    if (optionLength != 4) {
                        return false;
                    }
                    if (serverIdentifierAt < 0) {
                        serverIdentifierAt = data;
                    }
                }
                case OPTION_CLIENT_IDENTIFIER -> {
                    // RFC 2132 section 9.14: type octet plus at least one octet of identifier.
                    if (optionLength < 2) {
                        return false;
                    }
                    if (clientIdentifierAt < 0) {
                        clientIdentifierAt = data;
                        clientIdentifierLength = optionLength;
                    }
                }
                case OPTION_MAX_MESSAGE_SIZE -> {
                    if (optionLength != 2) {
                        return false;
                    }
                    if (maxMessageSize == 0) {
                        maxMessageSize = buf.getUnsignedShort(data);
                    }
                }
                case OPTION_OVERLOAD -> {
                    // Only meaningful in the main options area (RFC 2132 section 9.3).
                    if (optionLength != 1 || !mainArea) {
                        return false;
                    }
                    overload = buf.getUnsignedByte(data) & (OVERLOAD_FILE | OVERLOAD_SNAME);
                }
                default -> {
                    // not needed by the server; skipped with its length checked
                }
            }
            at = data + optionLength;
        }
        return true;
    }

    public ByteBuf buffer() {
        return buf;
    }

    public int offset() {
        return offset;
    }

    public int length() {
        return length;
    }

    public int op() {
        return buf.getUnsignedByte(offset + OP);
    }

    public int hops() {
        return buf.getUnsignedByte(offset + HOPS);
    }

    public int transactionId() {
        return buf.getInt(offset + XID);
    }

    public int secs() {
        return buf.getUnsignedShort(offset + SECS);
    }

    public int flags() {
        return buf.getUnsignedShort(offset + FLAGS);
    }

    public boolean broadcastFlag() {
        return (flags() & FLAG_BROADCAST) != 0;
    }

    public int clientAddress() {
        return buf.getInt(offset + CIADDR);
    }

    public int yourAddress() {
        return buf.getInt(offset + YIADDR);
    }

    public int serverAddress() {
        return buf.getInt(offset + SIADDR);
    }

    public int relayAddress() {
        return buf.getInt(offset + GIADDR);
    }

    /** The client's Ethernet address (hlen is 6, checked by {@link #wrap}). */
    public long clientMac() {
        return MacAddress.read(buf, offset + CHADDR);
    }

    /** The DHCP message type (option 53), or 0 for a plain BOOTP message without one. */
    public int messageType() {
        return messageType;
    }

    public boolean hasRequestedAddress() {
        return requestedAddressAt >= 0;
    }

    /** Option 50, or 0 when absent. */
    public int requestedAddress() {
        return requestedAddressAt < 0 ? 0 : buf.getInt(requestedAddressAt);
    }

    public boolean hasServerIdentifier() {
        return serverIdentifierAt >= 0;
    }

    /** Option 54, or 0 when absent. */
    public int serverIdentifier() {
        return serverIdentifierAt < 0 ? 0 : buf.getInt(serverIdentifierAt);
    }

    public boolean hasClientIdentifier() {
        return clientIdentifierAt >= 0;
    }

    /** Absolute index of option 61's data (type octet first), or -1. */
    public int clientIdentifierOffset() {
        return clientIdentifierAt;
    }

    public int clientIdentifierLength() {
        return clientIdentifierLength;
    }

    /** Option 57, or 0 when absent. */
    public int maxMessageSize() {
        return maxMessageSize;
    }

    /**
     * Writes the fixed part and the magic cookie of a BOOTREPLY at absolute {@code index}: hops 0, secs 0, siaddr 0,
     * sname and file empty, chaddr the 6-byte MAC zero-padded to 16.
     *
     * @return the number of bytes written, {@link #MIN_LENGTH}; options follow
     */
    public static int writeReplyHeader(ByteBuf buf, int index, int transactionId, int flags, int clientAddress,
            int yourAddress, int relayAddress, long clientMac) {
        buf.setZero(index, MIN_LENGTH);
        buf.setByte(index + OP, OP_BOOTREPLY);
        buf.setByte(index + HTYPE, HTYPE_ETHERNET);
        buf.setByte(index + HLEN, MacAddress.LENGTH);
        buf.setInt(index + XID, transactionId);
        buf.setShort(index + FLAGS, flags);
        buf.setInt(index + CIADDR, clientAddress);
        buf.setInt(index + YIADDR, yourAddress);
        buf.setInt(index + GIADDR, relayAddress);
        MacAddress.write(buf, index + CHADDR, clientMac);
        buf.setInt(index + COOKIE, MAGIC_COOKIE);
        return MIN_LENGTH;
    }

    /** Writes a one-byte option; returns the index after it. */
    public static int writeByteOption(ByteBuf buf, int index, int code, int value) {
        buf.setByte(index, code);
        buf.setByte(index + 1, 1);
        buf.setByte(index + 2, value);
        return index + 3;
    }

    /** Writes a two-byte option (e.g. interface MTU); returns the index after it. */
    public static int writeShortOption(ByteBuf buf, int index, int code, int value) {
        buf.setByte(index, code);
        buf.setByte(index + 1, 2);
        buf.setShort(index + 2, value);
        return index + 4;
    }

    /** Writes a four-byte option (an address, or a time in seconds); returns the index after it. */
    public static int writeIntOption(ByteBuf buf, int index, int code, int value) {
        buf.setByte(index, code);
        buf.setByte(index + 1, 4);
        buf.setInt(index + 2, value);
        return index + 6;
    }

    /**
     * Writes the end option and pads with zeros (pad options) until the message that started at {@code start} is at
     * least {@link #MIN_BOOTP_LENGTH} long.
     *
     * @return the index after the message
     */
    public static int writeEnd(ByteBuf buf, int start, int index) {
        buf.setByte(index++, OPTION_END);
        int end = Math.max(index, start + MIN_BOOTP_LENGTH);
        if (end > index) {
            buf.setZero(index, end - index);
        }
        return end;
    }

    /** The largest reply {@code write*} can produce for a given options budget, for sizing buffers. */
    public static int replyLength(int optionBytes) {
        return Math.max(MIN_LENGTH + optionBytes + 1, MIN_BOOTP_LENGTH);
    }
}
