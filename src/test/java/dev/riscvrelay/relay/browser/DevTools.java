package dev.riscvrelay.relay.browser;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A minimal Chrome DevTools Protocol client over the JDK's WebSocket: evaluates JavaScript in a page and takes
 * screenshots. Chromium must run with {@code --remote-debugging-port=0}; it writes the port it picked into
 * {@code DevToolsActivePort} in its profile, on loopback only.
 */
public final class DevTools implements AutoCloseable {

    private final HttpClient http = HttpClient.newHttpClient();
    private final int port;

    private DevTools(int port) {
        this.port = port;
    }

    /** Waits for Chromium's DevTools port file in {@code profile}. */
    public static DevTools attach(Path profile, long timeout, TimeUnit unit) throws InterruptedException, IOException {
        Path portFile = profile.resolve("DevToolsActivePort");
        long deadline = System.nanoTime() + unit.toNanos(timeout);
        while (System.nanoTime() < deadline) {
            if (Files.isRegularFile(portFile)) {
                List<String> lines = Files.readAllLines(portFile);
                if (!lines.isEmpty() && !lines.get(0).isBlank()) {
                    return new DevTools(Integer.parseInt(lines.get(0).strip()));
                }
            }
            Thread.sleep(100);
        }
        throw new AssertionError("Chromium wrote no DevToolsActivePort within " + timeout + " " + unit);
    }

    /** Opens a new tab on {@code page} (headless Chromium takes only one URL on its command line). */
    public void openTab(URI page) throws IOException, InterruptedException {
        HttpResponse<String> response = http.send(HttpRequest.newBuilder(
                URI.create("http://127.0.0.1:" + port + "/json/new?"
                        // Escaped, or the page's own '&' would end the URL DevTools reads from the query.
                        + java.net.URLEncoder.encode(page.toString(), java.nio.charset.StandardCharsets.UTF_8))).PUT(HttpRequest.BodyPublishers.noBody())
                .build(), HttpResponse.BodyHandlers.ofString());
        if (response.statusCode() != 200) {
            throw new AssertionError("DevTools /json/new answered " + response.statusCode() + ": " + response.body());
        }
    }

    /** The open pages whose URL contains {@code urlPart}, in the order Chromium lists them. */
    public List<Page> pages(String urlPart) throws IOException, InterruptedException {
        String body = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/json/list")).build(),
                HttpResponse.BodyHandlers.ofString()).body();
        PageReport targets = PageReport.parse("{\"targets\":" + body + "}");
        List<Page> pages = new ArrayList<>();
        for (Object target : targets.list("targets")) {
            @SuppressWarnings("unchecked")
            Map<String, Object> t = (Map<String, Object>) target;
            if ("page".equals(t.get("type")) && String.valueOf(t.get("url")).contains(urlPart)) {
                pages.add(new Page(http, String.valueOf(t.get("url")), (String) t.get("webSocketDebuggerUrl")));
            }
        }
        pages.sort((a, b) -> a.url.compareTo(b.url));
        return pages;
    }

    @Override
    public void close() {
        http.shutdownNow();
    }

    /** One page's DevTools session. */
    public static final class Page implements WebSocket.Listener {
        private final String url;
        private final WebSocket socket;
        private final AtomicInteger ids = new AtomicInteger();
        private final Map<Integer, CompletableFuture<PageReport>> pending = new ConcurrentHashMap<>();
        private final StringBuilder partial = new StringBuilder();

        Page(HttpClient http, String url, String debuggerUrl) {
            this.url = url;
            this.socket = http.newWebSocketBuilder().buildAsync(URI.create(debuggerUrl), this).join();
        }

        public String url() {
            return url;
        }

        /** Sends one command and waits for its result object. */
        public synchronized PageReport call(String method, String paramsJson, long timeoutSeconds) throws Exception {
            int id = ids.incrementAndGet();
            CompletableFuture<PageReport> answer = new CompletableFuture<>();
            pending.put(id, answer);
            socket.sendText("{\"id\":" + id + ",\"method\":\"" + method + "\",\"params\":" + paramsJson + "}", true)
                    .get(10, TimeUnit.SECONDS);
            return answer.get(timeoutSeconds, TimeUnit.SECONDS);
        }

        /** The value of a JavaScript expression (JSON-serialisable), or null. */
        public Object evaluate(String expression) throws Exception {
            PageReport result = call("Runtime.evaluate", "{\"expression\":" + jsonString(expression)
                    + ",\"returnByValue\":true,\"awaitPromise\":true}", 30);
            if (result.get("result.exceptionDetails") != null) {
                throw new IllegalStateException("page threw: " + result.get("result.exceptionDetails"));
            }
            return result.get("result.result.value");
        }

        /**
         * Waits until the tab shows a document whose URL contains {@code urlPart}, fully loaded: a tab found by its
         * URL may still hold the blank document it opened with, where a script finds no element and adds to the
         * wrong page.
         */
        public void awaitLoaded(String urlPart, long timeout, TimeUnit unit) throws Exception {
            long deadline = System.nanoTime() + unit.toNanos(timeout);
            String state = null;
            while (System.nanoTime() < deadline) {
                state = String.valueOf(evaluate("location.href + ' ' + document.readyState"));
                if (state.endsWith(" complete") && state.substring(0, state.lastIndexOf(' ')).contains(urlPart)) {
                    return;
                }
                Thread.sleep(100);
            }
            throw new AssertionError("the tab did not load a page with " + urlPart + " within " + timeout + " "
                    + unit.toString().toLowerCase(java.util.Locale.ROOT) + "; it shows " + state);
        }

        /** Sends {@code text} as typed into the page's VM console. */
        public void type(String text) throws Exception {
            evaluate("vm.send(" + jsonString(text) + ")");
        }

        public void screenshot(Path png) throws Exception {
            // A background tab of headless Chromium paints nothing, so the capture would never return.
            call("Page.bringToFront", "{}", 10);
            PageReport result = call("Page.captureScreenshot", "{\"format\":\"png\"}", 60);
            Files.createDirectories(png.getParent());
            Files.write(png, Base64.getDecoder().decode(result.string("result.data")));
        }

        @Override
        public CompletionStage<?> onText(WebSocket ws, CharSequence data, boolean last) {
            partial.append(data);
            if (last) {
                PageReport message = PageReport.parse(partial.toString());
                partial.setLength(0);
                Integer id = message.integer("id");
                if (id != null) {
                    CompletableFuture<PageReport> answer = pending.remove(id);
                    if (answer != null) {
                        answer.complete(message);
                    }
                }
            }
            ws.request(1);
            return null;
        }

        static String jsonString(String text) {
            StringBuilder json = new StringBuilder("\"");
            for (char c : text.toCharArray()) {
                switch (c) {
                    case '"' -> json.append("\\\"");
                    case '\\' -> json.append("\\\\");
                    case '\n' -> json.append("\\n");
                    case '\r' -> json.append("\\r");
                    case '\t' -> json.append("\\t");
                    default -> {
                        if (c < 0x20) {
                            json.append(String.format("\\u%04x", (int) c));
                        } else {
                            json.append(c);
                        }
                    }
                }
            }
            return json.append('"').toString();
        }
    }
}
