package dev.riscvrelay.relay.transport.framed;

import static org.assertj.core.api.Assertions.assertThat;

import dev.riscvrelay.relay.wire.Ipv4Address;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Control messages as the upstream client writes and reads them (serde_json of an internally tagged enum). */
class ControlCodecTest {

    private static ControlMessage decode(String json) {
        ByteBuf in = Unpooled.copiedBuffer("X" + json, StandardCharsets.UTF_8);
        return ControlCodec.decode(in, 1, in.readableBytes() - 1);
    }

    private static String encode(ControlMessage message) {
        return new String(ControlCodec.encode(message), StandardCharsets.UTF_8);
    }

    @Test
    void readsTheRegisterTheUpstreamClientFormats() {
        // make_register_message in riscv-vm's net/webtransport.rs, byte for byte.
        assertThat(decode("{\"type\":\"Register\",\"mac\":[82,84,0,171,205,239]}"))
                .isEqualTo(new ControlMessage.Register(0x52_54_00_ab_cd_efL));
        // What serde_json also takes: whitespace, fields in any order, unknown fields.
        assertThat(decode(" {\n \"mac\" : [ 2, 0, 0, 0, 0, 1 ], \"extra\": {\"a\": [true, null]}, \"type\": \"Register\" } "))
                .isEqualTo(new ControlMessage.Register(0x02_00_00_00_00_01L));
        assertThat(decode("{\"type\":\"Heartbeat\"}")).isEqualTo(new ControlMessage.Heartbeat());
        assertThat(decode("{\"type\":\"Disconnect\"}")).isEqualTo(new ControlMessage.Disconnect());
        assertThat(decode("{\"type\":\"Re\\u0067ister\",\"mac\":[2,0,0,0,0,1]}")).as("an escaped type")
                .isEqualTo(new ControlMessage.Register(0x02_00_00_00_00_01L));
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "", "{", "[]", "null", "\"Register\"", "{\"type\":\"Register\"}",
        "{\"type\":\"Register\",\"mac\":[1,2,3,4,5]}", "{\"type\":\"Register\",\"mac\":[1,2,3,4,5,6,7]}",
        "{\"type\":\"Register\",\"mac\":[1,2,3,4,5,256]}", "{\"type\":\"Register\",\"mac\":[1,2,3,4,5,-1]}",
        "{\"type\":\"Register\",\"mac\":[1,2,3,4,5,1.5]}", "{\"type\":\"Register\",\"mac\":\"52:54:00:ab:cd:ef\"}",
        "{\"type\":\"Register\",\"mac\":[1,2,3,4,5,06]}", "{\"type\":7}", "{\"kind\":\"Heartbeat\"}",
        "{\"type\":\"Heartbeat\"} x", "{\"type\":\"Heartbeat\",}", "{\"type\":\"Heartbeat\",\"type\":\"Disconnect\"}",
        "{\"type\":\"Heart\nbeat\"}", "{\"type\":\"\\x\"}", "{'type':'Heartbeat'}",
        "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]",
        "{\"type\":\"Heartbeat\",\"n\":123456789012345678901234567890}"
    })
    void refusesWhatIsNotAWellFormedMessage(String json) {
        assertThat(decode(json)).isNull();
    }

    @Test
    void knowsTheTypesOnlyTheRelaySendsAndUnknownOnes() {
        assertThat(decode("{\"type\":\"Assigned\",\"ip\":[1,2,3,4]}")).isEqualTo(new ControlMessage.NotForRelay("Assigned"));
        assertThat(decode("{\"type\":\"PeerList\",\"peers\":[]}")).isEqualTo(new ControlMessage.NotForRelay("PeerList"));
        assertThat(decode("{\"type\":\"Teleport\"}")).isSameAs(ControlCodec.UNKNOWN);
    }

    @Test
    void refusesAMessageLongerThanTheLimitWhateverItHolds() {
        String padded = "{\"type\":\"Heartbeat\",\"pad\":\"" + "x".repeat(ControlCodec.MAX_CONTROL_BYTES) + "\"}";
        assertThat(decode(padded)).isNull();
    }

    @Test
    void writesCompactJsonInDeclarationOrderAsTheClientSearchesIt() {
        // The client looks for "type":"Assigned" and "ip":[ with no whitespace (parse_ip_from_json).
        assertThat(encode(new ControlMessage.Assigned(Ipv4Address.parse("10.0.2.15"), Ipv4Address.parse("10.0.2.2"),
                Ipv4Address.parse("255.255.255.0"), Ipv4Address.parse("10.0.2.3"))))
                .isEqualTo("{\"type\":\"Assigned\",\"ip\":[10,0,2,15],\"gateway\":[10,0,2,2],"
                        + "\"netmask\":[255,255,255,0],\"dns\":[10,0,2,3]}");
        assertThat(encode(new ControlMessage.HeartbeatAck())).isEqualTo("{\"type\":\"HeartbeatAck\"}");
        assertThat(encode(new ControlMessage.Error("IP pool \"exhausted\"")))
                .isEqualTo("{\"type\":\"Error\",\"message\":\"IP pool \\\"exhausted\\\"\"}");
        String register = encode(new ControlMessage.Register(0x52_54_00_ab_cd_efL));
        assertThat(register).isEqualTo("{\"type\":\"Register\",\"mac\":[82,84,0,171,205,239]}");
        assertThat(decode(register)).isEqualTo(new ControlMessage.Register(0x52_54_00_ab_cd_efL));
    }
}
