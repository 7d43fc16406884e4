package dev.tenure.harness.fault;

import dev.tenure.harness.ChildProcess;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Random;

/**
 * Injects one {@link FaultPlan.Fault} into a {@link FaultTarget} (verify's testbed) and heals it. The leader is
 * whoever {@link FaultTarget#leader()} names at injection time (a random replica if none does); a follower is another running
 * replica chosen at random; a ZooKeeper server other than the quorum leader likewise.
 *
 * <p>How long a fault is held before healing: past the session timeout (plus 2 s) for the faults whose point is
 * an expired session or a deposed leader (pause, cut from ZooKeeper, isolation); a few seconds for the others.
 * Not thread-safe: the harness's one driving thread uses it.
 */
public final class Nemesis {
    /** A fault in place: what was done and how to undo it. */
    public interface Injection {
        /** What was done, for the log and the report. */
        String description();

        /** How long to leave it in place. */
        Duration hold();

        /** Undoes it (restarts, resumes, heals links); a no-op for faults that need no healing. */
        void heal() throws IOException, InterruptedException;
    }

    private record Done(String description, Duration hold, Healer healer) implements Injection {
        @Override
        public void heal() throws IOException, InterruptedException {
            healer.heal();
        }
    }

    private interface Healer {
        void heal() throws IOException, InterruptedException;
    }

    private static final Duration SHORT_HOLD = Duration.ofSeconds(3);

    private final FaultTarget bed;
    private final Duration pastSessionTimeout;
    private final Random random;

    public Nemesis(FaultTarget bed, Duration sessionTimeout, long seed) {
        this.bed = bed;
        this.pastSessionTimeout = sessionTimeout.plusSeconds(2);
        this.random = new Random(seed ^ 0x5DEECE66DL);
    }

    public Injection inject(FaultPlan.Fault fault) throws IOException, InterruptedException {
        Optional<String> currentLeader = bed.leader();
        String leader = currentLeader.orElseGet(() -> pick(bed.ids()));
        String target = fault.kind().targeted() && !fault.onLeader() ? follower(leader) : leader;
        String who = target + (target.equals(leader) && currentLeader.isPresent() ? " (leader)" : " (follower)");
        switch (fault.kind()) {
            case KILL_REPLICA -> {
                ChildProcess p = bed.replica(target);
                p.kill();
                return new Done(
                        "SIGKILL replica " + who + ", pid " + p.pid(), SHORT_HOLD, () -> bed.startReplica(target));
            }
            case PAUSE_LEADER -> {
                ChildProcess p = bed.replica(target);
                p.pause();
                return new Done("SIGSTOP replica " + who, pastSessionTimeout, p::resume);
            }
            case KILL_ZK_SERVER -> {
                int quorumLeader = bed.zooKeeperQuorumLeader();
                List<Integer> others = new ArrayList<>();
                for (int s = 1; s <= bed.zooKeeperServers(); s++) {
                    if (s != quorumLeader) {
                        others.add(s);
                    }
                }
                int server = others.get(random.nextInt(others.size()));
                bed.killZooKeeper(server);
                return new Done("SIGKILL ZooKeeper server " + server, SHORT_HOLD, () -> bed.restartZooKeeper(server));
            }
            case KILL_ZK_LEADER -> {
                int server = bed.zooKeeperQuorumLeader();
                bed.killZooKeeper(server);
                return new Done(
                        "SIGKILL ZooKeeper quorum leader, server " + server,
                        SHORT_HOLD,
                        () -> bed.restartZooKeeper(server));
            }
            case EXPIRE_SESSION -> {
                bed.expireSession(target);
                return new Done("expired the ZooKeeper session of replica " + who, SHORT_HOLD, () -> {});
            }
            case CUT_ZOOKEEPER -> {
                bed.cutZooKeeper(target);
                return new Done("cut replica " + who + " off from ZooKeeper", pastSessionTimeout, bed.links()::healAll);
            }
            case CUT_LEADER_FROM_FOLLOWERS -> {
                bed.cutReplication(target, bed.ids());
                return new Done(
                        "cut replica " + who + " off from the other replicas",
                        pastSessionTimeout,
                        bed.links()::healAll);
            }
            case ISOLATE_REPLICA -> {
                bed.cutZooKeeper(target);
                bed.cutReplication(target, bed.ids());
                return new Done("isolated replica " + who, pastSessionTimeout, bed.links()::healAll);
            }
            default -> throw new IllegalArgumentException("unknown fault " + fault);
        }
    }

    private String follower(String leader) {
        List<String> others = bed.ids().stream()
                .filter(id -> !id.equals(leader) && bed.replica(id).isAlive())
                .toList();
        return others.isEmpty() ? leader : pick(others);
    }

    private String pick(List<String> ids) {
        return ids.get(random.nextInt(ids.size()));
    }
}
