package dev.riscvrelay.relay.transport.wisp;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import org.junit.jupiter.api.Test;

/** The WISP packet layout, CONNECT and INFO parsing and the endpoint's paths, with good and hostile bytes. */
class WispCodecTest {

    private static ByteBuf bytes(int... values) {
        ByteBuf buf = Unpooled.buffer(values.length);
        for (int v : values) {
            buf.writeByte(v);
        }
        return buf;
    }

    @Test
    void headerIsTypeThenLittleEndianStreamId() {
        ByteBuf packet = bytes(0x02, 0x78, 0x56, 0x34, 0x12, 0xAA);
        assertThat(WispPacket.type(packet)).isEqualTo(WispPacket.DATA);
        assertThat(WispPacket.streamId(packet)).isEqualTo(0x12345678);
        assertThat(WispPacket.payloadLength(packet)).isEqualTo(1);
        assertThat(WispPacket.streamId(bytes(0x02, 0xFF, 0xFF, 0xFF, 0xFF))).isEqualTo(-1); // 2^32 - 1, compared only
    }

    @Test
    void builtPacketsMatchTheSpecification() {
        ByteBufAllocator alloc = ByteBufAllocator.DEFAULT;
        ByteBuf continuePacket = WispPacket.continuePacket(alloc, 0, 64);
        assertThat(io.netty.buffer.ByteBufUtil.getBytes(continuePacket)).containsExactly(3, 0, 0, 0, 0, 64, 0, 0, 0);
        ByteBuf close = WispPacket.close(alloc, 258, WispClose.BLOCKED);
        assertThat(io.netty.buffer.ByteBufUtil.getBytes(close)).containsExactly(4, 2, 1, 0, 0, 0x48);
        ByteBuf payload = bytes(9, 8, 7);
        payload.readByte();
        ByteBuf data = WispPacket.data(alloc, 1, payload, payload.readableBytes());
        assertThat(io.netty.buffer.ByteBufUtil.getBytes(data)).containsExactly(2, 1, 0, 0, 0, 8, 7);
        ByteBuf info = WispPacket.info(alloc, 2, 0, WispInfo.serverExtensions(true));
        assertThat(io.netty.buffer.ByteBufUtil.getBytes(info)).containsExactly(5, 0, 0, 0, 0, 2, 0,
                1, 0, 0, 0, 0, 5, 0, 0, 0, 0, 2, 1, 0, 0, 0, 1);
        for (ByteBuf b : new ByteBuf[] {continuePacket, close, data, info}) {
            b.release();
        }
    }

    @Test
    void connectParsesTypePortAndHost() {
        ByteBuf packet = bytes(1, 1, 0, 0, 0, 1, 0x50, 0x00, 'a', '.', 'b');
        WispConnect connect = WispConnect.parse(packet);
        assertThat(connect).isEqualTo(new WispConnect(false, 80, "a.b"));
        ByteBuf udp = bytes(1, 1, 0, 0, 0, 2, 0x35, 0x00, '1', '.', '2', '.', '3', '.', '4');
        assertThat(WispConnect.parse(udp)).isEqualTo(new WispConnect(true, 53, "1.2.3.4"));
    }

    @Test
    void badConnectsAreRefusedNotThrown() {
        assertThat(WispConnect.parse(bytes(1, 1, 0, 0, 0, 1, 80, 0))).as("no host").isNull();
        assertThat(WispConnect.parse(bytes(1, 1, 0, 0, 0, 1, 80))).as("short").isNull();
        assertThat(WispConnect.parse(bytes(1, 1, 0, 0, 0, 3, 80, 0, 'a'))).as("type 3").isNull();
        assertThat(WispConnect.parse(bytes(1, 1, 0, 0, 0, 1, 0, 0, 'a'))).as("port 0").isNull();
        assertThat(WispConnect.parse(bytes(1, 1, 0, 0, 0, 1, 80, 0, 'a', ' ', 'b'))).as("space").isNull();
        assertThat(WispConnect.parse(bytes(1, 1, 0, 0, 0, 1, 80, 0, 'a', 0, 'b'))).as("NUL").isNull();
        ByteBuf longName = Unpooled.buffer().writeBytes(new byte[] {1, 1, 0, 0, 0, 1, 80, 0});
        longName.writeBytes("a".repeat(254).getBytes());
        assertThat(WispConnect.parse(longName)).as("254-byte name").isNull();
    }

