package dev.tenure.replicator.zookeeper;

import dev.tenure.recipes.FencedLeaderElection;
import dev.tenure.recipes.LeadershipListener;
import dev.tenure.recipes.LeadershipToken;
import dev.tenure.recipes.RevocationReason;
import dev.tenure.replicator.Leadership;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@link Leadership} from a {@link FencedLeaderElection}: each acquired term's epoch becomes the replica's
 * epoch; a revoked term (suspension, session loss, newer epoch, step-down, a failed listener, close) ends it at
 * once; a replica fenced by a newer epoch steps down from the election.
 */
public final class ElectionLeadership implements Leadership {
    private static final Logger log = LoggerFactory.getLogger(ElectionLeadership.class);

    private final Function<LeadershipListener, FencedLeaderElection> factory;
    private final Map<Long, LeadershipToken> tokens = new ConcurrentHashMap<>();
    private final ExecutorService stepDowns = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "tenure-step-down");
        t.setDaemon(true);
        return t;
    });
    private volatile FencedLeaderElection election;

    /**
     * @param factory builds the election with the given listener, for example {@code l ->
     *     FencedLeaderElection.builder(client, path).participantId(id).endpoint(url).listener(l).build()}
     */
    public ElectionLeadership(Function<LeadershipListener, FencedLeaderElection> factory) {
        this.factory = factory;
    }

    @Override
    public void start(Events events) {
        election = factory.apply(new LeadershipListener() {
            @Override
            public void acquired(LeadershipToken token) {
                tokens.put(token.epoch(), token);
                events.elected(token.epoch());
            }

            @Override
            public void revoked(LeadershipToken token, RevocationReason reason) {
                tokens.remove(token.epoch());
                events.revoked(token.epoch());
            }
        });
        election.start();
    }

    /** The election, once started. */
    public FencedLeaderElection election() {
        return election;
    }

    @Override
    public void stepDown(long epoch) {
        LeadershipToken token = tokens.get(epoch);
        FencedLeaderElection e = election;
        if (token == null || e == null) {
            return;
        }
        try {
            stepDowns.execute(() -> {
                try {
                    e.stepDown(token);
                } catch (InterruptedException ex) {
                    Thread.currentThread().interrupt();
                } catch (IllegalStateException closed) {
                    log.debug("election closed before stepping down from {}", token);
                }
            });
        } catch (RejectedExecutionException closed) {
            // closing
        }
    }

    @Override
    public void close() {
        stepDowns.shutdownNow();
        FencedLeaderElection e = election;
        if (e != null) {
            e.close();
        }
    }
}
