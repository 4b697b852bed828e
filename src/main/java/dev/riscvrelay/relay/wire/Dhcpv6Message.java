package dev.riscvrelay.relay.wire;

import io.netty.buffer.ByteBuf;

/**
 * A reusable view of a DHCPv6 client/server message (RFC 8415 section 8) inside the data of a UDP datagram: a
 * message type, a 24-bit transaction id, then options of a 16-bit code and a 16-bit length each. {@link #wrap}
 * checks the header and walks every option once with bounds, remembering what a stateless server needs (RFC 8415
 * section 6.1): the client and server identifiers, whether an identity association (an address request) is present,
 * and whether the option request option asks for DNS servers. Relay messages (RELAY-FORW, RELAY-REPL) have another
 * layout and are refused as {@link ParseResult#UNSUPPORTED_TYPE}.
 *
 * <p>The static {@code write*} methods build a message into a buffer the caller owns.
 */
public final class Dhcpv6Message {

    public static final int HEADER_LENGTH = 4;
    public static final int OPTION_HEADER_LENGTH = 4;
    public static final int CLIENT_PORT = 546;
    public static final int SERVER_PORT = 547;
    /** ff02::1:2, All_DHCP_Relay_Agents_and_Servers (RFC 8415 section 7.1): the low half; the high is ff02::. */
    public static final long ALL_RELAY_AGENTS_AND_SERVERS_LOW = 0x1_0002L;

    // Message types (RFC 8415 section 7.3).
    public static final int SOLICIT = 1;
    public static final int ADVERTISE = 2;
    public static final int REQUEST = 3;
    public static final int CONFIRM = 4;
    public static final int RENEW = 5;
    public static final int REBIND = 6;
    public static final int REPLY = 7;
    public static final int RELEASE = 8;
    public static final int DECLINE = 9;
    public static final int RECONFIGURE = 10;
    public static final int INFORMATION_REQUEST = 11;
    public static final int RELAY_FORW = 12;
    public static final int RELAY_REPL = 13;

    // Option codes (RFC 8415 section 21, DNS servers RFC 3646).
    public static final int OPTION_CLIENTID = 1;
    public static final int OPTION_SERVERID = 2;
    public static final int OPTION_IA_NA = 3;
    public static final int OPTION_IA_TA = 4;
    public static final int OPTION_ORO = 6;
    public static final int OPTION_DNS_SERVERS = 23;
    public static final int OPTION_IA_PD = 25;
    public static final int OPTION_INFORMATION_REFRESH_TIME = 32;

    /** RFC 8415 section 11.1: a DUID is a 2-byte type and at most 128 bytes more. */
    public static final int MAX_DUID_LENGTH = 130;
    /** DUID-LL (RFC 8415 section 11.4) of an Ethernet address: type 3, hardware type 1, six bytes. */
    public static final int DUID_LL_ETHERNET_LENGTH = 10;
    public static final int SERVER_IDENTIFIER_LENGTH = OPTION_HEADER_LENGTH + DUID_LL_ETHERNET_LENGTH;
    public static final int DNS_SERVERS_LENGTH = OPTION_HEADER_LENGTH + Ipv6Address.LENGTH;
    public static final int INFORMATION_REFRESH_TIME_LENGTH = OPTION_HEADER_LENGTH + 4;
    private static final int DUID_LL = 3;
    private static final int HARDWARE_ETHERNET = 1;

    private ByteBuf buf;
    private int offset;
    private int length;
    private int clientIdOffset = -1;
    private int clientIdLength;
    private int serverIdOffset = -1;
    private int serverIdLength;
    private boolean identityAssociation;
    private boolean requestsDnsServers;

    /**
     * Views the message of {@code length} bytes at absolute {@code offset}. A client or server identifier that is
     * repeated, shorter than a DUID type plus one byte or longer than {@link #MAX_DUID_LENGTH}, an option request
     * option of odd length, or an option running past the message is {@link ParseResult#BAD_OPTIONS}.
     */
    public ParseResult wrap(ByteBuf buf, int offset, int length) {
        this.buf = buf;
        this.offset = offset;
        this.length = length;
        clientIdOffset = -1;
        clientIdLength = 0;
        serverIdOffset = -1;
        serverIdLength = 0;
        identityAssociation = false;
        requestsDnsServers = false;
        if (length < HEADER_LENGTH) {
            return ParseResult.TRUNCATED;
        }
        int type = messageType();
        if (type == RELAY_FORW || type == RELAY_REPL) {
            return ParseResult.UNSUPPORTED_TYPE;
        }
        int at = offset + HEADER_LENGTH;
        int end = offset + length;
        while (at < end) {
            if (end - at < OPTION_HEADER_LENGTH) {
                return ParseResult.BAD_OPTIONS;
            }
            int code = buf.getUnsignedShort(at);
            int optionLength = buf.getUnsignedShort(at + 2);
            int value = at + OPTION_HEADER_LENGTH;
            if (optionLength > end - value) {
                return ParseResult.BAD_OPTIONS;
            }
            switch (code) {
                case OPTION_CLIENTID -> {
                    if (clientIdOffset >= 0 || !duidLength(optionLength)) {
                        return ParseResult.BAD_OPTIONS;
                    }
                    clientIdOffset = value;
                    clientIdLength = optionLength;
                }
                case OPTION_SERVERID -> {
                    if (serverIdOffset >= 0 || !duidLength(optionLength)) {
                        return ParseResult.BAD_OPTIONS;
                    }
                    serverIdOffset = value;
                    serverIdLength = optionLength;
                }
                case OPTION_IA_NA, OPTION_IA_TA, OPTION_IA_PD -> identityAssociation = true;
                case OPTION_ORO -> {
                    if ((optionLength & 1) != 0) {
                        return ParseResult.BAD_OPTIONS;
                    }
                    for (int i = 0; i < optionLength; i += 2) {
                        if (buf.getUnsignedShort(value + i) == OPTION_DNS_SERVERS) {
                            requestsDnsServers = true;
                        }
                    }
                }
                default -> {
                    // Options a stateless server does not read (elapsed time, vendor class, ...) are skipped.
                }
            }
            at = value + optionLength;
        }
        return ParseResult.OK;
    }

