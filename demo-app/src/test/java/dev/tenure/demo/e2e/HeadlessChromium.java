/*
 * Copyright 2026 The Tenure authors
 *
 * Licensed under the Apache License, Version 2.0 (the "License");
 * you may not use this file except in compliance with the License.
 * You may obtain a copy of the License at
 *
 *     https://www.apache.org/licenses/LICENSE-2.0
 *
 * Unless required by applicable law or agreed to in writing, software
 * distributed under the License is distributed on an "AS IS" BASIS,
 * WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
 * See the License for the specific language governing permissions and
 * limitations under the License.
 */
package dev.tenure.demo.e2e;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tenure.harness.ChildProcess;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Predicate;
import java.util.stream.Stream;

/**
 * Debian's {@code chromium}, headless, driven over the DevTools protocol with the JDK's own WebSocket client:
 * one tab that can navigate, evaluate JavaScript and take screenshots. The browser runs as a harness {@link
 * ChildProcess}. Every step has a deadline, and the browser is killed (its whole process tree) on {@link #close()}
 * or when its lifetime runs out, whichever comes first. Uncaught JavaScript exceptions of the page are collected ({@link #pageErrors()}).
 */
final class HeadlessChromium implements AutoCloseable {
    /**
     * Flags for running as root on a machine with a closed network: no sandbox (root), no GPU, and none of
     * Chromium's own background connections, with a new empty profile per run.
     */
    static final List<String> FLAGS = List.of(
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--window-size=1280,900",
            "--hide-scrollbars",
            "--remote-debugging-address=127.0.0.1",
            "--remote-debugging-port=0");

    /** The viewport, and so the screenshots. */
    static final int WIDTH = 1280;

    static final int HEIGHT = 900;

    private static final ObjectMapper json = new ObjectMapper();
    private static final Duration STEP = Duration.ofSeconds(30);
    private static final String DEVTOOLS_LISTENING = "DevTools listening on ";

    private final ChildProcess process;
    /** The browser's profile and output log; deleted on {@link #close()}. */
    private final Path home;

    private final Map<Integer, CompletableFuture<JsonNode>> pending = new ConcurrentHashMap<>();
    private final List<String> pageErrors = new CopyOnWriteArrayList<>();
    private final AtomicInteger ids = new AtomicInteger();
    private WebSocket socket;

    /** The {@code chromium} executable on the PATH; fails the test (never skips it) when there is none. */
    static Path requireOnPath() {
        String path = System.getenv().getOrDefault("PATH", "");
        for (String dir : path.split(java.io.File.pathSeparator, -1)) {
            Path candidate = Path.of(dir.isEmpty() ? "." : dir, "chromium");
            if (Files.isRegularFile(candidate) && Files.isExecutable(candidate)) {
                return candidate;
            }
        }
        throw new AssertionError("this test needs Debian's `chromium` on the PATH and there is none (PATH=" + path
                + "). Run `bash .ci/run`, which installs it when missing and then runs `mvn -B verify`, or install it "
                + "yourself: apt-get update && apt-get install -y chromium");
    }

    /** Starts Chromium with {@link #FLAGS} and opens a DevTools session to its blank tab. */
    static HeadlessChromium launch(Path executable, Duration lifetime) throws IOException, InterruptedException {
        Path home = Files.createTempDirectory("chromium");
        Path profile = Files.createDirectories(home.resolve("profile"));
        List<String> command = new ArrayList<>();
        command.add(executable.toString());
        command.addAll(FLAGS);
        command.add("--user-data-dir=" + profile);
        command.add("about:blank");
        ChildProcess process = ChildProcess.builder("chromium", command)
                .logFile(home.resolve("chromium.log"))
                .readyWhenOutputContains(DEVTOOLS_LISTENING)
                .start();
        HeadlessChromium browser = new HeadlessChromium(process, home);
        // the watchdog: whatever the test thread does, this browser does not outlive its lifetime
        CompletableFuture.delayedExecutor(lifetime.toMillis(), TimeUnit.MILLISECONDS)
                .execute(browser::kill);
        try {
            browser.connect();
            return browser;
        } catch (IOException | RuntimeException | InterruptedException | Error e) {
            browser.close();
            throw e;
        }
    }

