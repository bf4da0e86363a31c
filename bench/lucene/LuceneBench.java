// LuceneBench: Apache Lucene 8 as the benchmarks' fourth engine (bench/README.md).
//
// Compiled by bench/build_bench.sh and bench/query_bench.sh with javac against
// Debian's liblucene8-java jars; not part of the CMake build or the tests.
//
//   build OUT INPUT [--mem MB] [--threads N]   index a JSONL file, as a whole process
//   build --parse-only - INPUT                  only read and parse the JSON (timed once)
//   query INDEX QUERIES TIMES SANITY            query worker driven by query_bench.cc
//
// The index is Lucene as its users run it: one searchable field "text" holding
// title and body (positions on; a position gap keeps phrases inside one of them),
// analysed like idx (StandardTokenizer, lower case, accent folding, Snowball
// English, no stop words); every string member of the record stored (Lucene's
// default LZ4 stored-field compression); the id indexed for updateDocument (id
// uniqueness, as Xapian's replace_document) and kept in doc values, from which
// the query worker reads it; BM25(1.2, 0.75); ramBufferSizeMB = idx's --mem
// (512 by default, as idx); N indexing threads (default: one per core, as idx);
// forceMerge(1) and one commit at the end.
//
// The query worker reads commands on stdin and answers "ok" on stdout, so that
// query_bench.cc can interleave it with the other engines round by round:
//   sanity            untimed pass over every query: exact number of matches,
//                     top-10 ids (doc values), errors -> SANITY; then every
//                     query once more on the timed path, untimed, to warm the JIT
//   run<TAB>R<TAB>W   every query of workload W once, timed around
//                     QueryParser.parse + IndexSearcher.search(q, 10); rounds
//                     R >= 1 are written to TIMES, R < 1 only warm the JIT
//   quit (or EOF)     close the files and exit
// Output lines have the driver's formats:
//   TIMES  lucene workload qid round ns nhits
//   SANITY lucene workload qid ok|error total nhits ids(comma) message
import java.io.BufferedReader;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.lucene.analysis.Analyzer;
import org.apache.lucene.analysis.LowerCaseFilter;
import org.apache.lucene.analysis.TokenStream;
import org.apache.lucene.analysis.Tokenizer;
import org.apache.lucene.analysis.miscellaneous.ASCIIFoldingFilter;
import org.apache.lucene.analysis.snowball.SnowballFilter;
import org.apache.lucene.analysis.standard.StandardTokenizer;
import org.apache.lucene.document.Document;
import org.apache.lucene.document.Field;
import org.apache.lucene.document.SortedDocValuesField;
import org.apache.lucene.document.StoredField;
import org.apache.lucene.document.StringField;
import org.apache.lucene.document.TextField;
import org.apache.lucene.index.DirectoryReader;
import org.apache.lucene.index.IndexWriter;
import org.apache.lucene.index.IndexWriterConfig;
import org.apache.lucene.index.LeafReaderContext;
import org.apache.lucene.index.ReaderUtil;
import org.apache.lucene.index.SortedDocValues;
import org.apache.lucene.index.Term;
import org.apache.lucene.queryparser.classic.QueryParser;
import org.apache.lucene.search.IndexSearcher;
import org.apache.lucene.search.Query;
import org.apache.lucene.search.ScoreDoc;
import org.apache.lucene.search.TopDocs;
import org.apache.lucene.search.TopScoreDocCollector;
import org.apache.lucene.search.similarities.BM25Similarity;
import org.apache.lucene.store.FSDirectory;
import org.apache.lucene.util.BytesRef;
import org.tartarus.snowball.ext.EnglishStemmer;

public final class LuceneBench {
    static final String TEXT = "text";
    static final int BATCH = 256; // lines handed to an indexing thread at once

    // idx's analysis as far as Lucene's stock filters go (docs/ANALYSIS.md): words
    // split at hyphens, apostrophes inside words kept (Snowball strips "'s"),
    // case and accents folded, then the Snowball English stemmer.
    static Analyzer analyzer() {
        return new Analyzer() {
            @Override
            protected TokenStreamComponents createComponents(String field) {
                Tokenizer t = new StandardTokenizer();
                TokenStream s = new LowerCaseFilter(t);
                s = new ASCIIFoldingFilter(s);
                s = new SnowballFilter(s, new EnglishStemmer());
                return new TokenStreamComponents(t, s);
            }

            @Override
            public int getPositionIncrementGap(String field) {
                return 100; // title and body are two values of "text": no phrase spans both
            }
        };
    }

