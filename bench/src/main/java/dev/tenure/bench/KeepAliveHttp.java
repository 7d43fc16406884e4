package dev.tenure.bench;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

/**
 * A lean HTTP/1.1 load client for the closed loop: writer {@code w} has its own keep-alive connection and its own
 * thread, sends one request at a time and reads the response (status line, headers, a Content-Length body). It
 * costs far less CPU than the JDK's HttpClient, which matters when the client shares the machine with the servers
 * it measures. Only what the benchmark needs: no chunked bodies, no redirects (a non-200 answer is a failure).
 *
 * <p>Thread-safe for distinct writers; {@link #close()} closes every connection and thread.
 */
final class KeepAliveHttp implements AutoCloseable {
    private final InetSocketAddress server;
    private final String host;
    private final Conn[] conns;
    private final ExecutorService[] threads;

    private static final class Conn {
        Socket socket;
        InputStream in;
        OutputStream out;
    }

    KeepAliveHttp(URI base, int writers) {
        this.server = new InetSocketAddress(base.getHost(), base.getPort());
        this.host = base.getHost() + ":" + base.getPort();
        this.conns = new Conn[writers];
        this.threads = new ExecutorService[writers];
        for (int w = 0; w < writers; w++) {
            conns[w] = new Conn();
            int n = w;
            threads[w] = Executors.newSingleThreadExecutor(r -> {
                Thread t = new Thread(r, "bench-http-" + n);
                t.setDaemon(true);
                return t;
            });
        }
    }

    /** {@code PUT path} with the value as body, for writer {@code w}. */
    ClosedLoop.Operation puts(String pathPrefix) {
        return (w, value, done) -> threads[w].execute(() -> done.completed(call(w, "PUT", pathPrefix + w, value)));
    }

    /** {@code GET path}, for writer {@code w}. */
    ClosedLoop.Operation gets(String pathPrefix, String query) {
        return (w, value, done) ->
                threads[w].execute(() -> done.completed(call(w, "GET", pathPrefix + w + query, null)));
    }

    /**
     * One request on writer {@code w}'s connection; null on a 200 answer, else the failure. A kept-alive connection
     * the server closed while idle (the JDK server keeps at most 200 idle connections) fails before any answer
     * byte: the request is then sent once more on a new connection, as HTTP clients do for idempotent requests
     * (PUT and GET are).
     */
    private Throwable call(int w, String method, String path, byte[] body) {
        Conn c = conns[w];
        boolean reused = c.socket != null;
        Throwable first = attempt(c, method, path, body);
        if (first instanceof StaleConnection && reused) {
            return attempt(c, method, path, body);
        }
        return first instanceof StaleConnection s ? s.getCause() : first;
    }

    /** The server closed the connection (FIN or RST) before any byte of its answer. */
    private static final class StaleConnection extends IOException {
        StaleConnection(IOException cause) {
            super("connection closed by the server before it answered", cause);
        }
    }

    private Throwable attempt(Conn c, String method, String path, byte[] body) {
        try {
            if (c.socket == null) {
                c.socket = new Socket();
                c.socket.setTcpNoDelay(true);
                c.socket.connect(server, 2000);
                c.socket.setSoTimeout(30_000);
                c.in = new BufferedInputStream(c.socket.getInputStream(), 8192);
                c.out = new BufferedOutputStream(c.socket.getOutputStream(), 8192);
            }
            StringBuilder head = new StringBuilder(128)
                    .append(method)
                    .append(' ')
                    .append(path)
                    .append(" HTTP/1.1\r\nHost: ")
                    .append(host)
                    .append("\r\n");
            if (body != null) {
                head.append("Content-Type: application/octet-stream\r\nContent-Length: ")
                        .append(body.length)
                        .append("\r\n");
            }
            head.append("\r\n");
            int first;
            try {
                c.out.write(head.toString().getBytes(StandardCharsets.US_ASCII));
                if (body != null) {
                    c.out.write(body);
                }
                c.out.flush();
                first = c.in.read(); // the first byte of the status line
            } catch (IOException e) {
                throw new StaleConnection(e);
            }
            if (first < 0) {
                throw new StaleConnection(new IOException("connection closed by the server"));
            }
            String status = "H" + readLine(c.in);
            int code = Integer.parseInt(status.substring(9, 12));
            long length = -1;
            boolean close = false;
            String line;
            while (!(line = readLine(c.in)).isEmpty()) {
                int colon = line.indexOf(':');
                if (colon > 0) {
                    String name = line.substring(0, colon).trim();
                    String v = line.substring(colon + 1).trim();
                    if (name.equalsIgnoreCase("Content-Length")) {
                        length = Long.parseLong(v);
                    } else if (name.equalsIgnoreCase("Connection") && v.equalsIgnoreCase("close")) {
                        close = true;
                    }
                }
            }
            byte[] answer = length > 0 ? c.in.readNBytes((int) length) : new byte[0];
            if (close || length < 0) {
                closeConn(c);
            }
            return code == 200
                    ? null
                    : new IOException("HTTP " + code + ": " + new String(answer, StandardCharsets.UTF_8));
        } catch (IOException | RuntimeException e) {
            closeConn(c);
            return e;
        }
    }

    private static String readLine(InputStream in) throws IOException {
        StringBuilder sb = new StringBuilder(64);
        int b;
        while ((b = in.read()) != -1) {
            if (b == '\n') {
                int n = sb.length();
                return n > 0 && sb.charAt(n - 1) == '\r' ? sb.substring(0, n - 1) : sb.toString();
            }
            sb.append((char) b);
        }
        throw new IOException("connection closed by the server");
    }

    private static void closeConn(Conn c) {
        if (c.socket != null) {
            try {
                c.socket.close();
            } catch (IOException ignored) {
                // closing anyway
            }
        }
        c.socket = null;
    }

    @Override
    public void close() throws InterruptedException {
        for (int w = 0; w < threads.length; w++) {
            int n = w;
            threads[w].execute(() -> closeConn(conns[n]));
            threads[w].shutdown();
        }
        for (ExecutorService t : threads) {
            t.awaitTermination(10, TimeUnit.SECONDS);
        }
    }
}