    private HeadlessChromium(ChildProcess process, Path home) {
        this.process = process;
        this.home = home;
    }

    private void connect() throws IOException, InterruptedException {
        String listening;
        try {
            listening = process.awaitReady(STEP);
        } catch (IOException | TimeoutException e) {
            throw new AssertionError("chromium did not open its DevTools port: " + e.getMessage() + "\n" + output(), e);
        }
        URI browserSocket = URI.create(listening
                .substring(listening.indexOf(DEVTOOLS_LISTENING) + DEVTOOLS_LISTENING.length())
                .trim());

        HttpClient http =
                HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
        HttpResponse<String> targets = http.send(
                HttpRequest.newBuilder(URI.create(
                                "http://" + browserSocket.getHost() + ":" + browserSocket.getPort() + "/json/list"))
                        .timeout(Duration.ofSeconds(10))
                        .build(),
                HttpResponse.BodyHandlers.ofString());
        String pageSocket = null;
        for (JsonNode target : json.readTree(targets.body())) {
            if (target.path("type").asText().equals("page")) {
                pageSocket = target.path("webSocketDebuggerUrl").asText();
                break;
            }
        }
        if (pageSocket == null) {
            throw new IllegalStateException("chromium shows no page target: " + targets.body());
        }
        socket = await(
                http.newWebSocketBuilder()
                        .connectTimeout(Duration.ofSeconds(10))
                        .buildAsync(URI.create(pageSocket), new Listener()),
                STEP,
                "the DevTools WebSocket");
        call("Runtime.enable", json.createObjectNode());
        call("Page.enable", json.createObjectNode());
        // --window-size is the window's; the page's viewport is smaller by what a window's frame would take
        call(
                "Emulation.setDeviceMetricsOverride",
                json.createObjectNode()
                        .put("width", WIDTH)
                        .put("height", HEIGHT)
                        .put("deviceScaleFactor", 1)
                        .put("mobile", false));
    }

    /** Loads a URL in the tab (returns once navigation started; use {@link #waitFor} for the page's state). */
    void navigate(String url) {
        JsonNode r = call("Page.navigate", json.createObjectNode().put("url", url));
        if (r.hasNonNull("errorText")) {
            throw new AssertionError(
                    "chromium could not load " + url + ": " + r.get("errorText").asText());
        }
    }

    /** Evaluates a JavaScript expression in the page and returns its value (as JSON), awaiting promises. */
    JsonNode evaluate(String expression) {
        JsonNode r = call(
                "Runtime.evaluate",
                json.createObjectNode()
                        .put("expression", expression)
                        .put("returnByValue", true)
                        .put("awaitPromise", true));
        if (r.has("exceptionDetails")) {
            throw new AssertionError("JavaScript failed: " + r.get("exceptionDetails"));
        }
        return r.path("result").path("value");
    }