    static BM25Similarity similarity() {
        return new BM25Similarity(1.2f, 0.75f);
    }

    public static void main(String[] args) throws Exception {
        if (args.length >= 3 && args[0].equals("build")) {
            build(args);
        } else if (args.length == 5 && args[0].equals("query")) {
            query(args[1], args[2], args[3], args[4]);
        } else {
            System.err.println("usage: LuceneBench build OUT INPUT [--mem MB] [--threads N]\n"
                    + "       LuceneBench build --parse-only - INPUT\n"
                    + "       LuceneBench query INDEX QUERIES TIMES SANITY");
            System.exit(2);
        }
    }

    // ---- build ------------------------------------------------------------------

    static void build(String[] args) throws Exception {
        if (args[1].equals("--parse-only")) {
            long n = 0;
            try (BufferedReader in = Files.newBufferedReader(Paths.get(args[3]), StandardCharsets.UTF_8)) {
                for (String line; (line = in.readLine()) != null;)
                    if (!line.isBlank()) n += Json.object(line).size();
            }
            System.err.println("LuceneBench: parsed, " + n + " members");
            return;
        }
        String out = args[1], input = args[2];
        double mem = 512;
        int threads = Runtime.getRuntime().availableProcessors();
        for (int i = 3; i + 1 < args.length; i += 2) {
            if (args[i].equals("--mem")) mem = Double.parseDouble(args[i + 1]);
            else if (args[i].equals("--threads")) threads = Integer.parseInt(args[i + 1]);
            else throw new IllegalArgumentException("unknown option " + args[i]);
        }
        IndexWriterConfig cfg = new IndexWriterConfig(analyzer());
        cfg.setOpenMode(IndexWriterConfig.OpenMode.CREATE);
        cfg.setRAMBufferSizeMB(mem);
        cfg.setSimilarity(similarity());
        cfg.setCommitOnClose(false);
        try (FSDirectory dir = FSDirectory.open(Paths.get(out)); IndexWriter w = new IndexWriter(dir, cfg)) {
            final List<String> eof = new ArrayList<>();
            BlockingQueue<List<String>> queue = new ArrayBlockingQueue<>(2 * threads);
            AtomicReference<Throwable> failed = new AtomicReference<>();
            Thread[] pool = new Thread[threads];
            for (int t = 0; t < threads; t++) {
                pool[t] = new Thread(() -> {
                    try {
                        for (List<String> batch; (batch = queue.take()) != eof;)
                            for (String line : batch)
                                addRecord(w, Json.object(line));
                    } catch (Throwable e) {
                        failed.compareAndSet(null, e);
                    }
                });
                pool[t].start();
            }
            try (BufferedReader in = Files.newBufferedReader(Paths.get(input), StandardCharsets.UTF_8)) {
                List<String> batch = new ArrayList<>(BATCH);
                for (String line; (line = in.readLine()) != null && failed.get() == null;) {
                    if (line.isBlank()) continue;
                    batch.add(line);
                    if (batch.size() == BATCH) {
                        hand(queue, batch, failed);
                        batch = new ArrayList<>(BATCH);
                    }
                }
                if (!batch.isEmpty()) hand(queue, batch, failed);
            }
            for (int t = 0; t < threads; t++)
                hand(queue, eof, failed);
            for (Thread t : pool)
                t.join();
            if (failed.get() != null) throw new IOException("indexing failed", failed.get());
            w.forceMerge(1);
            w.commit();
        }
    }

    // Blocks while the indexing threads are busy; gives up once one of them failed.
    static void hand(BlockingQueue<List<String>> queue, List<String> batch, AtomicReference<Throwable> failed)
            throws InterruptedException {
        while (failed.get() == null && !queue.offer(batch, 100, TimeUnit.MILLISECONDS))
            ;
    }

    static void addRecord(IndexWriter w, Map<String, String> r) throws IOException {
        String id = r.get("id");
        if (id == null) throw new IOException("record without id");
        Document d = new Document();
        d.add(new StringField("id", id, Field.Store.NO));
        d.add(new SortedDocValuesField("id", new BytesRef(id)));
        String title = r.get("title"), body = r.get("body");
        if (title != null) d.add(new TextField(TEXT, title, Field.Store.NO));
        if (body != null) d.add(new TextField(TEXT, body, Field.Store.NO));
        for (Map.Entry<String, String> e : r.entrySet())
            d.add(new StoredField(e.getKey(), e.getValue()));
        w.updateDocument(new Term("id", id), d);
    }

