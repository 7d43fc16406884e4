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
 * A checker for recorded histories of a key-value register: linearizability per key (Wing–Gong–Lowe search with a
 * budget), lost writes and duplicate or reordered log positions. Pure computation on Jackson and the JDK; point it
 * at any history in the format below, from any system and any tool that writes it.
 *
 * <pre>{@code
 * CheckReport report = HistoryChecker.create().check(Path.of("history.jsonl"));
 * System.out.print(report);   // VALID, INVALID or UNKNOWN, with every violation and the lines involved
 * }</pre>
 *
 * <p>A history is JSON Lines in real-time order, Jepsen's format with a {@code key} field: one {@link
 * dev.tenure.checker.Event} per client line ({@code time} in monotonic nanoseconds), and any number of lines of
 * processes that are not clients:
 *
 * <pre>{@code
 * {"process":3,"type":"invoke","f":"write","key":"k1","value":"v7","time":1000}
 * {"process":3,"type":"ok","f":"write","key":"k1","value":"v7","time":2500,"epoch":2,"offset":41}
 * {"process":4,"type":"invoke","f":"cas","key":"k1","value":["v7","v8"],"time":2600}
 * {"process":4,"type":"fail","f":"cas","key":"k1","value":["v7","v8"],"time":2900}
 * {"process":"nemesis","type":"info","f":"start-partition","value":"majority","time":3000}
 * {"process":5,"type":"invoke","f":"read","key":"k1","value":null,"time":3100}
 * {"process":5,"type":"info","f":"read","key":"k1","value":null,"time":9100}
 * }</pre>
 *
 * <ul>
 *   <li>{@code process}: an integer is a client, which has at most one operation outstanding; a string (Jepsen's
 *       {@code "nemesis"}) is another process, whose lines ({@link dev.tenure.checker.NonClientEvent}) may carry
 *       any {@code type}, {@code f} and {@code value}, are excluded from every check and are listed in the report's
 *       timeline.
 *   <li>{@code f}: {@code read} (the {@code ok} value is the value read, null = absent), {@code write} (a value
 *       unique across the history), {@code cas} ({@code [expected or null, new]}), {@code delete}.
 *   <li>{@code type}: {@code invoke}, then {@code ok}, {@code fail} (definitely not applied) or {@code info}
 *       (unknown: may take effect at any time after the invoke, or never; the process may invoke again).
 *   <li>{@code epoch}, {@code offset}: optional, on an {@code ok} mutation: the position the service reported.
 * </ul>
 *
 * <p>{@link dev.tenure.checker.HistoryChecker} is the entry point: it reads a history ({@link
 * dev.tenure.checker.HistoryReader}) into a {@link dev.tenure.checker.History} of paired {@link
 * dev.tenure.checker.Operation}s, runs the {@link dev.tenure.checker.LinearizabilityChecker}, the {@link
 * dev.tenure.checker.LostWriteChecker} (acknowledged writes the final reads do not show) and the {@link
 * dev.tenure.checker.PositionChecker} (duplicate or reordered log positions) and summarises them in a {@link
 * dev.tenure.checker.CheckReport}, for humans ({@code toString}) and as JSON. {@link
 * dev.tenure.checker.HistoryWriter} records a history from many client threads.
 *
 * <p>Thread-safety: every type is immutable and thread-safe except the builders and {@link
 * dev.tenure.checker.HistoryWriter} (thread-safe by locking). Failure behaviour: a history that is not well formed
 * is rejected as a whole with a {@link dev.tenure.checker.HistoryFormatException} whose message starts with
 * {@code "line N: "}. Every checker is sound by construction — it reports a violation only when no linearization
 * can explain the history — and says "unknown" rather than guess when its budget runs out.
 */
package dev.tenure.checker;
