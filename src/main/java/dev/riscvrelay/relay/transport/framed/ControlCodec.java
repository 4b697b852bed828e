package dev.riscvrelay.relay.transport.framed;

import dev.riscvrelay.relay.ops.api.Json;
import io.netty.buffer.ByteBuf;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;

/**
 * Reads and writes the JSON of control messages as the upstream peers do (serde's internally tagged enum): an object
 * whose {@code "type"} names the variant, the variant's fields beside it, unknown fields ignored, byte arrays as
 * JSON arrays of numbers 0..255 of exactly their length. Written compactly, fields in declaration order, because the
 * upstream client finds {@code "type":"Assigned"} and {@code "ip":[} by plain substring search.
 */
final class ControlCodec {

    /** The longest control message read: a Register is about 50 bytes; more is not from a real client. */
    static final int MAX_CONTROL_BYTES = 512;

    private ControlCodec() {
    }

    /**
     * The control message in {@code in[from, from + length)} (the JSON after the type byte), or null when it is
     * too long, not JSON, not an object with a string {@code "type"}, or a known type with bad fields.
     * {@link #UNKNOWN} when the type is one nobody defined.
     */
    static ControlMessage decode(ByteBuf in, int from, int length) {
        if (length > MAX_CONTROL_BYTES) {
            return null;
        }
        if (!(BoundedJson.parse(in, from, length) instanceof Map<?, ?> object)
                || !(object.get("type") instanceof String type)) {
            return null;
        }
        return switch (type) {
            case "Register" -> {
                long mac = bytes(object.get("mac"), 6);
                yield mac < 0 ? null : new ControlMessage.Register(mac);
            }
            case "Heartbeat" -> new ControlMessage.Heartbeat();
            case "Disconnect" -> new ControlMessage.Disconnect();
            case "Assigned", "HeartbeatAck", "Error", "PeerList" -> new ControlMessage.NotForRelay(type);
            default -> UNKNOWN;
        };
    }

    /** Returned by {@link #decode} for a well-formed message of a type the protocol does not have. */
    static final ControlMessage UNKNOWN = new ControlMessage.NotForRelay("?");

    /** A JSON array of exactly {@code count} byte values, big-endian in a long; -1 when it is not. */
    private static long bytes(Object value, int count) {
        if (!(value instanceof List<?> list) || list.size() != count) {
            return -1;
        }
        long packed = 0;
        for (Object item : list) {
            if (!(item instanceof Long b) || b < 0 || b > 255) {
                return -1;
            }
            packed = packed << 8 | b;
        }
        return packed;
    }

    /** The JSON of a message the relay sends. */
    static byte[] encode(ControlMessage message) {
        StringBuilder json = new StringBuilder(96).append("{\"type\":\"");
        switch (message) {
            case ControlMessage.Assigned a -> {
                json.append("Assigned\"");
                address(json, "ip", a.ip());
                address(json, "gateway", a.gateway());
                address(json, "netmask", a.netmask());
                address(json, "dns", a.dns());
            }
            case ControlMessage.HeartbeatAck ack -> json.append("HeartbeatAck\"");
            case ControlMessage.Error e -> Json.quote(json.append("Error\",\"message\":"), e.message());
            case ControlMessage.Register r -> {
                json.append("Register\",\"mac\":[");
                for (int shift = 40; shift >= 0; shift -= 8) {
                    json.append((r.mac() >>> shift) & 0xFF).append(shift > 0 ? "," : "]");
                }
            }
            case ControlMessage.Heartbeat h -> json.append("Heartbeat\"");
            case ControlMessage.Disconnect d -> json.append("Disconnect\"");
            case ControlMessage.NotForRelay n -> throw new IllegalArgumentException("not sent: " + n.type());
        }
        return json.append('}').toString().getBytes(StandardCharsets.UTF_8);
    }

    private static void address(StringBuilder json, String name, int address) {
        json.append(",\"").append(name).append("\":[").append(address >>> 24).append(',')
                .append((address >>> 16) & 0xFF).append(',').append((address >>> 8) & 0xFF).append(',')
                .append(address & 0xFF).append(']');
    }
}