    // ---- query worker -----------------------------------------------------------

    static final class Q {
        final String workload, qid, text;

        Q(String workload, String qid, String text) {
            this.workload = workload;
            this.qid = qid;
            this.text = text;
        }
    }

    static void query(String index, String qfile, String timesOut, String sanityOut) throws Exception {
        PrintStream ctl = System.out;
        System.setOut(System.err); // nothing but the answers on the control channel
        List<Q> qs = new ArrayList<>();
        for (String line : Files.readAllLines(Paths.get(qfile), StandardCharsets.UTF_8)) {
            if (line.isEmpty()) continue;
            String[] f = line.split("\t", -1);
            if (f.length < 6) throw new IOException("query line without a Lucene column: " + line);
            qs.add(new Q(f[0], f[1], f[5]));
        }
        try (FSDirectory dir = FSDirectory.open(Paths.get(index));
                DirectoryReader reader = DirectoryReader.open(dir);
                PrintWriter times = new PrintWriter(new BufferedWriter(Files.newBufferedWriter(Paths.get(timesOut))));
                BufferedReader cmds = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8))) {
            IndexSearcher searcher = new IndexSearcher(reader);
            searcher.setSimilarity(similarity());
            // The classic QueryParser reads the translated syntax (a b, +a +b, "a b",
            // +a -b); a word the analyzer splits (state-of-the-art) becomes a phrase,
            // as in idx and Xapian.
            QueryParser qp = new QueryParser(TEXT, analyzer());
            qp.setSplitOnWhitespace(true);
            qp.setAutoGeneratePhraseQueries(true);
            System.err.println("LuceneBench: Lucene " + org.apache.lucene.util.Version.LATEST + ", "
                    + reader.numDocs() + " docs, " + reader.leaves().size() + " segment(s)");
            for (String cmd; (cmd = cmds.readLine()) != null && !cmd.equals("quit");) {
                if (cmd.equals("sanity")) {
                    sanity(qs, qp, searcher, reader, sanityOut);
                    for (Q q : qs) // then warm the JIT on the timed path (untimed)
                        try {
                            searcher.search(qp.parse(q.text), 10);
                        } catch (Exception e) {
                            // reported by the sanity pass
                        }
                } else if (cmd.startsWith("run\t")) {
                    String[] f = cmd.split("\t", 3);
                    int round = Integer.parseInt(f[1]);
                    for (Q q : qs) {
                        if (!q.workload.equals(f[2])) continue;
                        long ns;
                        int nhits = 0;
                        try {
                            long t0 = System.nanoTime();
                            Query query = qp.parse(q.text);
                            TopDocs td = searcher.search(query, 10);
                            ns = System.nanoTime() - t0;
                            nhits = td.scoreDocs.length;
                        } catch (Exception e) {
                            ns = -1;
                        }
                        if (round >= 1)
                            times.printf("lucene\t%s\t%s\t%d\t%d\t%d\n", q.workload, q.qid, round, ns, nhits);
                    }
                    times.flush();
                } else {
                    throw new IOException("unknown command: " + cmd);
                }
                ctl.print("ok\n");
                ctl.flush();
            }
        }
    }

    static void sanity(List<Q> qs, QueryParser qp, IndexSearcher searcher, DirectoryReader reader, String out)
            throws IOException {
        try (PrintWriter san = new PrintWriter(new BufferedWriter(Files.newBufferedWriter(Paths.get(out))))) {
            for (Q q : qs) {
                String status = "ok", msg = "";
                long total = 0;
                StringBuilder ids = new StringBuilder();
                int nhits = 0;
                try {
                    Query query = qp.parse(q.text);
                    TopScoreDocCollector c = TopScoreDocCollector.create(10, Integer.MAX_VALUE);
                    searcher.search(query, c);
                    TopDocs td = c.topDocs();
                    total = td.totalHits.value;
                    nhits = td.scoreDocs.length;
                    for (ScoreDoc sd : td.scoreDocs) {
                        if (ids.length() > 0) ids.append(',');
                        ids.append(externalId(reader, sd.doc));
                    }
                } catch (Exception e) {
                    status = "error";
                    msg = e.toString();
                    System.err.println("LuceneBench: error on " + q.workload + "/" + q.qid + " [" + q.text + "]: " + msg);
                }
                san.printf("lucene\t%s\t%s\t%s\t%d\t%d\t%s\t%s\n", q.workload, q.qid, status, total, nhits,
                        clean(ids.toString()), clean(msg));
            }
        }
    }

    static String externalId(DirectoryReader reader, int doc) throws IOException {
        LeafReaderContext leaf = reader.leaves().get(ReaderUtil.subIndex(doc, reader.leaves()));
        SortedDocValues dv = leaf.reader().getSortedDocValues("id");
        if (dv == null || !dv.advanceExact(doc - leaf.docBase)) return "?";
        return dv.binaryValue().utf8ToString();
    }

    static String clean(String s) {
        return s.replace('\t', ' ').replace('\n', ' ').replace('\r', ' ');
    }

    // ---- JSON -------------------------------------------------------------------

    // One JSONL record: its string and number members; arrays, objects, booleans
    // and nulls are skipped (the benchmark corpora keep text in strings).
    static final class Json {
        final String s;
        int p;

        Json(String s) {
            this.s = s;
        }

        static Map<String, String> object(String line) throws IOException {
            Json j = new Json(line);
            Map<String, String> m = new LinkedHashMap<>();
            j.ws();
            j.expect('{');
            j.ws();
            if (j.peek() == '}') return m;
            while (true) {
                j.ws();
                String key = j.string();
                j.ws();
                j.expect(':');
                j.ws();
                char c = j.peek();
                if (c == '"') m.put(key, j.string());
                else if (c == '-' || (c >= '0' && c <= '9')) m.put(key, j.number());
                else j.skip();
                j.ws();
                if (j.peek() == ',') {
                    j.p++;
                    continue;
                }
                j.expect('}');
                return m;
            }
        }

        char peek() throws IOException {
            if (p >= s.length()) throw new IOException("JSON: unexpected end of line");
            return s.charAt(p);
        }

        void expect(char c) throws IOException {
            if (peek() != c) throw new IOException("JSON: expected '" + c + "' at " + p);
            p++;
        }

        void ws() {
            while (p < s.length() && s.charAt(p) <= ' ')
                p++;
        }

        String number() {
            int a = p;
            while (p < s.length() && "+-0123456789.eE".indexOf(s.charAt(p)) >= 0)
                p++;
            return s.substring(a, p);
        }

        String string() throws IOException {
            expect('"');
            int a = p;
            while (p < s.length() && s.charAt(p) != '"' && s.charAt(p) != '\\')
                p++;
            if (peek() == '"') return s.substring(a, p++);
            StringBuilder b = new StringBuilder(s.length() - a).append(s, a, p);
            while (true) {
                char c = s.charAt(p++);
                if (c == '"') return b.toString();
                if (c != '\\') {
                    b.append(c);
                    continue;
                }
                char e = peek();
                p++;
                switch (e) {
                case 'n': b.append('\n'); break;
                case 't': b.append('\t'); break;
                case 'r': b.append('\r'); break;
                case 'b': b.append('\b'); break;
                case 'f': b.append('\f'); break;
                case 'u':
                    if (p + 4 > s.length()) throw new IOException("JSON: bad \\u escape");
                    b.append((char) Integer.parseInt(s.substring(p, p + 4), 16));
                    p += 4;
                    break;
                default: b.append(e); // " \ /
                }
                if (p >= s.length()) throw new IOException("JSON: unterminated string");
            }
        }

        void skip() throws IOException { // any value
            char c = peek();
            if (c == '"') {
                string();
            } else if (c == '[' || c == '{') {
                char close = c == '[' ? ']' : '}';
                p++;
                ws();
                if (peek() == close) {
                    p++;
                    return;
                }
                while (true) {
                    ws();
                    if (close == '}') {
                        string();
                        ws();
                        expect(':');
                        ws();
                    }
                    skip();
                    ws();
                    if (peek() == ',') {
                        p++;
                        continue;
                    }
                    expect(close);
                    return;
                }
            } else {
                while (p < s.length() && ",}] \t\r\n".indexOf(s.charAt(p)) < 0)
                    p++;
            }
        }
    }
}
