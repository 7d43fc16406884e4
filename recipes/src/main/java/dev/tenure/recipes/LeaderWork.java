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
package dev.tenure.recipes;

/**
 * A leader's work for one term, as a lambda: {@link FencedLeaderElection.Builder#leader(LeaderWork)}.
 *
 * <pre>{@code
 * FencedLeaderElection election = FencedLeaderElection.builder(client, "/services/billing")
 *         .leader(term -> {
 *             while (term.isCurrent()) {
 *                 term.fencedTransaction(client.transactionOp().setData().forPath("/billing/run", next()));
 *                 Thread.sleep(1_000);
 *             }
 *         })
 *         .interruptOnRevocation(true)
 *         .build();
 * election.start();
 * }</pre>
 *
 * <p>As in Curator's {@code LeaderSelector}, the term lasts while {@link #lead} runs: when it returns (or throws)
 * while its term is still current, the participant gives the term up and rejoins the election after the retry
 * backoff, so that a leader that is done leading lets another lead. When the term ends first (a suspended
 * connection, a newer epoch, {@link FencedLeaderElection#close}), {@link LeaderTerm#isCurrent} turns false and
 * {@link LeaderTerm#revocation} completes; with {@link FencedLeaderElection.Builder#interruptOnRevocation} the
 * thread running {@code lead} is interrupted too. An {@link InterruptedException} thrown because of that is not
 * a failure.
 *
 * <p>Runs on the election's listener executor, one term at a time; a term's {@code lead} returns before the next
 * term's starts. Implementations need not be thread-safe: calls never overlap, and each happens before the next.
 */
@FunctionalInterface
public interface LeaderWork {
    /**
     * Leads for as long as this call runs.
     *
     * @param term the term: its token, whether it is current, its fenced writes
     * @throws Exception to give the term up as failed ({@link RevocationReason#LISTENER_FAILED})
     */
    void lead(LeaderTerm term) throws Exception;
}
