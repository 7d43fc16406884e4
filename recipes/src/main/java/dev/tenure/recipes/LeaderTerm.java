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

import com.google.common.base.Preconditions;
import java.util.List;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import org.apache.curator.framework.api.transaction.CuratorOp;
import org.apache.curator.framework.api.transaction.CuratorTransactionResult;
import org.apache.zookeeper.KeeperException;

/**
 * One term of leadership as {@link LeaderWork} sees it: its fencing token, whether it is still current, when it
 * ends, and ZooKeeper writes fenced by it. Hand {@link #token()} to every other resource the leader writes to (see
 * {@link EpochFence}, {@link JdbcFence}).
 *
 * <p>Thread-safe; valid after the term ended (then {@link #isCurrent} is false and fenced writes are refused).
 */
public final class LeaderTerm {
    private final FencedLeaderElection election;
    private final LeadershipToken token;

    LeaderTerm(FencedLeaderElection election, LeadershipToken token) {
        this.election = election;
        this.token = token;
    }

    /** The term's fencing token. */
    public LeadershipToken token() {
        return token;
    }

    /** The term's epoch: greater than every earlier term's on this election path. */
    public long epoch() {
        return token.epoch();
    }

    /** Whether the term is still current here; false is definite (see {@link FencedLeaderElection#isCurrent}). */
    public boolean isCurrent() {
        return election.isCurrent(token);
    }

    /** Completes with the reason when the term ends; already complete if it has. */
    public CompletionStage<RevocationReason> revocation() {
        return election.revocation(token);
    }

    /**
     * Waits until the term ends and returns why.
     *
     * @throws InterruptedException if interrupted first (as on revocation with {@code interruptOnRevocation})
     */
    public RevocationReason awaitRevocation() throws InterruptedException {
        try {
            return revocation().toCompletableFuture().get();
        } catch (ExecutionException e) {
            throw new IllegalStateException("a revocation never fails", e);
        }
    }

    /**
     * Runs {@code operations} in one ZooKeeper transaction that succeeds only while this term is current and no
     * newer epoch was minted; see {@link FencedLeaderElection#fencedTransaction} for the outcomes.
     *
     * @throws FencedException if the term is over; nothing was applied
     * @throws FencedTransaction.OutcomeUnknownException if the reply was lost; it may have been applied
     * @throws KeeperException if an operation failed or no connection was had before sending; nothing was applied
     */
    public List<CuratorTransactionResult> fencedTransaction(CuratorOp... operations)
            throws FencedException, FencedTransaction.OutcomeUnknownException, KeeperException, InterruptedException {
        Preconditions.checkArgument(operations.length > 0, "a fenced transaction needs at least one operation");
        return election.fencedTransaction(token, List.of(operations));
    }

    @Override
    public String toString() {
        return "LeaderTerm[" + token + (isCurrent() ? ", current" : ", ended") + "]";
    }
}