    private static boolean duidLength(int length) {
        return length > 2 && length <= MAX_DUID_LENGTH;
    }

    public int messageType() {
        return buf.getUnsignedByte(offset);
    }

    /** The 24-bit transaction id. */
    public int transactionId() {
        return buf.getUnsignedMedium(offset + 1);
    }

    public int length() {
        return length;
    }

    public boolean hasClientIdentifier() {
        return clientIdOffset >= 0;
    }

    /** Absolute index of the client identifier's DUID, or -1. */
    public int clientIdentifierOffset() {
        return clientIdOffset;
    }

    public int clientIdentifierLength() {
        return clientIdLength;
    }

    public boolean hasServerIdentifier() {
        return serverIdOffset >= 0;
    }

    /** Whether the server identifier is the DUID-LL of {@code mac} that {@link #writeServerIdentifier} writes. */
    public boolean serverIdentifierIs(long mac) {
        return serverIdLength == DUID_LL_ETHERNET_LENGTH
                && buf.getUnsignedShort(serverIdOffset) == DUID_LL
                && buf.getUnsignedShort(serverIdOffset + 2) == HARDWARE_ETHERNET
                && MacAddress.read(buf, serverIdOffset + 4) == mac;
    }

    public int serverIdentifierLength() {
        return serverIdLength;
    }

    /** Whether an IA_NA, IA_TA or IA_PD option asks for addresses or prefixes. */
    public boolean hasIdentityAssociation() {
        return identityAssociation;
    }

    /** Whether the option request option lists DNS servers (23). */
    public boolean requestsDnsServers() {
        return requestsDnsServers;
    }

    /** Writes the message type and transaction id. @return {@value #HEADER_LENGTH} */
    public static int writeHeader(ByteBuf buf, int index, int messageType, int transactionId) {
        buf.setByte(index, messageType);
        buf.setMedium(index + 1, transactionId);
        return HEADER_LENGTH;
    }

    /** Writes a server identifier option holding the DUID-LL of {@code mac}. @return its length */
    public static int writeServerIdentifier(ByteBuf buf, int index, long mac) {
        buf.setShort(index, OPTION_SERVERID);
        buf.setShort(index + 2, DUID_LL_ETHERNET_LENGTH);
        buf.setShort(index + 4, DUID_LL);
        buf.setShort(index + 6, HARDWARE_ETHERNET);
        MacAddress.write(buf, index + 8, mac);
        return SERVER_IDENTIFIER_LENGTH;
    }

    /**
     * Writes a client identifier option with the DUID of {@code length} bytes at {@code from} in {@code source}.
     * @return its length
     */
    public static int writeClientIdentifier(ByteBuf buf, int index, ByteBuf source, int from, int length) {
        buf.setShort(index, OPTION_CLIENTID);
        buf.setShort(index + 2, length);
        buf.setBytes(index + OPTION_HEADER_LENGTH, source, from, length);
        return OPTION_HEADER_LENGTH + length;
    }

    /** Writes a DNS recursive name server option with one address. @return {@value #DNS_SERVERS_LENGTH} */
    public static int writeDnsServers(ByteBuf buf, int index, long high, long low) {
        buf.setShort(index, OPTION_DNS_SERVERS);
        buf.setShort(index + 2, Ipv6Address.LENGTH);
        Ipv6Address.write(buf, index + OPTION_HEADER_LENGTH, high, low);
        return DNS_SERVERS_LENGTH;
    }

    /** Writes an information refresh time option. @return {@value #INFORMATION_REFRESH_TIME_LENGTH} */
    public static int writeInformationRefreshTime(ByteBuf buf, int index, int seconds) {
        buf.setShort(index, OPTION_INFORMATION_REFRESH_TIME);
        buf.setShort(index + 2, 4);
        buf.setInt(index + OPTION_HEADER_LENGTH, seconds);
        return INFORMATION_REFRESH_TIME_LENGTH;
    }
}
