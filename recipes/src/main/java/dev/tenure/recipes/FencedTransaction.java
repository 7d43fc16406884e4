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
import dev.tenure.recipes.Records.EpochRecord;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import org.apache.curator.CuratorConnectionLossException;
import org.apache.curator.CuratorZookeeperClient;
import org.apache.curator.RetryLoop;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.api.transaction.CuratorOp;
import org.apache.curator.framework.api.transaction.CuratorTransactionResult;
import org.apache.curator.utils.ZKPaths;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.Op;
import org.apache.zookeeper.OpResult;
import org.apache.zookeeper.ZooKeeper;
import org.apache.zookeeper.data.Stat;

/**
 * ZooKeeper writes fenced by a {@link LeadershipToken}: the operations run in one ZooKeeper transaction
 * together with a check that the election's epoch node still has the token's version, so they take effect
 * only if no newer epoch has been minted. Otherwise nothing is applied and a {@link FencedException} is
 * thrown.
 *
 * <p>This is the ZooKeeper-side guard that the Kafka controller used ({@code ControllerMovedException}).
 * {@link FencedLeaderElection#fencedTransaction(LeadershipToken, Collection)} adds the local check that
 * the term is still current.
 *
 * <p>The transaction is sent at most once. Curator retries a {@code multi} whose reply was lost, and the
 * retry of a transaction that had committed fails ({@code NodeExists}, {@code BadVersion}, or the fencing
 * check once a newer epoch exists), which would misreport applied operations as not applied. So a lost
 * reply is reported as {@link OutcomeUnknownException}, and every other failure is definite: nothing was
 * applied. Waiting for a connection before sending is retried under the client's retry policy, as Curator
 * does; Curator's schema validation ({@code SchemaSet}) and tracing are not applied.
 *
 * <p>Thread-safe (stateless).
 */
public final class FencedTransaction {
    private FencedTransaction() {}

    /**
     * The outcome of a fenced transaction is not known: it was sent, and then the connection was lost, the
     * session expired, the request timed out or the calling thread was interrupted before the reply came.
     * The operations may or may not have been applied; being one transaction, either all of them or none.
     * If they were applied, they were applied under the token's epoch (the fencing check is part of the
     * transaction). The transaction was not retried.
     *
     * <p>What to do: do not treat it as a failure and do not resend blindly. Once the client has reconnected,
     * read back what the operations change (a {@code sync} of the path first makes the server catch up with
     * the quorum) and decide from what you find; or make the operations recognisable, so that a resend
     * answers the question: a node whose name identifies the request ({@code NodeExists} then means it was
     * applied), data that identifies its writer, versioned {@code setData}. Anything built on these writes
     * should in turn report "outcome unknown" to its own caller rather than "failed".
     */
    public static final class OutcomeUnknownException extends Exception {
        /**
         * @param message what was attempted
         * @param cause the error that left the outcome unknown (for example a {@code ConnectionLossException})
         */
        public OutcomeUnknownException(String message, Throwable cause) {
            super(message, cause);
        }
    }

