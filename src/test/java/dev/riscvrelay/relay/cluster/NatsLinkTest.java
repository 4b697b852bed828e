package dev.riscvrelay.relay.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.EventLoop;
import io.netty.channel.IoEventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.nio.NioIoHandler;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.Callable;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The trunk link against a real nats-server on loopback: messages, no echo, reconnects, and credentials. */
class NatsLinkTest {

    private final IoEventLoopGroup group = new MultiThreadIoEventLoopGroup(1,
            Epoll.isAvailable() ? EpollIoHandler.newFactory() : NioIoHandler.newFactory());
    private final EventLoop loop = group.next();
    private final List<Process> servers = new ArrayList<>();
    private final List<NatsLink> links = new ArrayList<>();
    private NatsTls trust = NatsTls.jvmDefault();
    private io.nats.client.AuthHandler credentials;

    @org.junit.jupiter.api.io.TempDir
    java.nio.file.Path dir;

    @AfterEach
    void stop() throws Exception {
        links.forEach(NatsLink::close);
        for (Process server : servers) {
            server.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
    }

    @Test
    void messagesFlowBothWaysAndNeverEchoBack() throws Exception {
        int port = freePort();
        startServer(port);
        Link a = link("nats://127.0.0.1:" + port);
        Link b = subscribedPeer(a, "nats://127.0.0.1:" + port);
        onLoop(() -> a.link.subscribe("lan.all", a::received));
        awaitDelivered(a, b, "one");

        assertThat(onLoop(() -> b.link.publish(bytes("lan.all"), Unpooled.copiedBuffer("two", StandardCharsets.US_ASCII))))
                .isTrue();
        assertThat(a.messages.poll(10, TimeUnit.SECONDS)).isEqualTo("two");
        // Late copies of "one" (awaitDelivered publishes until one arrives) may still come; "two" must not.
        Thread.sleep(300);
        assertThat(b.messages).as("no echo").doesNotContain("two");
    }

    @Test
    void aLostServerIsSaidOnceAndTheLinkComesBackSubscribed() throws Exception {
        int port = freePort();
        Process server = startServer(port);
        Link a = link("nats://127.0.0.1:" + port);
        Link b = subscribedPeer(a, "nats://127.0.0.1:" + port);
        awaitDelivered(a, b, "before");

        server.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        a.awaitEvent("lost");
        assertThat(onLoop(() -> a.link.publish(bytes("lan.all"), Unpooled.copiedBuffer("x", StandardCharsets.US_ASCII))))
                .as("refused while lost").isFalse();
        startServer(port);
        a.awaitEvent("connected again");
        b.awaitEvent("connected again");
        awaitDelivered(a, b, "after");
        assertThat(a.events).containsOnlyOnce("lost");
    }

    @Test
    void closingTheLinkIsNoLossAndItStaysClosed() throws Exception {
        int port = freePort();
        startServer(port);
        Link a = link("nats://127.0.0.1:" + port);
        a.awaitEvent("connected first");
        a.link.close();
        Thread.sleep(NatsLink.RECONNECT_WAIT.toMillis() + 500);
        assertThat(a.events).containsExactly("connected first");
        assertThat(onLoop(() -> a.link.connected())).isFalse();
    }

    @Test
    void userAndPasswordFromTheUrlAreSentAndABadOneIsRefused() throws Exception {
        int port = freePort();
        startServer(port, "--user", "relay", "--pass", "s3cret");
        Link good = link("nats://relay:s3cret@127.0.0.1:" + port);
        good.awaitEvent("connected first");
        Link bad = link("nats://relay:wrong@127.0.0.1:" + port);
        bad.awaitEvent("refused 'Authorization Violation'");
        assertThat(onLoop(() -> bad.link.connected())).isFalse();
    }

    @Test
    void tlsWithTheOperatorsCaChecksTheServersNameAndAnUnknownCaIsRefused() throws Exception {
        dev.riscvrelay.relay.tls.RelayCertificate server = dev.riscvrelay.relay.tls.RelayCertificate.selfSigned(
                List.of("127.0.0.1"), java.time.Instant.now(), java.time.Duration.ofDays(1));
        java.nio.file.Path certificate = dev.riscvrelay.relay.tls.PemFiles.writeChain(dir.resolve("nats.pem"), server);
        java.nio.file.Path key = dev.riscvrelay.relay.tls.PemFiles.writeKey(dir.resolve("nats.key"), server);
        int port = freePort();
        startServer(port, "--tls", "--tlscert", certificate.toString(), "--tlskey", key.toString());

        Link untrusting = link("tls://127.0.0.1:" + port);
        untrusting.awaitEventStartingWith("refused TLS");
        trust = NatsTls.fromPem(certificate);
        Link a = link("tls://127.0.0.1:" + port);
        Link b = subscribedPeer(a, "nats://127.0.0.1:" + port); // the server requires TLS: the link speaks it anyway
        awaitDelivered(a, b, "over tls");
        assertThat(onLoop(() -> untrusting.link.connected())).isFalse();
    }

    @Test
    void aCredentialsFileSignsTheServersNonceAndNoCredentialsAreRefused() throws Exception {
        // An operator, an account it signs and a user the account signs, as nsc would make them.
        io.nats.client.NKey operator = io.nats.client.NKey.createOperator(null);
        io.nats.client.NKey account = io.nats.client.NKey.createAccount(null);
        io.nats.client.NKey user = io.nats.client.NKey.createUser(null);
        String operatorKey = new String(operator.getPublicKey());
        String accountKey = new String(account.getPublicKey());
        long now = io.nats.client.support.JwtUtils.currentTimeSeconds();
        String operatorJwt = io.nats.client.support.JwtUtils.issueJWT(operator, operatorKey, "operator", null, now,
                operatorKey, null, () -> "{\"type\":\"operator\",\"version\":2}");
        String accountJwt = io.nats.client.support.JwtUtils.issueJWT(operator, accountKey, "relays", null, now,
                operatorKey, null, () -> "{\"type\":\"account\",\"version\":2,\"limits\":{\"subs\":-1,"
                        + "\"conn\":-1,\"leaf\":-1,\"imports\":-1,\"exports\":-1,\"data\":-1,\"payload\":-1,"
                        + "\"wildcards\":true}}");
        String userJwt = io.nats.client.support.JwtUtils.issueUserJWT(account, accountKey,
                new String(user.getPublicKey()));
        java.nio.file.Path creds = java.nio.file.Files.writeString(dir.resolve("relay.creds"),
                "-----BEGIN NATS USER JWT-----\n" + userJwt + "\n------END NATS USER JWT------\n\n"
                        + "-----BEGIN USER NKEY SEED-----\n" + new String(user.getSeed())
                        + "\n------END USER NKEY SEED------\n");
        int port = freePort();
        java.nio.file.Path config = java.nio.file.Files.writeString(dir.resolve("nats.conf"), "listen: 127.0.0.1:"
                + port + "\noperator: " + operatorJwt + "\nresolver: MEMORY\nresolver_preload: {\n  " + accountKey
                + ": " + accountJwt + "\n}\n");
        startServer(port, "-c", config.toString());

        Link anonymous = link("nats://127.0.0.1:" + port);
        anonymous.awaitEventStartingWith("refused");
        credentials = io.nats.client.Nats.credentials(creds.toString());
        Link a = link("nats://127.0.0.1:" + port);
        Link b = subscribedPeer(a, "nats://127.0.0.1:" + port);
        awaitDelivered(a, b, "signed");
        assertThat(onLoop(() -> anonymous.link.connected())).isFalse();
    }

    // ---- the bed

    /** A second link at {@code url}, subscribed to lan.all, once both it and {@code a} are connected. */
    private Link subscribedPeer(Link a, String url) throws Exception {
        Link b = link(url);
        a.awaitEvent("connected first");
        b.awaitEvent("connected first");
        onLoop(() -> b.link.subscribe("lan.all", b::received));
        return b;
    }

    private void awaitDelivered(Link from, Link to, String text) throws Exception {
        // Interest reaches the server with the SUB; publish until it arrives (bounded).
        for (int attempt = 0; attempt < 50; attempt++) {
            onLoop(() -> from.link.publish(bytes("lan.all"), Unpooled.copiedBuffer(text, StandardCharsets.US_ASCII)));
            String got = to.messages.poll(100, TimeUnit.MILLISECONDS);
            if (text.equals(got)) {
                to.messages.clear();
                return;
            }
        }
        throw new AssertionError(text + " never arrived");
    }

    private Link link(String url) {
        Link link = new Link();
        link.link = new NatsLink(List.of(url), null, "test", credentials, trust, loop, link, line -> { });
        links.add(link.link);
        link.link.start();
        return link;
    }

    private Process startServer(int port, String... more) throws Exception {
        List<String> command = new ArrayList<>(List.of("nats-server"));
        if (more.length == 0 || !more[0].equals("-c")) {
            command.addAll(List.of("-a", "127.0.0.1", "-p", Integer.toString(port)));
        }
        command.addAll(List.of(more));
        Process server = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        servers.add(server);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (System.nanoTime() < deadline) {
            try (java.net.Socket probe = new java.net.Socket("127.0.0.1", port)) {
                return server;
            } catch (java.io.IOException notYet) {
                Thread.sleep(50);
            }
        }
        throw new AssertionError("nats-server did not listen on " + port);
    }

    private static int freePort() throws Exception {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }

    private static byte[] bytes(String subject) {
        return subject.getBytes(StandardCharsets.US_ASCII);
    }

    private <T> T onLoop(Callable<T> task) throws Exception {
        return loop.submit(task).get(10, TimeUnit.SECONDS);
    }

    /** One link, what it received and what it said. */
    private static final class Link implements NatsLink.Events {
        NatsLink link;
        final BlockingQueue<String> messages = new LinkedBlockingQueue<>();
        final List<String> events = new CopyOnWriteArrayList<>();

        void received(ByteBuf payload) {
            messages.add(payload.toString(StandardCharsets.US_ASCII));
        }

        @Override
        public void connected(String url, boolean first) {
            events.add(first ? "connected first" : "connected again");
        }

        @Override
        public void lost(String url) {
            events.add("lost");
        }

        @Override
        public void refused(String url, String reason) {
            events.add("refused " + reason);
        }

        void awaitEventStartingWith(String prefix) throws InterruptedException {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
            while (events.stream().noneMatch(e -> e.startsWith(prefix)) && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            assertThat(events).anyMatch(e -> e.startsWith(prefix));
        }

        void awaitEvent(String event) throws InterruptedException {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
            while (!events.contains(event) && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            assertThat(events).contains(event);
        }
    }
}
