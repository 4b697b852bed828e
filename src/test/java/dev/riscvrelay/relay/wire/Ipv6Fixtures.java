package dev.riscvrelay.relay.wire;

import java.io.ByteArrayOutputStream;
import java.net.InetAddress;

/**
 * IPv6 frames for tests, built byte by byte from the RFCs' layouts (not with the writers under test), the ICMPv6
 * checksum over an explicitly laid-out pseudo-header (RFC 8200 section 8.1).
 */
public final class Ipv6Fixtures {

    private Ipv6Fixtures() {
    }

    /** The 16 bytes of an IPv6 literal. */
    public static byte[] address(String text) {
        return InetAddress.ofLiteral(text).getAddress();
    }

    /**
     * An untagged Ethernet frame carrying one IPv6 packet whose next header is {@code nextHeader} and whose payload
     * is {@code payload}; for ICMPv6 (58) the checksum at payload offset 2 is filled in.
     */
    public static byte[] frame(long destinationMac, long sourceMac, String source, String destination,
            int hopLimit, int nextHeader, byte[] payload) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        writeMac(out, destinationMac);
        writeMac(out, sourceMac);
        out.write(0x86);
        out.write(0xDD);
        out.write(0x60);
        out.write(0);
        out.write(0);
        out.write(0);
        out.write(payload.length >>> 8);
        out.write(payload.length);
        out.write(nextHeader);
        out.write(hopLimit);
        out.writeBytes(address(source));
        out.writeBytes(address(destination));
        byte[] body = payload.clone();
        if (nextHeader == 58) {
            body[2] = 0;
            body[3] = 0;
            int checksum = icmpv6Checksum(source, destination, body);
            body[2] = (byte) (checksum >>> 8);
            body[3] = (byte) checksum;
        }
        out.writeBytes(body);
        return out.toByteArray();
    }

    /**
     * An untagged Ethernet frame carrying one IPv6 packet with a UDP datagram of {@code data}, its checksum filled
     * in (mandatory over IPv6).
     */
    public static byte[] udpFrame(long destinationMac, long sourceMac, String source, String destination,
            int sourcePort, int destinationPort, byte[] data) {
        int length = 8 + data.length;
        byte[] datagram = concat(new byte[] {(byte) (sourcePort >>> 8), (byte) sourcePort,
            (byte) (destinationPort >>> 8), (byte) destinationPort, (byte) (length >>> 8), (byte) length, 0, 0}, data);
        int checksum = checksum(source, destination, 17, datagram);
        checksum = checksum == 0 ? 0xFFFF : checksum;
        datagram[6] = (byte) (checksum >>> 8);
        datagram[7] = (byte) checksum;
        return frame(destinationMac, sourceMac, source, destination, 64, 17, datagram);
    }

    /** The ICMPv6 checksum of {@code message} (its checksum bytes zero) between two addresses. */
    public static int icmpv6Checksum(String source, String destination, byte[] message) {
        return checksum(source, destination, 58, message);
    }

    /** The checksum over the IPv6 pseudo-header and {@code message} (its checksum bytes zero). */
    public static int checksum(String source, String destination, int nextHeader, byte[] message) {
        ByteArrayOutputStream pseudo = new ByteArrayOutputStream();
        pseudo.writeBytes(address(source));
        pseudo.writeBytes(address(destination));
        int length = message.length;
        pseudo.write(length >>> 24);
        pseudo.write(length >>> 16);
        pseudo.write(length >>> 8);
        pseudo.write(length);
        pseudo.write(0);
        pseudo.write(0);
        pseudo.write(0);
        pseudo.write(nextHeader);
        pseudo.writeBytes(message);
        byte[] all = pseudo.toByteArray();
        long sum = 0;
        for (int i = 0; i < all.length; i += 2) {
            int high = all[i] & 0xFF;
            int low = i + 1 < all.length ? all[i + 1] & 0xFF : 0;
            sum += high << 8 | low;
        }
        while ((sum >>> 16) != 0) {
            sum = (sum & 0xFFFF) + (sum >>> 16);
        }
        return (int) (~sum & 0xFFFF);
    }

    /** Bytes from hex text, spaces allowed. */
    public static byte[] hex(String text) {
        String digits = text.replace(" ", "");
        byte[] bytes = new byte[digits.length() / 2];
        for (int i = 0; i < bytes.length; i++) {
            bytes[i] = (byte) Integer.parseInt(digits.substring(2 * i, 2 * i + 2), 16);
        }
        return bytes;
    }

    /** Concatenates byte arrays. */
    public static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] part : parts) {
            out.writeBytes(part);
        }
        return out.toByteArray();
    }

    private static void writeMac(ByteArrayOutputStream out, long mac) {
        for (int shift = 40; shift >= 0; shift -= 8) {
            out.write((int) (mac >>> shift));
        }
    }
}