    @Test
    void clientInfoGivesExtensionsAndPassword() {
        // version 2.0; UDP; password: user "u", password "tok"; stream open confirmation; an unknown extension 0x77
        ByteBuf info = bytes(5, 0, 0, 0, 0, 2, 0,
                1, 0, 0, 0, 0,
                2, 5, 0, 0, 0, 1, 'u', 't', 'o', 'k',
                5, 0, 0, 0, 0,
                0x77, 1, 0, 0, 0, 9);
        assertThat(WispInfo.parse(info)).isEqualTo(new WispInfo(true, true, "tok"));
        assertThat(WispInfo.parse(bytes(5, 0, 0, 0, 0, 2, 0))).isEqualTo(new WispInfo(false, false, null));
    }

    @Test
    void malformedInfoIsRefused() {
        assertThat(WispInfo.parse(bytes(5, 0, 0, 0, 0, 2))).as("no minor version").isNull();
        assertThat(WispInfo.parse(bytes(5, 0, 0, 0, 0, 2, 0, 1, 0, 0))).as("cut record header").isNull();
        assertThat(WispInfo.parse(bytes(5, 0, 0, 0, 0, 2, 0, 1, 9, 0, 0, 0))).as("length overruns").isNull();
        assertThat(WispInfo.parse(bytes(5, 0, 0, 0, 0, 2, 0, 1, 0xFF, 0xFF, 0xFF, 0xFF))).as("4 GiB").isNull();
        assertThat(WispInfo.parse(bytes(5, 0, 0, 0, 0, 2, 0, 2, 2, 0, 0, 0, 5, 'x'))).as("user overruns").isNull();
        assertThat(WispInfo.parse(bytes(5, 0, 0, 0, 0, 2, 0, 2, 0, 0, 0, 0))).as("empty password record").isNull();
    }

    @Test
    void pathsNameTheNetworkAndToken() {
        assertThat(WispPath.parse("/wisp/")).isEqualTo(new WispPath("default", null));
        assertThat(WispPath.parse("/wisp")).isEqualTo(new WispPath("default", null));
        assertThat(WispPath.parse("/net/lab/wisp/?token=abc")).isEqualTo(new WispPath("lab", "abc"));
        assertThat(WispPath.parse("/net/Bad!/wisp/")).isEqualTo(new WispPath(null, null));
        assertThat(WispPath.parse("/")).isNull();
        assertThat(WispPath.parse("/net/lab")).isNull();
        assertThat(WispPath.parse("/wisp/extra")).isNull();
        assertThat(WispPath.parse("/net/lab/vm/10.0.2.15:80/wisp/")).isNull();
    }

    @Test
    void connectFailuresMapToCloseReasons() {
        assertThat(WispClose.forConnectFailure(new io.netty.channel.ConnectTimeoutException("t")))
                .isEqualTo(WispClose.CONNECT_TIMEOUT);
        assertThat(WispClose.forConnectFailure(new java.net.ConnectException("Connection refused")))
                .isEqualTo(WispClose.REFUSED);
        assertThat(WispClose.forConnectFailure(new java.net.NoRouteToHostException("x")))
                .isEqualTo(WispClose.UNREACHABLE);
        assertThat(WispClose.forConnectFailure(new java.net.ConnectException("Network is unreachable")))
                .isEqualTo(WispClose.UNREACHABLE);
        assertThat(WispClose.forConnectFailure(new java.io.IOException("x"))).isEqualTo(WispClose.NETWORK_ERROR);
    }
}
