package dev.tenure.demo;

/**
 * The demo's entry point. With no arguments it runs the election tour: an in-process ZooKeeper ensemble,
 * three participants, a failover with fencing and a hand-off.
 */
public final class Main {
    private Main() {}

    public static void main(String[] args) throws Exception {
        if (args.length > 0 && !args[0].equals("tour")) {
            System.err.println("usage: java -jar demo-app.jar [tour]");
            System.exit(2);
        }
        new ElectionTour(System.out).run();
    }
}
