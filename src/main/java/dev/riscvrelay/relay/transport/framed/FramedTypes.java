package dev.riscvrelay.relay.transport.framed;

/** The type byte in front of every framed-protocol datagram. */
public final class FramedTypes {

    /** JSON control message follows. */
    public static final byte CONTROL = 0x00;
    /** One whole Ethernet frame follows. */
    public static final byte DATA = 0x01;
    /** A chunk of a frame follows, behind a 4-byte chunk header. */
    public static final byte CHUNK = 0x02;

    private FramedTypes() {
    }
}
