package dev.riscvrelay.relay.wire;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import org.junit.jupiter.api.Test;

class DhcpMessageTest {

    private static final int DHCP_AT = 42;
    private final DhcpMessage dhcp = new DhcpMessage();

    private ParseResult wrap(ByteBuf frame) {
        int at = frame.readerIndex() + DHCP_AT;
        return dhcp.wrap(frame, at, frame.writerIndex() - at);
    }

    @Test
    void readsACapturedUdhcpcDiscover() {
        ByteBuf frame = HexFixtures.directBuffer("dhcp-discover-udhcpc", 5);
        try {
            assertThat(wrap(frame)).isEqualTo(ParseResult.OK);
            assertThat(dhcp.op()).isEqualTo(DhcpMessage.OP_BOOTREQUEST);
            assertThat(dhcp.messageType()).isEqualTo(DhcpMessage.DISCOVER);
            assertThat(dhcp.transactionId()).isEqualTo(0x59927146);
            assertThat(dhcp.clientMac()).isEqualTo(0x5255_0a00_020fL);
            assertThat(dhcp.broadcastFlag()).isFalse();
            assertThat(dhcp.maxMessageSize()).isEqualTo(576);
            assertThat(dhcp.hasClientIdentifier()).isTrue();
            assertThat(dhcp.clientIdentifierLength()).isEqualTo(7);
            assertThat(frame.getByte(dhcp.clientIdentifierOffset())).isEqualTo((byte) 1);
            assertThat(MacAddress.read(frame, dhcp.clientIdentifierOffset() + 1)).isEqualTo(0x5255_0a00_020fL);
            assertThat(dhcp.hasRequestedAddress()).isFalse();
            assertThat(dhcp.hasServerIdentifier()).isFalse();
        } finally {
            frame.release();
        }
    }

    @Test
    void readsCapturedDhclientRequestReleaseAndADnsmasqOffer() {
        ByteBuf request = HexFixtures.directBuffer("dhcp-request-dhclient-selecting", 0);
        ByteBuf release = HexFixtures.directBuffer("dhcp-release-dhclient", 3);
        ByteBuf offer = HexFixtures.directBuffer("dhcp-offer-dnsmasq", 1);
        try {
            assertThat(wrap(request)).isEqualTo(ParseResult.OK);
            assertThat(dhcp.messageType()).isEqualTo(DhcpMessage.REQUEST);
            assertThat(dhcp.serverIdentifier()).isEqualTo(Ipv4Address.parse("10.0.2.2"));
            assertThat(dhcp.requestedAddress()).isEqualTo(Ipv4Address.parse("10.0.2.21"));
            assertThat(dhcp.hasClientIdentifier()).isFalse();

            assertThat(wrap(release)).isEqualTo(ParseResult.OK);
            assertThat(dhcp.messageType()).isEqualTo(DhcpMessage.RELEASE);
            assertThat(dhcp.clientAddress()).isEqualTo(Ipv4Address.parse("10.0.2.21"));

            assertThat(wrap(offer)).isEqualTo(ParseResult.OK);
            assertThat(dhcp.op()).isEqualTo(DhcpMessage.OP_BOOTREPLY);
            assertThat(dhcp.messageType()).isEqualTo(DhcpMessage.OFFER);
            assertThat(dhcp.yourAddress()).isEqualTo(Ipv4Address.parse("10.0.2.21"));
        } finally {
            request.release();
            release.release();
            offer.release();
        }
    }

    @Test
    void refusesTruncatedForeignHardwareBadCookieAndOverrunningOptions() {
        byte[] captured = HexFixtures.bytes("dhcp-discover-udhcpc");
        ByteBuf frame = HexFixtures.directBuffer(captured, 0);
        try {
            int at = DHCP_AT;
            assertThat(dhcp.wrap(frame, at, DhcpMessage.MIN_LENGTH - 1)).isEqualTo(ParseResult.TRUNCATED);
            // Cut inside the options: the client identifier (last option) overruns the shorter area.
            assertThat(dhcp.wrap(frame, at, DhcpMessage.MIN_LENGTH + 20)).isEqualTo(ParseResult.BAD_OPTIONS);
            frame.setByte(at + 1, 6);
            assertThat(wrap(frame)).isEqualTo(ParseResult.UNSUPPORTED_HARDWARE);
            frame.setByte(at + 1, 1);
            frame.setByte(at + 2, 16);
            assertThat(wrap(frame)).isEqualTo(ParseResult.UNSUPPORTED_HARDWARE);
            frame.setByte(at + 2, 6);
            frame.setByte(at + 239, 0x64);
            assertThat(wrap(frame)).isEqualTo(ParseResult.BAD_MAGIC_COOKIE);
        } finally {
            frame.release();
        }
    }

    @Test
    void overloadedFileFieldIsWalkedForOptions() {
        byte[] captured = HexFixtures.bytes("dhcp-discover-udhcpc");
        ByteBuf frame = HexFixtures.directBuffer(captured, 0);
        try {
            int at = DHCP_AT;
            // Main area: overload=1 (file), end. File field: server identifier 10.0.2.2, end.
            frame.setZero(at + DhcpMessage.MIN_LENGTH, captured.length - at - DhcpMessage.MIN_LENGTH);
            frame.setBytes(at + DhcpMessage.MIN_LENGTH, new byte[] {52, 1, 1, 53, 1, 3, (byte) 255});
            frame.setBytes(at + 108, new byte[] {54, 4, 10, 0, 2, 2, (byte) 255});
            assertThat(wrap(frame)).isEqualTo(ParseResult.OK);
            assertThat(dhcp.messageType()).isEqualTo(DhcpMessage.REQUEST);
            assertThat(dhcp.serverIdentifier()).isEqualTo(Ipv4Address.parse("10.0.2.2"));

            frame.setBytes(at + 108, new byte[] {54, (byte) 200});
            assertThat(wrap(frame)).isEqualTo(ParseResult.BAD_OPTIONS);
        } finally {
            frame.release();
        }
    }
}