    /**
     * Evaluates {@code expression} every 200 ms until {@code done} accepts its value; returns that value, or
     * fails with the last value seen after {@code timeout}.
     */
    JsonNode waitFor(String expression, Predicate<JsonNode> done, Duration timeout, String what)
            throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        JsonNode last = null;
        while (true) {
            try {
                last = evaluate(expression);
                if (done.test(last)) {
                    return last;
                }
            } catch (AssertionError e) {
                // the page is (re)loading: its context may be gone for a moment
                last = json.createObjectNode().put("evaluateFailed", e.getMessage());
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError("the page did not show " + what + " within " + timeout.toSeconds()
                        + " s; last seen: " + last + "; page errors: " + pageErrors);
            }
            Thread.sleep(200);
        }
    }

    /** Saves a PNG of the viewport ({@link #WIDTH} x {@link #HEIGHT}). */
    void screenshot(Path file) throws IOException {
        JsonNode r = call("Page.captureScreenshot", json.createObjectNode().put("format", "png"));
        Files.createDirectories(file.toAbsolutePath().getParent());
        Files.write(file, Base64.getDecoder().decode(r.get("data").asText()));
    }

    /** Uncaught exceptions thrown by the page's JavaScript, as Chromium reported them. */
    List<String> pageErrors() {
        return List.copyOf(pageErrors);
    }

    /** Chromium's last 40 lines of output, for failure messages. */
    String output() {
        try {
            List<String> lines = Files.readAllLines(process.logFile(), StandardCharsets.UTF_8);
            return String.join("\n", lines.subList(Math.max(0, lines.size() - 40), lines.size()));
        } catch (IOException e) {
            return "(chromium's output is unreadable: " + e + ")";
        }
    }

    private JsonNode call(String method, ObjectNode params) {
        if (!process.isAlive()) {
            throw new AssertionError("chromium is not running (exit " + process.exitValue() + "):\n" + output());
        }
        int id = ids.incrementAndGet();
        CompletableFuture<JsonNode> answer = new CompletableFuture<>();
        pending.put(id, answer);
        ObjectNode message = json.createObjectNode().put("id", id).put("method", method);
        message.set("params", params);
        try {
            socket.sendText(message.toString(), true).get(STEP.toMillis(), TimeUnit.MILLISECONDS);
            JsonNode r = await(answer, STEP, method);
            if (r.has("error")) {
                throw new AssertionError(method + " failed: " + r.get("error"));
            }
            return r.path("result");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted during " + method, e);
        } catch (ExecutionException | TimeoutException e) {
            throw new AssertionError("could not send " + method + " to chromium", e);
        } finally {
            pending.remove(id);
        }
    }

    private <T> T await(CompletableFuture<T> future, Duration timeout, String what) {
        try {
            return future.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            throw new AssertionError(
                    "no answer from chromium for " + what + " within " + timeout.toSeconds() + " s:\n" + output());
        } catch (ExecutionException e) {
            throw new AssertionError("chromium failed on " + what + ": " + e.getCause() + "\n" + output(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted waiting for " + what, e);
        }
    }

    private void onMessage(String text) {
        JsonNode m;
        try {
            m = json.readTree(text);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        if (m.has("id")) {
            CompletableFuture<JsonNode> answer = pending.get(m.get("id").asInt());
            if (answer != null) {
                answer.complete(m);
            }
        } else if (m.path("method").asText().equals("Runtime.exceptionThrown")) {
            JsonNode d = m.path("params").path("exceptionDetails");
            pageErrors.add(d.path("exception")
                            .path("description")
                            .asText(d.path("text").asText()) + " at "
                    + d.path("url").asText() + ":" + d.path("lineNumber").asInt());
        }
    }

    private final class Listener implements WebSocket.Listener {
        private final StringBuilder partial = new StringBuilder();

        @Override
        public CompletionStage<?> onText(WebSocket webSocket, CharSequence data, boolean last) {
            partial.append(data);
            if (last) {
                String text = partial.toString();
                partial.setLength(0);
                onMessage(text);
            }
            webSocket.request(1);
            return null;
        }
    }

    /** The watchdog's kill; {@link #close()} reports a browser that outlives it. */
    private void kill() {
        if (!process.isAlive()) {
            return;
        }
        try {
            process.killWithDescendants();
        } catch (IOException e) {
            // still running after SIGKILL: close() fails the test with that
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Kills the browser and its child processes, waits for it to exit and deletes its profile and log. */
    @Override
    public void close() {
        if (socket != null) {
            socket.abort();
        }
        try {
            process.killWithDescendants();
        } catch (IOException e) {
            throw new AssertionError("chromium (pid " + process.pid() + ") did not exit after SIGKILL", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        try (Stream<Path> files = Files.walk(home)) {
            files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException ignored) {
            // best effort: a temporary directory
        }
    }
}
