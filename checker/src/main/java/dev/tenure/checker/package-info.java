/**
 * The history checker of the verification harness: pure computation over a recorded history, no network.
 *
 * <p>A history is JSON Lines, one {@link dev.tenure.checker.Event} per line in real-time order
 * ({@code time} in monotonic nanoseconds):
 *
 * <pre>{@code
 * {"process":3,"type":"invoke","f":"write","key":"k1","value":"v7","time":1000}
 * {"process":3,"type":"ok","f":"write","key":"k1","value":"v7","time":2500,"epoch":2,"offset":41}
 * }</pre>
 *
 * <ul>
 *   <li>{@code f}: {@code read} (the {@code ok} value is the value read, null = absent), {@code write} (a value
 *       unique across the history), {@code cas} ({@code [expected or null, new]}), {@code delete}.
 *   <li>{@code type}: {@code invoke}, then {@code ok}, {@code fail} (definitely not applied) or {@code info}
 *       (unknown: may take effect at any time after the invoke, or never; the process may invoke again).
 * </ul>
 *
 * <p>{@link dev.tenure.checker.HistoryWriter} records a history from many client threads; {@link
 * dev.tenure.checker.HistoryReader} reads one into a {@link dev.tenure.checker.History}
 * of paired {@link dev.tenure.checker.Operation}s; {@link
 * dev.tenure.checker.HistoryChecker} runs the {@link
 * dev.tenure.checker.LinearizabilityChecker} (per key, Wing–Gong–Lowe search with a budget), the
 * {@link dev.tenure.checker.LostWriteChecker} (acknowledged writes the final reads do not show) and the
 * {@link dev.tenure.checker.PositionChecker} (duplicate or reordered log positions) and summarises them
 * in a {@link dev.tenure.checker.CheckReport}, for humans ({@code toString}) and as JSON.
 *
 * <p>Every checker is sound by construction — it reports a violation only when no linearization can explain the
 * history — and says "unknown" rather than guess when its budget runs out.
 */
package dev.tenure.checker;
