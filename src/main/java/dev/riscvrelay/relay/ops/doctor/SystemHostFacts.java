package dev.riscvrelay.relay.ops.doctor;

import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollChannelOption;
import io.netty.channel.epoll.EpollDatagramChannel;
import java.io.IOException;
import java.io.InputStream;
import java.net.DatagramSocket;
import java.net.HttpURLConnection;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;

/** The host this process runs on, read from {@code /proc} and {@code /sys} and by trying sockets. */
public final class SystemHostFacts implements HostFacts {

    private static final Path PROC = Path.of("/proc");
    private static final Path SYS_NET = Path.of("/sys/class/net");
    private static final int RTF_UP = 0x1;

    private final Path proc;
    private final Path sysNet;

    public SystemHostFacts() {
        this(PROC, SYS_NET);
    }

    /** Reads another tree laid out like {@code /proc} and {@code /sys/class/net} (tests give their own). */
    SystemHostFacts(Path proc, Path sysNet) {
        this.proc = proc;
        this.sysNet = sysNet;
    }

    @Override
    public Optional<String> sysctl(String name) {
        return read(proc.resolve("sys").resolve(name.replace('.', '/'))).map(String::trim);
    }

    @Override
    public Set<Long> groups() {
        Set<Long> groups = new TreeSet<>();
        for (String line : lines(proc.resolve("self/status"))) {
            if (line.startsWith("Gid:") || line.startsWith("Groups:")) {
                String[] fields = line.substring(line.indexOf(':') + 1).trim().split("\\s+");
                // Gid: real, effective, saved, filesystem; the kernel checks the effective one and the supplementary.
                int count = line.startsWith("Gid:") ? Math.min(2, fields.length) : fields.length;
                for (int i = line.startsWith("Gid:") ? 1 : 0; i < count; i++) {
                    if (!fields[i].isEmpty()) {
                        groups.add(Long.parseLong(fields[i]));
                    }
                }
            }
        }
        return groups;
    }

    @Override
    public long openFileLimit() {
        for (String line : lines(proc.resolve("self/limits"))) {
            if (line.startsWith("Max open files")) {
                String soft = line.substring("Max open files".length()).trim().split("\\s+")[0];
                return soft.equals("unlimited") ? -1 : Long.parseLong(soft);
            }
        }
        return -1;
    }

    @Override
    public boolean udpGso() {
        return Epoll.isAvailable() && EpollDatagramChannel.isSegmentedDatagramPacketSupported();
    }

    @Override
    public boolean udpGro() {
        if (!Epoll.isAvailable()) {
            return false;
        }
        EpollDatagramChannel channel = new EpollDatagramChannel();
        try {
            return channel.config().setOption(EpollChannelOption.UDP_GRO, true)
                    && channel.config().getOption(EpollChannelOption.UDP_GRO);
        } catch (RuntimeException e) {
            return false;
        } finally {
            channel.unsafe().closeForcibly();
        }
    }

    @Override
    public boolean portFree(InetAddress bind, int port) {
        try (DatagramSocket udp = new DatagramSocket(null); ServerSocket tcp = new ServerSocket()) {
            udp.bind(new InetSocketAddress(bind, port));
            tcp.setReuseAddress(true);
            tcp.bind(new InetSocketAddress(bind, port));
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    @Override
    public boolean relayAnswers(InetSocketAddress admin) {
        try {
            HttpURLConnection health = (HttpURLConnection) URI.create("http://"
                    + admin.getAddress().getHostAddress() + ":" + admin.getPort() + "/healthz").toURL().openConnection();
            health.setConnectTimeout(1000);
            health.setReadTimeout(2000);
            try {
                return health.getResponseCode() == 200;
            } finally {
                health.disconnect();
            }
        } catch (IOException e) {
            return false;
        }
    }

    @Override
    public Optional<Route> defaultRoute() {
        String device = null;
        int routeMtu = 0;
        long bestMetric = Long.MAX_VALUE;
        // Iface Destination Gateway Flags RefCnt Use Metric Mask MTU Window IRTT, in hex where addresses.
        for (String line : lines(proc.resolve("net/route"))) {
            String[] fields = line.trim().split("\\s+");
            if (fields.length < 9 || fields[0].equals("Iface")) {
                continue;
            }
            boolean isDefault = Long.parseLong(fields[1], 16) == 0 && Long.parseLong(fields[7], 16) == 0;
            boolean up = (Integer.parseInt(fields[3], 16) & RTF_UP) != 0;
            long metric = Long.parseLong(fields[6]);
            if (isDefault && up && metric < bestMetric) {
                device = fields[0];
                routeMtu = Integer.parseInt(fields[8]);
                bestMetric = metric;
            }
        }
        if (device == null) {
            return Optional.empty();
        }
        if (routeMtu > 0) {
            return Optional.of(new Route(device, routeMtu));
        }
        String name = device;
        return read(sysNet.resolve(device).resolve("mtu")).map(mtu -> new Route(name, Integer.parseInt(mtu.trim())));
    }

    @Override
    public Instant now() {
        return Instant.now();
    }

    /** Read as a stream: {@code /proc} files report size 0, and some kernels then give a sized read one byte. */
    private static Optional<String> read(Path file) {
        try (InputStream in = Files.newInputStream(file)) {
            return Optional.of(new String(in.readAllBytes(), StandardCharsets.UTF_8));
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    private static List<String> lines(Path file) {
        return read(file).map(text -> text.lines().toList()).orElse(List.of());
    }
}
