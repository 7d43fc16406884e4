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
/**
 * For tests: in-memory and fault-injecting stand-ins for the replicator's plug-in points, published so that users
 * of the library can test their own code with them (as Curator ships {@code curator-test}). {@link
 * dev.tenure.replicator.testing.InMemoryReplicaLog} and {@link dev.tenure.replicator.testing.InMemoryPromiseStore}
 * model a log and a promise store without files; {@link dev.tenure.replicator.testing.InMemoryNetwork} connects
 * transports, and the node transports that partitions share, in one process; {@link dev.tenure.replicator.testing.PausableTransport} holds a replica's traffic as a
 * stopped process would. None of them is durable; do not use them in production.
 */
package dev.tenure.replicator.testing;
