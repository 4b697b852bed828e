package dev.riscvrelay.relay.testbed;

/**
 * A Python UDP client for a test host: sends an echo server one datagram of each size (a pattern per size), up to
 * three times each, and prints per size "SIZE GOT", where GOT is the length that came back intact, -1 for none and
 * -2 for bytes that differ. Datagrams larger than the host's link leave it in IP fragments.
 */
public final class UdpEchoClient {

    private static final String SCRIPT = """
            import socket, sys
            family = socket.AF_INET6 if ":" in sys.argv[1] else socket.AF_INET
            s = socket.socket(family, socket.SOCK_DGRAM)
            s.settimeout(3)
            s.connect((sys.argv[1], int(sys.argv[2])))
            for n in map(int, sys.argv[3:]):
                sent, got = bytes((i * 7 + n) % 256 for i in range(n)), -1
                for attempt in range(3):
                    s.send(sent)
                    try:
                        data = s.recv(65535)
                    except socket.timeout:
                        continue
                    got = len(data) if data == sent else -2
                    break
                print(n, got)
            """;

    private UdpEchoClient() {
    }

    /** The command that runs the client against {@code address}:{@code port} (IPv4 or IPv6) for each size. */
    public static String[] command(String address, int port, int... sizes) {
        String[] command = new String[5 + sizes.length];
        command[0] = "python3";
        command[1] = "-c";
        command[2] = SCRIPT;
        command[3] = address;
        command[4] = Integer.toString(port);
        for (int i = 0; i < sizes.length; i++) {
            command[5 + i] = Integer.toString(sizes[i]);
        }
        return command;
    }
}
