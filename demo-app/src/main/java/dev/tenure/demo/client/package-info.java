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
 * Command-line client of the demo key-value service's HTTP API.
 *
 * <p>{@link dev.tenure.demo.client.KvClient} sends one request, follows {@code 307} redirects to the leader
 * itself and classifies what happened as an {@link dev.tenure.demo.client.Outcome}. The classification is the
 * point of this package: a request that may have been applied is never reported as definitely not applied.
 *
 * <ul>
 *   <li>{@code 200}: committed (or read).
 *   <li>{@code 307} (when the redirect cannot be followed), {@code 400}, {@code 404}, {@code 405}, {@code 409},
 *       {@code 413}, and {@code 503} whose body says {@code "applied":false}: definitely not applied.
 *   <li>A TCP connection that could not be made ({@link java.net.ConnectException}, e.g. connection refused):
 *       definitely not applied, because no byte of the request left the client (see
 *       {@code KvClient.classifyFailure}).
 *   <li>Everything else (timeouts, resets, {@code 500}, {@code 503} without {@code "applied":false}, statuses
 *       the contract does not name): unknown.
 * </ul>
 *
 * <p>The picocli commands ({@code put}, {@code get}, {@code delete}, {@code cas}, {@code status}) map these
 * to exit codes 0 (committed / read), 1 (definitely not applied), 2 (unknown) and 64 (usage error); see
 * {@link dev.tenure.demo.client.ClientCommands}.
 */
package dev.tenure.demo.client;
