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
package dev.tenure.harness;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Collection;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.retry.ExponentialBackoffRetry;

/**
 * Process and client helpers for tests that start ZooKeeper servers, here and in other modules (through this
 * module's test-jar); cleanup never throws. Thread-safe: stateless.
 */
public final class ZooKeeperTestProcesses {
    private ZooKeeperTestProcesses() {}

    /** Whether a process with this pid is running. */
    public static boolean alive(long pid) {
        return ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false);
    }

    /** The pids recorded in {@code dir}'s pid file ({@link PidFile}), in its order. */
    public static List<Long> pidsInFile(Path dir) throws IOException {
        return PidFile.read(dir).stream().map(PidFile.Entry::pid).collect(Collectors.toList());
    }

    /**
     * Last-resort cleanup: SIGKILLs every pid in {@code pids} that is still a ZooKeeper server, then the ones
     * still recorded in {@code dir}'s pid file.
     */
    public static void killLeftovers(Path dir, Collection<Long> pids) {
        try {
            if (Files.exists(PidFile.path(dir))) {
                ZooKeeperProcessEnsemble.stop(dir);
            }
        } catch (Exception e) {
            // fall through to SIGKILL
        }
        for (long pid : pids) {
            Optional<ProcessHandle> handle = ProcessHandle.of(pid);
            if (handle.isPresent() && ZooKeeperProcessEnsemble.isServerProcess(handle.get())) {
                handle.get().destroyForcibly();
                handle.get()
                        .onExit()
                        .orTimeout(10, TimeUnit.SECONDS)
                        .exceptionally(e -> null)
                        .join();
            }
        }
    }

    /** A started Curator client with a 15 s session that retries through a server's death. */
    public static CuratorFramework client(String connectString) throws InterruptedException {
        CuratorFramework client = CuratorFrameworkFactory.builder()
                .connectString(connectString)
                .sessionTimeoutMs(15_000)
                .connectionTimeoutMs(5_000)
                .retryPolicy(new ExponentialBackoffRetry(100, 29, 1_000))
                .build();
        client.start();
        if (!client.blockUntilConnected((int) Duration.ofSeconds(30).toSeconds(), TimeUnit.SECONDS)) {
            client.close();
            throw new IllegalStateException("no connection to " + connectString + " within 30 s");
        }
        return client;
    }
}
