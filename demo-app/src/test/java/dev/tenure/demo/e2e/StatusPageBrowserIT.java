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

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tenure.demo.node.EmbeddedCluster;
import dev.tenure.demo.node.KvNode;
import dev.tenure.demo.node.ThrowingStateMachine;
import dev.tenure.replicator.core.SnapshotId;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Predicate;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.retry.RetryOneTime;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The status page in a real browser, Debian's headless Chromium, against an in-process cluster: it names the
 * leader, its epoch and all three replicas (read through the page's bridges to the other replicas), and after
 * a hand-off the same tab, without a reload, shows the new leader and the higher epoch by itself; a replica whose
 * state machine threw is shown as failed, with its reason as text; a snapshot taken on the leader is in its row of
 * the log and snapshots table. Chromium is required: without it on the PATH
 * this test fails and says how to install it. Screenshots are kept in {@code demo-app/target/screenshots/}:
 * {@code status-before.png}, {@code status-after.png}, {@code status-replica-failed.png}, and
 * {@code status-failed.png} when a check fails.
 */
class StatusPageBrowserIT {
    private static final ObjectMapper json = new ObjectMapper();
    private static final Path SCREENSHOTS =
            Path.of(System.getProperty("basedir", ".")).resolve("target").resolve("screenshots");
    private static final List<String> REPLICAS = List.of("r1", "r2", "r3");

    /** What the page shows, read from its DOM: the visible leader and epoch, the replica rows, the timeline. */
    private static final String SNAPSHOT = """
            (() => ({
              self: document.getElementById('self').textContent.trim(),
              leader: document.getElementById('leader').textContent.trim(),
              epoch: document.getElementById('epoch').textContent.trim(),
              refreshes: Number(document.body.dataset.refreshes),
              rows: [...document.querySelectorAll('#replicas tbody tr')].map(tr => ({
                id: tr.dataset.replica, role: tr.dataset.role, commit: Number(tr.dataset.commit || -1),
                reachable: tr.dataset.reachable === 'true', failure: tr.dataset.failure || null})),
              events: [...document.querySelectorAll('#events li')].map(li => li.textContent),
              notice: document.getElementById('notice').textContent,
              failures: [...document.querySelectorAll('#failures li')].map(li => ({
                id: li.dataset.replica, text: li.textContent})),
              snapshots: [...document.querySelectorAll('#snapshots tbody tr')].map(tr => ({
                id: tr.dataset.replica, logStart: Number(tr.dataset.logStart || -1),
                offset: Number(tr.dataset.snapshotOffset || -1), epoch: Number(tr.dataset.snapshotEpoch || -1),
                size: Number(tr.dataset.snapshotSize || -1), installing: tr.dataset.installing,
                text: tr.textContent})),
              configuration: {version: document.getElementById('configuration').dataset.version,
                text: document.getElementById('configuration').textContent},
              injected: document.getElementById('injected') !== null
            }))()""";

    private final HttpClient http = HttpClient.newBuilder()
            .followRedirects(HttpClient.Redirect.NORMAL)
            .connectTimeout(Duration.ofSeconds(5))
            .build();
    private final AtomicBoolean writing = new AtomicBoolean();
    private EmbeddedCluster cluster;
    private Thread writer;

    /** The replica that leads, as every replica's {@code /status} agrees. */
    private record Leader(KvNode node, String id, long epoch) {}

    @AfterEach
    void stopEverything() throws InterruptedException {
        writing.set(false);
        if (writer != null) {
            writer.join(15_000);
        }
        if (cluster != null) {
            cluster.close();
        }
    }

    @Test
    @Timeout(180)
    void statusPageNamesTheLeaderAndShowsTheNextOneAfterAHandOffByItself() throws Exception {
        Path chromium = HeadlessChromium.requireOnPath();
        for (String name : List.of("status-before.png", "status-after.png", "status-failed.png")) {
            Files.deleteIfExists(SCREENSHOTS.resolve(name));
        }
        cluster = new EmbeddedCluster(0);
        cluster.start();
        Leader first = awaitLeader(null);
        KvNode follower = otherThan(first.id());
        for (int i = 1; i <= 5; i++) {
            HttpResponse<String> put = put(follower.url() + "/kv/key-" + i, "value-" + i); // redirected to the leader
            assertEquals(200, put.statusCode(), put.body());
        }
        SnapshotId taken = first.node().takeSnapshot().get(30, TimeUnit.SECONDS);
        startWriting(); // a steady trickle, so that the charts show traffic

        try (HeadlessChromium browser = HeadlessChromium.launch(chromium, Duration.ofSeconds(150))) {
            try {
                // the leader's page: after the hand-off this replica is a follower, and its page must follow
                browser.navigate(first.node().url() + "/");
                JsonNode before = browser.waitFor(
                        SNAPSHOT,
                        shows(first)
                                .and(s -> s.path("refreshes").asInt() >= 6)
                                .and(s -> snapshotRow(s, first.id())
                                                .path("offset")
                                                .asLong()
                                        >= taken.offset()),
                        Duration.ofSeconds(30),
                        first.id() + " leading in epoch " + first.epoch() + " with all replicas answering");
                assertEquals(first.id(), before.path("self").asText());
                assertEquals(first.id(), before.path("leader").asText(), "#leader names the leader");
                assertEquals(String.valueOf(first.epoch()), before.path("epoch").asText(), "#epoch");
                assertEquals(REPLICAS, ids(before), "one row per replica");
                assertTrue(row(before, first.id()).path("commit").asLong() >= 5, before.toString());
                JsonNode snapshotRow = snapshotRow(before, first.id());
                assertEquals(taken.epoch(), snapshotRow.path("epoch").asLong(), snapshotRow.toString());
                assertTrue(snapshotRow.path("size").asLong() > 0, snapshotRow.toString());
                assertTrue(snapshotRow.path("logStart").asLong() >= 0, snapshotRow.toString());
                assertTrue(snapshotRow.path("text").asText().contains(" ago)"), "when it was taken: " + snapshotRow);
                assertEquals("", snapshotRow.path("installing").asText(), "no install in progress: " + snapshotRow);
                assertEquals(REPLICAS, snapshotIds(before), "one log and snapshot row per replica");
                assertEquals("0", before.path("configuration").path("version").asText(), before.toString());
                assertTrue(
                        before.path("configuration").path("text").asText().startsWith("v0: "),
                        "the replica set, as text: " + before.path("configuration"));
                assertTrue(
                        texts(before.path("events")).stream()
                                .anyMatch(e -> e.contains("leader in epoch " + first.epoch())),
                        "the timeline shows the election: " + before.path("events"));
                browser.screenshot(SCREENSHOTS.resolve("status-before.png"));

                assertTrue(first.node().handOff(Duration.ofSeconds(5)), first.id() + " did not hand leadership over");
                Leader second = awaitLeader(first.id());
                assertTrue(second.epoch() > first.epoch(), "epoch " + second.epoch() + " after " + first.epoch());

                JsonNode after = browser.waitFor(
                        SNAPSHOT,
                        shows(second)
                                .and(s -> s.path("refreshes").asInt()
                                        >= before.path("refreshes").asInt() + 4),
                        Duration.ofSeconds(30),
                        second.id() + " leading in epoch " + second.epoch() + " without a reload");
                assertEquals(second.id(), after.path("leader").asText(), "#leader names the new leader");
                assertEquals(String.valueOf(second.epoch()), after.path("epoch").asText(), "#epoch is the new one");
                assertEquals(first.id(), after.path("self").asText(), "the same page, not reloaded");
                assertNotEquals("leader", row(after, first.id()).path("role").asText());
                List<String> events = texts(after.path("events"));
                assertTrue(
                        events.stream().anyMatch(e -> e.contains("handing leadership over")),
                        "the timeline shows the hand-off: " + events);
                assertTrue(
                        events.stream().anyMatch(e -> e.contains("leader in epoch " + second.epoch())),
                        "the timeline shows the new term: " + events);
                assertTrue(
                        after.path("notice").asText().contains("from " + first.id()),
                        "the failover notice: " + after.path("notice"));
                browser.screenshot(SCREENSHOTS.resolve("status-after.png"));

                // a fresh load of a third replica's page agrees
                KvNode third = cluster.nodes().stream()
                        .filter(n -> !n.id().equals(first.id()) && !n.id().equals(second.id()))
                        .findFirst()
                        .orElseThrow();
                browser.navigate(third.url() + "/");
                browser.waitFor(
                        SNAPSHOT,
                        shows(second).and(s -> s.path("self").asText().equals(third.id())),
                        Duration.ofSeconds(30),
                        third.id() + "'s page naming " + second.id() + " in epoch " + second.epoch());
                assertEquals(List.of(), browser.pageErrors(), "uncaught JavaScript exceptions");
            } catch (AssertionError | RuntimeException e) {
                try {
                    browser.screenshot(SCREENSHOTS.resolve("status-failed.png"));
                } catch (IOException | RuntimeException | AssertionError s) {
                    e.addSuppressed(s);
                }
                throw e;
            }
        }
    }

    @Test
    @Timeout(180)
    void statusPageShowsAFailedReplicaWithItsReasonAsText() throws Exception {
        Path chromium = HeadlessChromium.requireOnPath();
        for (String name : List.of("status-replica-failed.png", "status-failed.png")) {
            Files.deleteIfExists(SCREENSHOTS.resolve(name));
        }
        cluster = new EmbeddedCluster(0);
        Map<String, ThrowingStateMachine> machines = ThrowingStateMachine.wrapEvery(cluster);
        cluster.start();
        Leader first = awaitLeader(null);
        // Markup in the reason: the page must show it as text, never parse it.
        String markup = "refused <b id=\"injected\">this</b> & that";
        machines.get(first.id()).throwOnNth(1, markup);
        put(first.node().url() + "/kv/poison", "x"); // the state machine throws on it: 503 outcome_unknown

        try (HeadlessChromium browser = HeadlessChromium.launch(chromium, Duration.ofSeconds(150))) {
            try {
                // the failed replica's own page: it still serves /status, and reads the others' through bridges
                browser.navigate(first.node().url() + "/");
                JsonNode shown = browser.waitFor(
                        SNAPSHOT,
                        s -> roleOf(s, first.id()).equals("failed")
                                && !s.path("leader").asText().isEmpty()
                                && !s.path("leader").asText().equals(first.id())
                                && s.path("failures").size() == 1,
                        Duration.ofSeconds(60),
                        first.id() + " shown failed, another replica leading");
                JsonNode failure = shown.path("failures").get(0);
                assertEquals(first.id(), failure.path("id").asText());
                assertTrue(failure.path("text").asText().contains(markup), "the reason as text: " + failure);
                assertTrue(row(shown, first.id()).path("failure").asText().contains(markup), shown.toString());
                assertFalse(shown.path("injected").asBoolean(), "the reason was parsed as HTML");
                assertTrue(
                        texts(shown.path("events")).stream()
                                .anyMatch(e -> e.contains("failed in epoch " + first.epoch()) && e.contains(markup)),
                        "the timeline shows the failure: " + shown.path("events"));
                browser.screenshot(SCREENSHOTS.resolve("status-replica-failed.png"));

                // another replica's page agrees
                KvNode other = otherThan(first.id());
                browser.navigate(other.url() + "/");
                browser.waitFor(
                        SNAPSHOT,
                        s -> s.path("self").asText().equals(other.id())
                                && roleOf(s, first.id()).equals("failed")
                                && s.path("failures").size() == 1,
                        Duration.ofSeconds(30),
                        other.id() + "'s page showing " + first.id() + " failed");
                assertEquals(List.of(), browser.pageErrors(), "uncaught JavaScript exceptions");
            } catch (AssertionError | RuntimeException e) {
                try {
                    browser.screenshot(SCREENSHOTS.resolve("status-failed.png"));
                } catch (IOException | RuntimeException | AssertionError s) {
                    e.addSuppressed(s);
                }
                throw e;
            }
        }
    }

    /** Every URL the page put in an attribute, whether its body shows the planted marker, and whether it ran. */
    private static final String URLS = """
            (() => ({
              rows: document.querySelectorAll('#replicas tbody tr').length,
              refreshes: Number(document.body.dataset.refreshes),
              urls: [...document.querySelectorAll('[href], [src]')]
                .map(e => e.getAttribute('href') || e.getAttribute('src')),
              marker: document.documentElement.outerHTML.includes('tenure-planted-marker'),
              ran: document.body.dataset.planted || null
            }))()""";

    @Test
    @Timeout(180)
    void aJavascriptUrlPlantedInZooKeeperNeverReachesTheStatusPageOrARedirect() throws Exception {
        Path chromium = HeadlessChromium.requireOnPath();
        cluster = new EmbeddedCluster(0);
        cluster.start();
        Leader leader = awaitLeader(null);
        KvNode page = otherThan(leader.id());
        String evil = "javascript:document.body.dataset.planted='ran'//tenure-planted-marker";
        // Whoever can write the cluster's ZooKeeper tree plants the URL wherever another replica's URL is kept:
        // its advertised URL and the leader's endpoint in the election.
        java.util.Set<String> urls = new java.util.HashSet<>();
        for (KvNode n : cluster.nodes()) {
            if (n != page) {
                urls.add(n.url());
            }
        }
        int planted;
        // The tree is Tenure's only (ZooKeeper ACLs): the planter holds the replicas' own credential.
        try (CuratorFramework zk = cluster.zooKeeperAcls()
                .configure(CuratorFrameworkFactory.builder()
                        .connectString(cluster.ensemble().connectString())
                        .retryPolicy(new RetryOneTime(100)))
                .build()) {
            zk.start();
            planted = plant(zk, "/tenure/kv", urls, evil);
        }
        assertTrue(planted >= 3, "planted in " + planted + " nodes: two URLs and the leader's endpoint");
        // The page's replica has read the planted URLs: its /status shows none of them.
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        JsonNode status = null;
        do {
            assertTrue(System.nanoTime() < deadline, "the planted URLs never reached " + page.id() + ": " + status);
            Thread.sleep(50); // polling /status until the replica's cache has the planted values
            status = json.readTree(get(page.url() + "/status").body());
        } while (!plantedRead(status, page.id()));
        assertFalse(status.toString().contains("tenure-planted-marker"), status.toString());

        // A write to the follower is not redirected to the planted leader URL.
        HttpResponse<String> write = HttpClient.newHttpClient()
                .send(
                        HttpRequest.newBuilder(URI.create(page.url() + "/kv/k"))
                                .timeout(Duration.ofSeconds(10))
                                .PUT(HttpRequest.BodyPublishers.ofString("v"))
                                .build(),
                        HttpResponse.BodyHandlers.ofString());
        assertNotEquals(307, write.statusCode(), write.body());
        assertTrue(
                write.headers().firstValue("Location").isEmpty(),
                "no Location: " + write.headers().map());

        try (HeadlessChromium browser = HeadlessChromium.launch(chromium, Duration.ofMinutes(2))) {
            try {
                browser.navigate(page.url() + "/");
                JsonNode shown = browser.waitFor(
                        URLS,
                        u -> u.path("rows").asInt() == 3 && u.path("refreshes").asInt() >= 4,
                        Duration.ofSeconds(60),
                        page.id() + "'s page showing three replicas after four refreshes");
                assertFalse(shown.path("marker").asBoolean(), "the planted URL is in the page: " + shown);
                assertTrue(shown.path("ran").isNull(), "the planted script ran: " + shown);
                for (JsonNode url : shown.path("urls")) {
                    assertFalse(
                            url.asText()
                                    .trim()
                                    .toLowerCase(java.util.Locale.ROOT)
                                    .startsWith("javascript:"),
                            "a javascript: URL in an attribute: " + shown);
                }
            } catch (AssertionError | RuntimeException e) {
                try {
                    browser.screenshot(SCREENSHOTS.resolve("status-failed.png"));
                } catch (IOException | RuntimeException | AssertionError s) {
                    e.addSuppressed(s);
                }
                throw e;
            }
        }
    }

    /** True once {@code status} (of replica {@code self}) lists every other replica without a URL. */
    private static boolean plantedRead(JsonNode status, String self) {
        int others = 0;
        for (JsonNode r : status.path("replicas")) {
            if (!r.path("id").asText().equals(self)) {
                if (!r.path("url").isNull()) {
                    return false;
                }
                others++;
            }
        }
        // The leader's URL is planted too, unless this replica leads now (the planted election record may move
        // leadership): then it is this replica's own.
        JsonNode leaderUrl = status.path("leaderUrl");
        return others == 2
                && (leaderUrl.isNull()
                        || leaderUrl.asText().equals(status.path("url").asText()));
    }

    /** Puts {@code evil} in place of the URL in every node under {@code path} whose data holds one of {@code urls}. */
    private static int plant(CuratorFramework zk, String path, java.util.Set<String> urls, String evil)
            throws Exception {
        int planted = 0;
        byte[] data;
        try {
            data = zk.getData().forPath(path);
        } catch (org.apache.zookeeper.KeeperException.NoNodeException gone) {
            return 0; // an election node that came and went meanwhile
        }
        String text = data == null ? "" : new String(data, StandardCharsets.UTF_8);
        for (String url : urls) {
            // a URL alone, or a field of a record (the leader's endpoint, URL-encoded in its participant record)
            String encoded = java.net.URLEncoder.encode(url, StandardCharsets.UTF_8);
            if (text.contains(url) || text.contains(encoded)) {
                String replaced = text.replace(url, evil)
                        .replace(encoded, java.net.URLEncoder.encode(evil, StandardCharsets.UTF_8));
                try {
                    zk.setData().forPath(path, replaced.getBytes(StandardCharsets.UTF_8));
                } catch (org.apache.zookeeper.KeeperException.NoNodeException gone) {
                    return planted; // an election node deleted between the read and the write (a latch left)
                }
                planted++;
                break;
            }
        }
        List<String> children;
        try {
            children = zk.getChildren().forPath(path);
        } catch (org.apache.zookeeper.KeeperException.NoNodeException gone) {
            return planted;
        }
        for (String child : children) {
            planted += plant(zk, path + "/" + child, urls, evil);
        }
        return planted;
    }

    private HttpResponse<String> get(String url) throws IOException, InterruptedException {
        return http.send(
                HttpRequest.newBuilder(URI.create(url))
                        .timeout(Duration.ofSeconds(5))
                        .build(),
                HttpResponse.BodyHandlers.ofString());
    }

    /** The node x partition matrix as the page shows it. */
    private static final String MATRIX = """
            (() => ({
              hidden: document.getElementById('partitions-panel').hidden,
              partitions: Number(document.body.dataset.partitions),
              leaders: Object.fromEntries([...document.querySelectorAll('#partitions thead th[data-partition]')]
                .map(th => [th.dataset.partition, th.dataset.leader])),
              cells: [...document.querySelectorAll('#partitions tbody td[data-partition]')].map(td => ({
                node: td.parentElement.dataset.node, partition: td.dataset.partition, role: td.dataset.role,
                leads: td.dataset.leads === 'true', epoch: Number(td.dataset.epoch || -1)})),
              notice: document.getElementById('notice').textContent
            }))()""";

    @Test
    @Timeout(180)
    void statusPageShowsTheNodeByPartitionMatrixWithLeadersSpreadAndMarkedAndFollowsAFailover() throws Exception {
        Path chromium = HeadlessChromium.requireOnPath();
        Files.deleteIfExists(SCREENSHOTS.resolve("status-partitions.png"));
        cluster = new EmbeddedCluster(0).partitions(6);
        cluster.start();
        try (HeadlessChromium browser = HeadlessChromium.launch(chromium, Duration.ofSeconds(150))) {
            try {
                KvNode page = cluster.node("r1");
                browser.navigate(page.url() + "/");
                JsonNode before = browser.waitFor(
                        MATRIX,
                        m -> matrixAgrees(m, cluster.nodes())
                                && m.path("leaders").size() == 6
                                && everyCellAnswers(m)
                                && twoLeadersEach(m),
                        Duration.ofSeconds(60),
                        "the matrix of every node answering, each leading two partitions, as the nodes say");
                assertFalse(before.path("hidden").asBoolean());
                assertEquals(6, before.path("partitions").asInt());
                assertEquals(18, before.path("cells").size(), "3 nodes x 6 partitions: " + before);
                // "6 partitions …; leaders: r1 (0, 3), …", or the last hand-over to a preferred leader
                assertTrue(
                        before.path("notice").asText().matches("(6 partitions|Failover at .*: partition \\d).*"),
                        before.toString());
                browser.screenshot(SCREENSHOTS.resolve("status-partitions.png"));

                KvNode victim = cluster.node("r3");
                List<KvNode> survivors = List.of(cluster.node("r1"), cluster.node("r2"));
                cluster.kill(victim.id());
                JsonNode after = browser.waitFor(
                        MATRIX,
                        m -> matrixAgrees(m, survivors)
                                && java.util.stream.StreamSupport.stream(
                                                m.path("leaders").spliterator(), false)
                                        .noneMatch(l -> l.asText().equals(victim.id())
                                                || l.asText().isEmpty()),
                        Duration.ofSeconds(60),
                        "every partition led by r1 or r2 after r3 is killed, without a reload");
                for (JsonNode c : after.path("cells")) {
                    if (c.path("node").asText().equals(victim.id())) {
                        assertNotEquals("leader", c.path("role").asText(), after.toString());
                    }
                }
                assertEquals(List.of(), browser.pageErrors(), "uncaught JavaScript exceptions");
            } catch (AssertionError | RuntimeException e) {
                try {
                    browser.screenshot(SCREENSHOTS.resolve("status-failed.png"));
                } catch (IOException | RuntimeException | AssertionError s) {
                    e.addSuppressed(s);
                }
                throw e;
            }
        }
    }

    /** Every cell of the matrix shows a node that answers: a leader or a follower. */
    private static boolean everyCellAnswers(JsonNode m) {
        for (JsonNode c : m.path("cells")) {
            String role = c.path("role").asText();
            if (!role.equals("leader") && !role.equals("follower")) {
                return false;
            }
        }
        return true;
    }

    /** Each of r1, r2, r3 is shown leading two partitions: the leaders have spread. */
    private static boolean twoLeadersEach(JsonNode m) {
        java.util.Map<String, Integer> led = new java.util.HashMap<>();
        m.path("leaders").forEach(l -> led.merge(l.asText(), 1, Integer::sum));
        return led.equals(java.util.Map.of("r1", 2, "r2", 2, "r3", 2));
    }

    /**
     * The matrix marks, for every partition, the node of {@code nodes} that leads it now as its leader (one cell
     * marked, in that node's row, with role leader).
     */
    private static boolean matrixAgrees(JsonNode m, List<KvNode> nodes) {
        if (m.path("hidden").asBoolean() || m.path("leaders").size() == 0) {
            return false;
        }
        for (var e : m.path("leaders").properties()) {
            String partition = e.getKey();
            String shown = e.getValue().asText();
            boolean leads = nodes.stream()
                    .anyMatch(n -> n.id().equals(shown) && n.leading().contains(partition));
            if (!leads) {
                return false;
            }
            for (JsonNode c : m.path("cells")) {
                if (c.path("partition").asText().equals(partition)
                        && c.path("leads").asBoolean()
                                != c.path("node").asText().equals(shown)) {
                    return false;
                }
            }
        }
        return true;
    }

    /** The page names {@code leader} and its epoch, and every replica answers with the role it has. */
    private static Predicate<JsonNode> shows(Leader leader) {
        return s -> s.path("leader").asText().equals(leader.id())
                && s.path("epoch").asText().equals(String.valueOf(leader.epoch()))
                && ids(s).equals(REPLICAS)
                && rowsAgree(s, leader.id());
    }

    private static boolean rowsAgree(JsonNode s, String leader) {
        for (JsonNode row : s.path("rows")) {
            String expected = row.path("id").asText().equals(leader) ? "leader" : "follower";
            if (!row.path("reachable").asBoolean() || !row.path("role").asText().equals(expected)) {
                return false;
            }
        }
        return true;
    }

    /** The role the page shows for replica {@code id}, or "" without a row for it. */
    private static String roleOf(JsonNode snapshot, String id) {
        for (JsonNode r : snapshot.path("rows")) {
            if (r.path("id").asText().equals(id)) {
                return r.path("role").asText();
            }
        }
        return "";
    }

    private static List<String> ids(JsonNode snapshot) {
        List<String> ids = new ArrayList<>();
        snapshot.path("rows").forEach(r -> ids.add(r.path("id").asText()));
        return ids;
    }

    private static JsonNode row(JsonNode snapshot, String id) {
        for (JsonNode r : snapshot.path("rows")) {
            if (r.path("id").asText().equals(id)) {
                return r;
            }
        }
        throw new AssertionError("no row for " + id + " in " + snapshot);
    }

    private static List<String> snapshotIds(JsonNode snapshot) {
        List<String> ids = new ArrayList<>();
        snapshot.path("snapshots").forEach(r -> ids.add(r.path("id").asText()));
        return ids;
    }

    private static JsonNode snapshotRow(JsonNode snapshot, String id) {
        for (JsonNode r : snapshot.path("snapshots")) {
            if (r.path("id").asText().equals(id)) {
                return r;
            }
        }
        return json.createObjectNode(); // not shown yet
    }

    private static List<String> texts(JsonNode array) {
        List<String> texts = new ArrayList<>();
        array.forEach(e -> {
            if (e.isTextual()) {
                texts.add(e.asText());
            }
        });
        return texts;
    }

    /** Polls every replica's {@code /status} until they agree on one leader (not {@code not}) that serves. */
    private Leader awaitLeader(String not) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        List<JsonNode> last = List.of();
        while (System.nanoTime() < deadline) {
            List<JsonNode> statuses = new ArrayList<>();
            for (KvNode n : cluster.nodes()) {
                try {
                    HttpResponse<String> r = http.send(
                            HttpRequest.newBuilder(URI.create(n.url() + "/status"))
                                    .timeout(Duration.ofSeconds(2))
                                    .build(),
                            HttpResponse.BodyHandlers.ofString());
                    statuses.add(json.readTree(r.body()));
                } catch (IOException e) {
                    statuses.add(json.createObjectNode().put("id", n.id()).put("error", e.toString()));
                }
            }
            last = statuses;
            List<JsonNode> leaders = statuses.stream()
                    .filter(s -> s.path("role").asText().equals("leader"))
                    .toList();
            if (leaders.size() == 1) {
                JsonNode l = leaders.get(0);
                String id = l.path("id").asText();
                boolean agreed = statuses.stream()
                        .allMatch(s -> s.path("leader").asText().equals(id)
                                && s.path("epoch").asLong() == l.path("epoch").asLong());
                if (agreed && !id.equals(not) && l.path("commitOffset").asLong() > 0) {
                    return new Leader(node(id), id, l.path("epoch").asLong());
                }
            }
            Thread.sleep(100);
        }
        throw new AssertionError("the replicas did not agree on a leader" + (not == null ? "" : " other than " + not)
                + " within 60 s: " + last);
    }

    private KvNode node(String id) {
        return cluster.nodes().stream()
                .filter(n -> n.id().equals(id))
                .findFirst()
                .orElseThrow();
    }

    private KvNode otherThan(String id) {
        return cluster.nodes().stream()
                .filter(n -> !n.id().equals(id))
                .findFirst()
                .orElseThrow();
    }

    private HttpResponse<String> put(String url, String value) throws IOException, InterruptedException {
        return http.send(
                HttpRequest.newBuilder(URI.create(url))
                        .timeout(Duration.ofSeconds(10))
                        .PUT(HttpRequest.BodyPublishers.ofString(value))
                        .build(),
                HttpResponse.BodyHandlers.ofString());
    }

    /** About 20 writes a second through rotating replicas until the test ends; failures are expected and ignored. */
    private void startWriting() {
        writing.set(true);
        List<KvNode> nodes = cluster.nodes();
        writer = new Thread(
                () -> {
                    for (int i = 0; writing.get(); i++) {
                        try {
                            put(nodes.get(i % nodes.size()).url() + "/kv/load-" + (i % 50), "v" + i);
                            Thread.sleep(50);
                        } catch (InterruptedException e) {
                            return;
                        } catch (IOException | RuntimeException e) {
                            // during the hand-off: the next write goes on
                        }
                    }
                },
                "status-page-writer");
        writer.setDaemon(true);
        writer.start();
    }
}
