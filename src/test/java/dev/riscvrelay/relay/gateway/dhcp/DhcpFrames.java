package dev.riscvrelay.relay.gateway.dhcp;

import dev.riscvrelay.relay.wire.DhcpMessage;
import dev.riscvrelay.relay.wire.EthernetFrame;
import dev.riscvrelay.relay.wire.Ipv4Packet;
import dev.riscvrelay.relay.wire.ParseResult;
import dev.riscvrelay.relay.wire.UdpPacket;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.util.LinkedHashMap;
import java.util.Map;

/** Builds client DHCP frames for cases no capture covers, and takes replies apart for assertions. */
public final class DhcpFrames {

    private DhcpFrames() {
    }

    /** A BOOTREQUEST frame from {@code mac}, options given as code → data, end option appended. */
    public static byte[] clientFrame(long mac, int sourceIp, int destinationIp, int xid, int flags, int ciaddr,
            Map<Integer, byte[]> options) {
        int optionBytes = 1;
        for (byte[] data : options.values()) {
            optionBytes += 2 + data.length;
        }
        int dhcpLength = DhcpMessage.MIN_LENGTH + optionBytes;
        int udpLength = UdpPacket.HEADER_LENGTH + dhcpLength;
        int ipLength = Ipv4Packet.MIN_HEADER_LENGTH + udpLength;
        ByteBuf buf = Unpooled.buffer(EthernetFrame.HEADER_LENGTH + ipLength);
        try {
            long destinationMac = destinationIp == -1 ? 0xFFFF_FFFF_FFFFL : 0x5254_0012_3456L;
            EthernetFrame.writeHeader(buf, 0, destinationMac, mac, EthernetFrame.TYPE_IPV4);
            Ipv4Packet.writeHeader(buf, 14, ipLength, 1, false, 64, Ipv4Packet.PROTOCOL_UDP, sourceIp,
                    destinationIp);
            UdpPacket.writeHeader(buf, 34, 68, 67, udpLength);
            int at = 42 + DhcpMessage.writeReplyHeader(buf, 42, xid, flags, ciaddr, 0, 0, mac);
            buf.setByte(42, DhcpMessage.OP_BOOTREQUEST);
            for (Map.Entry<Integer, byte[]> option : options.entrySet()) {
                buf.setByte(at, option.getKey());
                buf.setByte(at + 1, option.getValue().length);
                buf.setBytes(at + 2, option.getValue());
                at += 2 + option.getValue().length;
            }
            buf.setByte(at, DhcpMessage.OPTION_END);
            UdpPacket.fillChecksum(buf, 34, udpLength, sourceIp, destinationIp);
            byte[] frame = new byte[EthernetFrame.HEADER_LENGTH + ipLength];
            buf.getBytes(0, frame);
            return frame;
        } finally {
            buf.release();
        }
    }

    public static Map<Integer, byte[]> options(Object... codesAndData) {
        Map<Integer, byte[]> options = new LinkedHashMap<>();
        for (int i = 0; i < codesAndData.length; i += 2) {
            Object data = codesAndData[i + 1];
            options.put((Integer) codesAndData[i], data instanceof byte[] bytes ? bytes
                    : data instanceof Integer value && (Integer) codesAndData[i] == DhcpMessage.OPTION_MESSAGE_TYPE
                            ? new byte[] {value.byteValue()}
                            : ipBytes((Integer) data));
        }
        return options;
    }

    public static byte[] ipBytes(int address) {
        return new byte[] {(byte) (address >>> 24), (byte) (address >>> 16), (byte) (address >>> 8), (byte) address};
    }

    /** Zeroes the UDP checksum of a frame (RFC 768: none computed) after a test patched its bytes. */
    public static byte[] withoutUdpChecksum(byte[] frame) {
        byte[] copy = frame.clone();
        copy[40] = 0;
        copy[41] = 0;
        return copy;
    }

    /** A reply frame taken apart: headers checked (IPv4 and UDP checksums verified), DHCP options by code. */
    public record Reply(long destinationMac, int sourceIp, int destinationIp, int sourcePort, int destinationPort,
            int op, int xid, int flags, int ciaddr, int yiaddr, long chaddr, int dhcpLength,
            Map<Integer, byte[]> options, int frameLength) {

        public int messageType() {
            return options.get(DhcpMessage.OPTION_MESSAGE_TYPE)[0];
        }

        int intOption(int code) {
            byte[] data = options.get(code);
            return (data[0] & 0xFF) << 24 | (data[1] & 0xFF) << 16 | (data[2] & 0xFF) << 8 | (data[3] & 0xFF);
        }

        int shortOption(int code) {
            byte[] data = options.get(code);
            return (data[0] & 0xFF) << 8 | (data[1] & 0xFF);
        }
    }

    public static Reply parseReply(byte[] bytes) {
        ByteBuf buf = Unpooled.wrappedBuffer(bytes);
        EthernetFrame ethernet = new EthernetFrame();
        Ipv4Packet ip = new Ipv4Packet();
        UdpPacket udp = new UdpPacket();
        DhcpMessage dhcp = new DhcpMessage();
        check(ethernet.wrap(buf), "ethernet");
        check(ip.wrap(buf, ethernet.payloadOffset(), ethernet.payloadLength()), "ipv4");
        check(udp.wrap(buf, ip.payloadOffset(), ip.payloadLength()), "udp");
        if (!udp.hasChecksum() || !udp.checksumValid(ip.source(), ip.destination())) {
            throw new AssertionError("reply UDP checksum missing or wrong");
        }
        check(dhcp.wrap(buf, udp.dataOffset(), udp.dataLength()), "dhcp");
        Map<Integer, byte[]> options = new LinkedHashMap<>();
        int at = udp.dataOffset() + DhcpMessage.MIN_LENGTH;
        int end = udp.dataOffset() + udp.dataLength();
        boolean ended = false;
        while (at < end) {
            int code = buf.getUnsignedByte(at);
            if (code == 0) {
                at++;
                continue;
            }
            if (code == 255) {
                ended = true;
                break;
            }
            byte[] data = new byte[buf.getUnsignedByte(at + 1)];
            buf.getBytes(at + 2, data);
            if (options.put(code, data) != null) {
                throw new AssertionError("option " + code + " twice");
            }
            at += 2 + data.length;
        }
        if (!ended) {
            throw new AssertionError("reply has no end option");
        }
        return new Reply(ethernet.destination(), ip.source(), ip.destination(), udp.sourcePort(),
                udp.destinationPort(), dhcp.op(), dhcp.transactionId(), dhcp.flags(), dhcp.clientAddress(),
                dhcp.yourAddress(), dhcp.clientMac(), udp.dataLength(), options, bytes.length);
    }

    private static void check(ParseResult result, String what) {
        if (result != ParseResult.OK) {
            throw new AssertionError(what + ": " + result);
        }
    }
}
