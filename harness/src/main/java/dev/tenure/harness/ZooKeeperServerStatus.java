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

/**
 * One server of a {@link ZooKeeperProcessEnsemble} as seen at one moment. Immutable and thread-safe.
 *
 * @param server the server number, {@code 1..n} (ZooKeeper's {@code myid})
 * @param pid the pid of the server's process as last recorded
 * @param clientPort the port clients connect to on 127.0.0.1
 * @param alive true if that pid is alive and is a ZooKeeper server ({@code QuorumPeerMain}) process
 * @param mode what the server answered to {@code srvr}; {@link ZooKeeperServerMode#NO_ANSWER} when not alive
 */
public record ZooKeeperServerStatus(int server, long pid, int clientPort, boolean alive, ZooKeeperServerMode mode) {}
