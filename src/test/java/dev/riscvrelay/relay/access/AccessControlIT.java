package dev.riscvrelay.relay.access;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.riscvrelay.relay.Relay;
import dev.riscvrelay.relay.RelayConfig;
import dev.riscvrelay.relay.WebOptions;
import dev.riscvrelay.relay.gateway.dhcp.DhcpFrames;
import dev.riscvrelay.relay.metrics.Counter;
import dev.riscvrelay.relay.tls.RelayCertificate;
import dev.riscvrelay.relay.wire.DhcpMessage;
import dev.riscvrelay.relay.wire.Ipv4Address;
import java.net.InetAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.net.http.WebSocketHandshakeException;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Networks, tokens, anti-spoofing and limits, end to end: the relay in this JVM, real WebTransport clients (and
 * the JDK's WebSocket client) as VMs.
 */
class AccessControlIT {

    private static final InetAddress LOOPBACK = InetAddress.getLoopbackAddress();
    private static final long MAC_A = 0x02_00_00_00_0a_01L;
    private static final long MAC_B = 0x02_00_00_00_0b_01L;
    private static final long MAC_C = 0x02_00_00_00_0c_01L;
    private static final long MAC_D = 0x02_00_00_00_0d_01L;
    private static final long QUIET = 400;

    private final RelayCertificate certificate = RelayCertificate.selfSignedForLocalhost();
    private final List<AutoCloseable> open = new ArrayList<>();
    private Relay relay;

    private Relay start(AccessConfig access) throws Exception {
        RelayConfig config = RelayConfig.defaults(LOOPBACK, 0).withAccess(access);
        config = new RelayConfig(config.bind(), 0, config.maxSessions(), config.portQueueFrames(),
                config.network(), config.idleTimeout(),
                config.dnsResolvers(), config.egress(),
                new WebOptions(WebOptions.WebSocketMode.PLAIN, null, null), access, config.congestionControl(),
                config.hostBudget(), java.util.List.of(), workers());
        relay = Relay.start(config, certificate);
        return relay;
    }

    /** The relay's {@code --workers}: the default here ({@link AccessControlOnWorkersIT} runs the same with more). */
    int workers() {
        return RelayConfig.defaults(LOOPBACK, 0).workers();
    }

    private LanMember join(String pathAndQuery, long mac) throws Exception {
        LanMember member = LanMember.join(relay.port(), certificate.sha256Hex(), pathAndQuery, mac);
        open.add(member);
        return member;
    }

    private long count(Counter counter) {
        return relay.counters().get(counter);
    }

    @AfterEach
    void stop() throws Exception {
        for (AutoCloseable c : open) {
            c.close();
        }
        if (relay != null) {
            relay.close();
        }
    }

    @Test
    void networksAreSeparateLansEachWithItsOwnGateway() throws Exception {
        start(new AccessConfig(3, AccessTokens.NONE, SessionLimits.defaults()));
        LanMember red1 = join("/net/red", MAC_A);
        LanMember red2 = join("/net/red/", MAC_B);
        LanMember blue = join("/net/blue", MAC_C);
        LanMember lobby = join("/", MAC_D);

        // Each network's own gateway answers ARP, with the same well-known MAC.
        assertThat(red1.resolveGateway("10.0.2.15")).isEqualTo(LanMember.GATEWAY_MAC);
        assertThat(blue.resolveGateway("10.0.2.15")).isEqualTo(LanMember.GATEWAY_MAC);
        assertThat(lobby.resolveGateway("10.0.2.15")).isEqualTo(LanMember.GATEWAY_MAC);
        // The same address on two networks is no conflict: red1's ARP request reached neither blue nor the lobby.
        assertThat(red2.await(0x0806, QUIET)).as("red2 sees red1's ARP request").isNotNull();

        red1.send(LanMember.broadcast(MAC_A, 0xAAAA, 64));
        assertThat(red2.sees(0xAAAA, 5000)).isTrue();
        blue.send(LanMember.broadcast(MAC_C, 0xBBBB, 64));
        lobby.send(LanMember.broadcast(MAC_D, 0xDDDD, 64));
        assertThat(red2.sees(0xBBBB, QUIET)).as("red sees blue's broadcast").isFalse();
        assertThat(red2.sees(0xDDDD, QUIET)).as("red sees the default network's broadcast").isFalse();
        assertThat(blue.sees(0xAAAA, QUIET)).as("blue sees red's broadcast").isFalse();
        assertThat(lobby.sees(0xAAAA, QUIET)).as("default sees red's broadcast").isFalse();
        assertThat(lobby.sees(0xBBBB, 10)).as("default sees blue's broadcast").isFalse();

        // Unicast to a MAC learned on another network goes nowhere either.
        byte[] toBlue = LanMember.broadcast(MAC_A, 0xCCCC, 64);
        System.arraycopy(new byte[] {2, 0, 0, 0, 0x0c, 1}, 0, toBlue, 0, 6);
        red1.send(toBlue);
        assertThat(blue.sees(0xCCCC, QUIET)).isFalse();

        assertThat(count(Counter.NETWORKS_CREATED)).isEqualTo(3);
        assertThatThrownBy(() -> join("/net/green", 0x02_00_00_00_0e_01L))
                .hasMessageContaining("HTTP 503");
        assertThatThrownBy(() -> join("/net/Not_Valid", 0x02_00_00_00_0e_01L))
                .hasMessageContaining("HTTP 404");
        assertThat(count(Counter.SESSIONS_REFUSED_NO_NETWORK)).isEqualTo(2);
    }

    @Test
    void tokensOpenTheirNetworksOnlyOverWebTransportAndWebSocket() throws Exception {
        start(AccessConfig.defaults().withTokens(AccessTokens.of(List.of(
                new String[] {"red", "red-secret"}, new String[] {"*", "master-key"}))));

        assertThatThrownBy(() -> join("/net/red", MAC_A)).hasMessageContaining("HTTP 401");
        assertThatThrownBy(() -> join("/net/red?token=wrong", MAC_A)).hasMessageContaining("HTTP 403");
        assertThatThrownBy(() -> join("/?token=red-secret", MAC_A)).as("red's token opens only red")
                .hasMessageContaining("HTTP 403");
        assertThatThrownBy(() -> join("/net/blue?token=red-secret", MAC_A)).hasMessageContaining("HTTP 403");
        assertThat(count(Counter.SESSIONS_REFUSED_NO_TOKEN)).isEqualTo(1);
        assertThat(count(Counter.SESSIONS_REFUSED_BAD_TOKEN)).isEqualTo(3);
        assertThat(count(Counter.NETWORKS_CREATED)).as("refused sessions create no network").isEqualTo(1);

        LanMember red = join("/net/red?token=red-secret", MAC_A);
        LanMember master = join("/net/red?token=master-key", MAC_B);
        LanMember lobby = join("/?token=master-key", MAC_C);
        red.send(LanMember.broadcast(MAC_A, 0x1111, 64));
        assertThat(master.sees(0x1111, 5000)).isTrue();
        assertThat(lobby.resolveGateway("10.0.2.15")).isEqualTo(LanMember.GATEWAY_MAC);

        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
        String ws = "ws://127.0.0.1:" + relay.port();
        assertThat(webSocketStatus(http, ws + "/net/red")).isEqualTo(401);
        assertThat(webSocketStatus(http, ws + "/net/red?token=nope")).isEqualTo(403);
        WebSocket admitted = http.newWebSocketBuilder()
                .buildAsync(URI.create(ws + "/net/red?token=red-secret"), new WebSocket.Listener() {
                    @Override
                    public CompletionStage<?> onBinary(WebSocket webSocket, ByteBuffer data, boolean last) {
                        webSocket.request(1);
                        return null;
                    }
                }).get(10, TimeUnit.SECONDS);
        open.add(() -> admitted.abort());
        admitted.sendBinary(ByteBuffer.wrap(LanMember.broadcast(MAC_D, 0x2222, 64)), true).get(5, TimeUnit.SECONDS);
        assertThat(red.sees(0x2222, 5000)).as("the WebSocket member is on red").isTrue();
        assertThat(lobby.sees(0x2222, QUIET)).isFalse();
        assertThat(count(Counter.SESSIONS_REFUSED_NO_TOKEN)).isEqualTo(2);
        assertThat(count(Counter.SESSIONS_REFUSED_BAD_TOKEN)).isEqualTo(4);
    }

    private static int webSocketStatus(HttpClient http, String url) throws Exception {
        try {
            WebSocket ws = http.newWebSocketBuilder().buildAsync(URI.create(url), new WebSocket.Listener() { })
                    .get(10, TimeUnit.SECONDS);
            ws.abort();
            return 101;
        } catch (ExecutionException e) {
            if (e.getCause() instanceof WebSocketHandshakeException refused) {
                return refused.getResponse().statusCode();
            }
            throw e;
        }
    }

    @Test
    void framesFromAnotherMacOrAnotherThanTheLeasedAddressAreDroppedAndCounted() throws Exception {
        start(AccessConfig.defaults().withLimits(new SessionLimits(20_000, 12_500_000, 1, 64)));
        LanMember vm = join("/", MAC_A);
        LanMember victim = join("/", MAC_B);

        vm.send(LanMember.broadcast(MAC_A, 0x0001, 64)); // binds MAC_A to vm's session
        assertThat(victim.sees(0x0001, 5000)).as("the victim sees the vm's broadcast; relay counters %s",
                relay.counters().nonZero()).isTrue();
        vm.send(LanMember.broadcast(MAC_B, 0x0002, 64)); // pretends to be the victim
        vm.send(LanMember.broadcast(MAC_C, 0x0003, 64)); // or anybody else
        assertThat(victim.sees(0x0002, QUIET)).isFalse();
        assertThat(victim.sees(0x0003, 10)).isFalse();
        assertThat(count(Counter.DROP_SPOOFED_MAC)).isEqualTo(2);

        // Before a lease any source address passes (static configuration); after one, only the leased address.
        vm.send(LanMember.arpRequest(MAC_A, "10.0.2.99", "10.0.2.77"));
        assertThat(victim.await(0x0806, 5000)).isNotNull();
        int leased = lease(vm);
        assertThat(leased).isNotZero();
        victim.inbox.clear();
        vm.send(LanMember.arpRequest(MAC_A, "10.0.2.99", "10.0.2.77"));
        assertThat(victim.await(0x0806, QUIET)).as("ARP claiming an address not leased").isNull();
        assertThat(count(Counter.DROP_SPOOFED_IP)).isEqualTo(1);
        vm.send(LanMember.arpRequest(MAC_A, Ipv4Address.format(leased), "10.0.2.77"));
        assertThat(victim.await(0x0806, 5000)).as("ARP from the leased address").isNotNull();
        vm.send(LanMember.arpRequest(MAC_A, "0.0.0.0", "10.0.2.77"));
        assertThat(victim.await(0x0806, 5000)).as("ARP probe from 0.0.0.0").isNotNull();
        assertThat(count(Counter.DROP_SPOOFED_IP)).isEqualTo(1);
    }

    /** DISCOVER, OFFER, REQUEST, ACK over the session; returns the leased address. */
    private static int lease(LanMember vm) throws Exception {
        vm.inbox.clear();
        vm.send(DhcpFrames.clientFrame(vm.mac, 0, -1, 0x4242, 0, 0,
                DhcpFrames.options(DhcpMessage.OPTION_MESSAGE_TYPE, DhcpMessage.DISCOVER)));
        DhcpFrames.Reply offer = DhcpFrames.parseReply(vm.await(0x0800, 5000));
        assertThat(offer.messageType()).isEqualTo(DhcpMessage.OFFER);
        vm.send(DhcpFrames.clientFrame(vm.mac, 0, -1, 0x4243, 0, 0,
                DhcpFrames.options(DhcpMessage.OPTION_MESSAGE_TYPE, DhcpMessage.REQUEST,
                        DhcpMessage.OPTION_SERVER_IDENTIFIER, Ipv4Address.parse("10.0.2.2"),
                        DhcpMessage.OPTION_REQUESTED_ADDRESS, offer.yiaddr())));
        DhcpFrames.Reply ack = DhcpFrames.parseReply(vm.await(0x0800, 5000));
        assertThat(ack.messageType()).isEqualTo(DhcpMessage.ACK);
        return ack.yiaddr();
    }

    @Test
    void rateLimitsAndSessionsPerAddressAreEnforcedAndCounted() throws Exception {
        start(AccessConfig.defaults().withLimits(new SessionLimits(200, 12_500_000, 4, 3)));
        LanMember flooder = join("/", MAC_A);
        LanMember listener = join("/", MAC_B);
        for (int i = 0; i < 1000; i++) {
            flooder.send(LanMember.broadcast(MAC_A, 0x7000 + i, 64));
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (count(Counter.DROP_RATE_LIMITED) + listener.received.get() < 1000 && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        // A burst of one second's worth (200) and what refilled meanwhile pass; the rest is dropped and counted.
        assertThat(count(Counter.DROP_RATE_LIMITED)).isGreaterThan(500);
        assertThat(listener.received.get()).isBetween(150L, 500L);

        join("/", MAC_C);
        assertThatThrownBy(() -> join("/", MAC_D)).hasMessageContaining("HTTP 429");
        assertThat(count(Counter.SESSIONS_REFUSED_PER_ADDRESS)).isEqualTo(1);
        flooder.close();
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (count(Counter.SESSIONS_CLOSED) < 1 && System.nanoTime() < until) {
            Thread.sleep(20);
        }
        join("/", MAC_D); // the closed session's place is free again
    }
}
