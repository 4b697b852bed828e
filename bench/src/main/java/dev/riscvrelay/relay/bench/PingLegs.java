package dev.riscvrelay.relay.bench;

import dev.riscvrelay.relay.testbed.PingTimes;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Where an idle ping's round trip goes, from a capture on the pinging host's TAP and on its uplink (the veth its
 * datagrams leave by): the frame from the TAP to the wire (the connector, or the ping floor's pump, reads it and sends
 * its datagram), the wire and the far end (the links both ways and the relay, or the floor's gateway), and the answer
 * from the wire to the TAP. The three legs of each ping add up to its time from TAP to TAP.
 *
 * <p>Read from {@code tshark -T fields -e frame.time_epoch -e frame.interface_id -e ip.src -e ip.dst -e icmp.type}
 * (tab-separated) of a {@code dumpcap -i TAP -i UPLINK} capture: interface 0 is the TAP, 1 the uplink. Per echo
 * request on the TAP, the leg ends are the next datagram on the uplink to the far end's address, the next one from
 * it, and the next echo reply on the TAP after that. A ping whose answer is missing is left out.
 *
 * @param toWire the TAP → uplink leg of each ping, ms
 * @param farEnd the uplink out → uplink in leg, ms
 * @param toTap the uplink in → TAP leg, ms
 */
public record PingLegs(double[] toWire, double[] farEnd, double[] toTap) {

    static final String TAP_INTERFACE = "0";
    static final String UPLINK_INTERFACE = "1";
    private static final String ECHO_REQUEST = "8";
    private static final String ECHO_REPLY = "0";

    /** The legs of each ping in {@code tsharkFields}; {@code farAddress} is the relay's (or the floor gateway's). */
    public static PingLegs parse(String tsharkFields, String farAddress) {
        List<String[]> packets = new ArrayList<>();
        for (String line : tsharkFields.split("\n")) {
            String[] f = line.split("\t", -1);
            if (f.length >= 5 && !f[0].isBlank()) {
                packets.add(f);
            }
        }
        // Two interfaces' packets need not come in time order from the file.
        packets.sort((x, y) -> Double.compare(Double.parseDouble(x[0]), Double.parseDouble(y[0])));
        List<double[]> legs = new ArrayList<>();
        for (int i = 0; i < packets.size(); i++) {
            String[] p = packets.get(i);
            if (p[1].equals(TAP_INTERFACE) && p[4].equals(ECHO_REQUEST)) {
                double[] ends = legEnds(packets, i, farAddress);
                if (ends != null) {
                    legs.add(ends);
                }
            }
        }
        return new PingLegs(legs.stream().mapToDouble(l -> l[0]).toArray(),
                legs.stream().mapToDouble(l -> l[1]).toArray(), legs.stream().mapToDouble(l -> l[2]).toArray());
    }

    /** The three legs (ms) of the ping whose request is packet {@code request}; null when one end is missing. */
    private static double[] legEnds(List<String[]> packets, int request, String farAddress) {
        double sent = time(packets.get(request));
        double out = Double.NaN;
        double in = Double.NaN;
        for (int j = request + 1; j < packets.size(); j++) {
            String[] q = packets.get(j);
            boolean uplink = q[1].equals(UPLINK_INTERFACE);
            if (q[1].equals(TAP_INTERFACE) && q[4].equals(ECHO_REQUEST)) {
                return null; // the next ping began before this one was answered
            } else if (Double.isNaN(out)) {
                if (uplink && q[3].equals(farAddress)) {
                    out = time(q);
                }
            } else if (Double.isNaN(in)) {
                if (uplink && q[2].equals(farAddress)) {
                    in = time(q);
                }
            } else if (q[1].equals(TAP_INTERFACE) && q[4].equals(ECHO_REPLY)) {
                return new double[] {(out - sent) * 1e3, (in - out) * 1e3, (time(q) - in) * 1e3};
            }
        }
        return null;
    }

    private static double time(String[] packet) {
        return Double.parseDouble(packet[0]);
    }

    /** How many pings the legs are of. */
    public int pings() {
        return toWire.length;
    }

    /** The {@code percent} percentile of {@code legs} by nearest rank ({@link PingTimes}); NaN when empty. */
    public static double percentile(double[] legs, double percent) {
        return new PingTimes(legs.length, legs).percentile(percent);
    }

    /** {@code "p50 A / p90 B ms"} of one leg. */
    public static String summary(double[] legs) {
        return String.format(Locale.ROOT, "p50 %.3f / p90 %.3f ms", percentile(legs, 50), percentile(legs, 90));
    }
}
