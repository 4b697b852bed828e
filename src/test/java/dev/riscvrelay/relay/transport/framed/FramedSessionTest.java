package dev.riscvrelay.relay.transport.framed;

import static org.assertj.core.api.Assertions.assertThat;

import dev.riscvrelay.relay.access.AddressAssignment;
import dev.riscvrelay.relay.metrics.Counter;
import dev.riscvrelay.relay.metrics.Counters;
import dev.riscvrelay.relay.wire.Ipv4Address;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.buffer.Unpooled;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.api.Test;

/** How a session's first datagram decides its protocol, and what a framed session does with each datagram. */
class FramedSessionTest {

    private static final long MAC = 0x52_54_00_ab_cd_efL;
    private static final String REGISTER = "{\"type\":\"Register\",\"mac\":[82,84,0,171,205,239]}";
    private static final int ADDRESS = Ipv4Address.parse("10.0.2.15");

    private final Counters counters = new Counters();
    private final List<String> sent = new ArrayList<>();
    private final List<String> ended = new ArrayList<>();
    private final List<Long> asked = new ArrayList<>();
    private AddressAssignment.Outcome answer = new AddressAssignment.Assigned(ADDRESS,
            Ipv4Address.parse("10.0.2.2"), Ipv4Address.parse("255.255.255.0"), Ipv4Address.parse("10.0.2.3"));
    private final FramedSession session = new FramedSession(new FramedSession.Link() {
        @Override
        public void sendControl(byte[] json) {
            sent.add(new String(json, StandardCharsets.UTF_8));
        }

        @Override
        public void end(String reason) {
            ended.add(reason);
        }
    }, mac -> {
        asked.add(mac);
        return answer;
    }, counters, () -> 0, PooledByteBufAllocator.DEFAULT, 8);

    private static ByteBuf control(String json) {
        return Unpooled.buffer().writeByte(0).writeBytes(json.getBytes(StandardCharsets.UTF_8));
    }

    private static ByteBuf hex(String bytes) {
        return Unpooled.wrappedBuffer(HexFormat.of().parseHex(bytes.replace(" ", "")));
    }

    @Test
    void onlyAControlByteFollowedByAValidRegisterOpensTheFramedProtocol() {
        assertThat(FramedSession.opensFramedSession(control(REGISTER))).isTrue();
        assertThat(FramedSession.opensFramedSession(control(" " + REGISTER + "\n"))).isTrue();
        // Raw frames whose destination MAC starts with 00, 01 or 02 (a unicast OUI, IPv4 multicast, a locally
        // administered address) stay raw: an Ethernet header never continues as a JSON Register.
        assertThat(FramedSession.opensFramedSession(hex("00 16 3e 11 22 33 02 00 00 00 00 01 08 06 0001 0800 06 04 0001")))
                .isFalse();
        assertThat(FramedSession.opensFramedSession(hex("01 00 5e 00 00 fb 02 00 00 00 00 01 08 00 45 00 00 1c")))
                .isFalse();
        assertThat(FramedSession.opensFramedSession(hex("02 00 00 00 00 02 02 00 00 00 00 01 08 06 0001 0800")))
                .isFalse();
        // Framed, but not a Register: a client must register first.
        assertThat(FramedSession.opensFramedSession(control("{\"type\":\"Heartbeat\"}"))).isFalse();
        assertThat(FramedSession.opensFramedSession(hex("01 ffffffffffff 020000000001 0806"))).isFalse();
        assertThat(FramedSession.opensFramedSession(control("{\"type\":\"Register\",\"mac\":[1,2,3]}"))).isFalse();
        assertThat(FramedSession.opensFramedSession(hex("00"))).isFalse();
    }

    @Test
    void aRegisterIsAnsweredWithTheAssignedAddressOfItsMac() {
        assertThat(session.receive(control(REGISTER))).isNull();
        assertThat(asked).containsExactly(MAC);
        assertThat(sent).containsExactly("{\"type\":\"Assigned\",\"ip\":[10,0,2,15],\"gateway\":[10,0,2,2],"
                + "\"netmask\":[255,255,255,0],\"dns\":[10,0,2,3]}");
        assertThat(session.assignedAddress()).isEqualTo(ADDRESS);
        assertThat(counters.get(Counter.FRAMED_ASSIGNED)).isEqualTo(1);
        assertThat(ended).isEmpty();
    }

    @Test
    void aRefusedRegisterGetsAnErrorAndTheSessionEnds() {
        answer = new AddressAssignment.Refused("IP pool exhausted", Counter.FRAMED_REFUSED);
        assertThat(session.receive(control(REGISTER))).isNull();
        assertThat(sent).containsExactly("{\"type\":\"Error\",\"message\":\"IP pool exhausted\"}");
        assertThat(ended).containsExactly("IP pool exhausted");
        assertThat(counters.get(Counter.FRAMED_REFUSED)).isEqualTo(1);
    }

    @Test
    void heartbeatsAreAcknowledgedAndRenewTheLeaseAndDisconnectEndsTheSession() {
        session.receive(control(REGISTER));
        sent.clear();
        assertThat(session.receive(control("{\"type\":\"Heartbeat\"}"))).isNull();
        assertThat(sent).containsExactly("{\"type\":\"HeartbeatAck\"}");
        assertThat(asked).containsExactly(MAC, MAC);
        assertThat(counters.get(Counter.FRAMED_HEARTBEATS)).isEqualTo(1);

        assertThat(session.receive(control("{\"type\":\"Disconnect\"}"))).isNull();
        assertThat(ended).containsExactly("client disconnected");
    }

    @Test
    void dataFramesComeOutWithTheirTypeByteAsHeadroomAndChunksComeOutReassembled() {
        ByteBuf data = hex("01 ffffffffffff 525400abcdef 0806 0001");
        ByteBuf frame = session.receive(data);
        assertThat(frame).isSameAs(data);
        assertThat(frame.readerIndex()).isEqualTo(1);
        assertThat(ByteBufUtil.hexDump(frame)).isEqualTo("ffffffffffff525400abcdef08060001");
        frame.release();

        byte[] big = new byte[1199];
        big[5] = 7;
        assertThat(session.receive(Unpooled.directBuffer().writeByte(2).writeShort(0).writeByte(0).writeByte(2)
                .writeBytes(big, 0, 900))).isNull();
        ByteBuf whole = session.receive(Unpooled.directBuffer().writeByte(2).writeShort(0).writeByte(1)
                .writeByte(2).writeBytes(big, 900, 299));
        assertThat(ByteBufUtil.getBytes(whole)).isEqualTo(big);
        whole.release();
    }

    @Test
    void badInputIsCountedByReasonAndNeverAnswered() {
        session.receive(control(REGISTER));
        sent.clear();
        session.receive(control("{\"type\":\"Heartbeat\""));
        session.receive(control("x".repeat(2000)));
        session.receive(control("{\"type\":\"Teleport\"}"));
        session.receive(control("{\"type\":\"Assigned\",\"ip\":[1,2,3,4]}"));
        session.receive(hex("07 00"));
        session.receive(Unpooled.buffer());
        assertThat(counters.get(Counter.DROP_FRAMED_CONTROL_MALFORMED)).isEqualTo(2);
        assertThat(counters.get(Counter.DROP_FRAMED_CONTROL_UNEXPECTED)).isEqualTo(2);
        assertThat(counters.get(Counter.DROP_FRAMED_BAD_TYPE)).isEqualTo(2);
        assertThat(sent).isEmpty();
        assertThat(ended).isEmpty();
    }
}