    /**
     * Commits {@code operations} (built with {@code client.transactionOp()}) atomically, fenced by {@code
     * token}. Sends the transaction at most once; blocks until a reply, or until the client gives up waiting
     * for a connection before sending.
     *
     * @return the operations' results, in order (the fencing check is not included)
     * @throws FencedException if a newer epoch exists on the token's election path; nothing was applied
     * @throws OutcomeUnknownException if the transaction was sent and its reply was lost; the operations may
     *     or may not have been applied
     * @throws KeeperException if one of the operations failed, or if no connection could be had before
     *     sending ({@code ConnectionLossException}, then nothing was sent); nothing was applied
     * @throws InterruptedException if interrupted before the transaction was sent; nothing was applied
     */
    public static List<CuratorTransactionResult> commit(
            CuratorFramework client, LeadershipToken token, Collection<CuratorOp> operations)
            throws FencedException, OutcomeUnknownException, KeeperException, InterruptedException {
        Preconditions.checkNotNull(client, "client");
        Preconditions.checkNotNull(token, "token");
        Preconditions.checkNotNull(operations, "operations");
        ElectionPaths paths = ElectionPaths.of(token.electionPath());
        List<CuratorOp> userOps = List.copyOf(operations);
        List<Op> ops = new ArrayList<>(userOps.size() + 1);
        ops.add(Op.check(withNamespace(client, paths.epoch), token.epochNodeVersion()));
        for (CuratorOp op : userOps) {
            ops.add(op.get());
        }

        ZooKeeper zooKeeper = connectedHandle(client.getZookeeperClient());
        if (Thread.interrupted()) {
            throw new InterruptedException("interrupted before sending a transaction fenced by " + token);
        }
        List<OpResult> results;
        try {
            results = zooKeeper.multi(ops);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new OutcomeUnknownException(
                    "interrupted while waiting for the reply to a transaction fenced by " + token
                            + "; it may or may not have been applied",
                    e);
        } catch (KeeperException e) {
            if (replyLost(e.code())) {
                throw new OutcomeUnknownException(
                        "the reply to a transaction fenced by " + token + " was lost (" + e.code()
                                + "); it may or may not have been applied",
                        e);
            }
            List<OpResult> opResults = e.getResults();
            boolean fenceFailed = opResults != null
                    && !opResults.isEmpty()
                    && opResults.get(0) instanceof OpResult.ErrorResult
                    && ((OpResult.ErrorResult) opResults.get(0)).getErr() != KeeperException.Code.OK.intValue();
            if (fenceFailed) {
                long current = currentEpoch(client, paths);
                throw new FencedException(
                        token.epoch(),
                        current,
                        "write fenced: " + token + " is no longer current"
                                + (current >= 0 ? " (current epoch " + current + ")" : ""));
            }
            throw e;
        }
        List<CuratorTransactionResult> wrapped = new ArrayList<>(results.size() - 1);
        for (int i = 1; i < results.size(); i++) {
            wrapped.add(wrap(client, results.get(i), userOps.get(i - 1)));
        }
        return List.copyOf(wrapped);
    }

    /**
     * Error codes after which a sent request may or may not have been applied: the client gives up on the
     * reply, not the server on the request.
     */
    private static boolean replyLost(KeeperException.Code code) {
        switch (code) {
            case CONNECTIONLOSS:
            case SESSIONEXPIRED:
            case OPERATIONTIMEOUT:
            case REQUESTTIMEOUT:
                return true;
            default:
                return false;
        }
    }

    /** The client's ZooKeeper handle once connected, waiting under the client's retry policy. */
    private static ZooKeeper connectedHandle(CuratorZookeeperClient zk) throws KeeperException, InterruptedException {
        try {
            return RetryLoop.callWithRetry(zk, () -> {
                if (!zk.isConnected()) {
                    throw new CuratorConnectionLossException();
                }
                return zk.getZooKeeper();
            });
        } catch (KeeperException | InterruptedException | RuntimeException e) {
            throw e;
        } catch (Exception e) {
            KeeperException lost = KeeperException.create(KeeperException.Code.CONNECTIONLOSS);
            lost.initCause(e);
            throw lost;
        }
    }

    /** As Curator wraps a transaction's results: paths given by the caller, result paths without namespace. */
    private static CuratorTransactionResult wrap(CuratorFramework client, OpResult result, CuratorOp op) {
        String resultPath = null;
        Stat stat = null;
        int error = 0;
        if (result instanceof OpResult.CreateResult) {
            resultPath = withoutNamespace(client, ((OpResult.CreateResult) result).getPath());
        } else if (result instanceof OpResult.SetDataResult) {
            stat = ((OpResult.SetDataResult) result).getStat();
        } else if (result instanceof OpResult.ErrorResult) {
            error = ((OpResult.ErrorResult) result).getErr();
        }
        return new CuratorTransactionResult(
                op.getTypeAndPath().getType(), op.getTypeAndPath().getForPath(), resultPath, stat, error);
    }

    private static String withNamespace(CuratorFramework client, String path) {
        String namespace = client.getNamespace();
        return namespace == null || namespace.isEmpty() ? path : ZKPaths.makePath(namespace, path);
    }

    private static String withoutNamespace(CuratorFramework client, String path) {
        String namespace = client.getNamespace();
        if (namespace == null || namespace.isEmpty() || path == null) {
            return path;
        }
        String prefix = ZKPaths.makePath(namespace, null);
        if (prefix.equals("/") || !path.startsWith(prefix)) {
            return path;
        }
        return path.length() > prefix.length() ? path.substring(prefix.length()) : "/";
    }

    private static long currentEpoch(CuratorFramework client, ElectionPaths paths) {
        try {
            return EpochRecord.decode(client.getData().forPath(paths.epoch)).epoch;
        } catch (Exception e) {
            return -1; // only for the message
        }
    }
}
