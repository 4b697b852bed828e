package dev.riscvrelay.relay.nat.tcp;

/** Sequence numbers compared modulo 2^32 (RFC 9293 section 3.4): a comes before b when b - a is in (0, 2^31). */
final class SequenceNumbers {

    private SequenceNumbers() {
    }

    static boolean before(int a, int b) {
        return a - b < 0;
    }

    static boolean after(int a, int b) {
        return a - b > 0;
    }
}
