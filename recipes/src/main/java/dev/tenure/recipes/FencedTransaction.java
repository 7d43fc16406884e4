package dev.tenure.recipes;

import com.google.common.base.Preconditions;
import dev.tenure.recipes.Records.EpochRecord;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.api.transaction.CuratorOp;
import org.apache.curator.framework.api.transaction.CuratorTransactionResult;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.OpResult;

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
 * <p>Thread-safe (stateless).
 */
public final class FencedTransaction {
    private FencedTransaction() {}

    /**
     * Commits {@code operations} (built with {@code client.transactionOp()}) atomically, fenced by {@code
     * token}.
     *
     * @return the operations' results, in order (the fencing check is not included)
     * @throws FencedException if a newer epoch exists on the token's election path; nothing was applied
     * @throws KeeperException if one of the operations failed; nothing was applied
     * @throws Exception other ZooKeeper errors, as Curator reports them; a connection loss leaves the outcome
     *     unknown
     */
    public static List<CuratorTransactionResult> commit(
            CuratorFramework client, LeadershipToken token, Collection<CuratorOp> operations) throws Exception {
        Preconditions.checkNotNull(client, "client");
        Preconditions.checkNotNull(token, "token");
        Preconditions.checkNotNull(operations, "operations");
        ElectionPaths paths = ElectionPaths.of(token.electionPath());
        List<CuratorOp> all = new ArrayList<>(operations.size() + 1);
        all.add(client.transactionOp()
                .check()
                .withVersion(token.epochNodeVersion())
                .forPath(paths.epoch));
        all.addAll(operations);
        try {
            List<CuratorTransactionResult> results = client.transaction().forOperations(all);
            return List.copyOf(results.subList(1, results.size()));
        } catch (KeeperException e) {
            List<OpResult> results = e.getResults();
            boolean fenceFailed = results != null
                    && !results.isEmpty()
                    && results.get(0) instanceof OpResult.ErrorResult
                    && ((OpResult.ErrorResult) results.get(0)).getErr() != KeeperException.Code.OK.intValue();
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
    }

    private static long currentEpoch(CuratorFramework client, ElectionPaths paths) {
        try {
            return EpochRecord.decode(client.getData().forPath(paths.epoch)).epoch;
        } catch (Exception e) {
            return -1; // only for the message
        }
    }
}
