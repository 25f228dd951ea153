// JdbcTest drives PgJDBC (42.5) against one server and checks what a Java
// application sees. It runs every named check, prints PASS/FAIL per check with
// expected-vs-got details, and exits 1 if any check failed. Lines starting
// with "META|" describe catalog metadata; the Go test compares them between
// hopsql and PostgreSQL 15.
//
// Usage: java -Duser.timezone=UTC -cp <dir>:postgresql.jar JdbcTest <jdbc-url>

import java.math.BigDecimal;
import java.sql.*;
import java.time.LocalDate;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.*;

public class JdbcTest {
    static String url;
    static final List<String> failures = new ArrayList<>();
    // Failures of the check that is running; reset per check.
    static List<String> current;

    interface Body {
        void run() throws Exception;
    }

    public static void main(String[] args) throws Exception {
        if (args.length != 1) {
            System.err.println("usage: JdbcTest <jdbc-url>");
            System.exit(2);
        }
        url = args[0];
        Class.forName("org.postgresql.Driver");

        check("connect_and_server_metadata", JdbcTest::connectAndServerMetadata);
        check("statement_execute_counts", JdbcTest::statementCounts);
        check("prepared_setters_getters", JdbcTest::preparedTypes);
        check("prepared_reuse_server_side", JdbcTest::preparedReuse);
        check("timezone_session", JdbcTest::timezoneSession);
        check("batch_plain", () -> batch(false));
        check("batch_rewritten_inserts", () -> batch(true));
        check("batch_error", JdbcTest::batchError);
        check("transactions", JdbcTest::transactions);
        check("savepoints", JdbcTest::savepoints);
        check("sqlstates", JdbcTest::sqlStates);
        check("metadata_get_tables", JdbcTest::metaTables);
        check("metadata_get_columns", JdbcTest::metaColumns);
        check("metadata_get_primary_keys", JdbcTest::metaPrimaryKeys);
        check("metadata_get_schemas", JdbcTest::metaSchemas);
        check("result_set_metadata", JdbcTest::resultSetMetadata);
        check("fetch_size_portal", JdbcTest::fetchSize);
        check("fetch_size_statement_while_suspended", JdbcTest::fetchSizeStatementBetween);
        check("fetch_size_interleaved_portals", JdbcTest::fetchSizeInterleaved);
        check("keyword_column_names", JdbcTest::keywordColumns);

        System.out.println();
        if (failures.isEmpty()) {
            System.out.println("ALL JDBC CHECKS PASSED");
            System.exit(0);
        }
        System.out.println(failures.size() + " JDBC CHECK(S) FAILED:");
        for (String f : failures) System.out.println("  " + f);
        System.exit(1);
    }

    static void check(String name, Body body) {
        current = new ArrayList<>();
        try {
            body.run();
        } catch (Throwable e) {
            String state = e instanceof SQLException ? " [SQLSTATE " + ((SQLException) e).getSQLState() + "]" : "";
            current.add("unexpected " + e.getClass().getSimpleName() + state + ": " + e.getMessage());
        }
        if (current.isEmpty()) {
            System.out.println("PASS " + name);
            return;
        }
        System.out.println("FAIL " + name);
        for (String m : current) System.out.println("     - " + m);
        failures.add(name);
    }

    static Connection connect() throws SQLException {
        return DriverManager.getConnection(url);
    }

    static Connection connect(String extra) throws SQLException {
        return DriverManager.getConnection(url + (url.contains("?") ? "&" : "?") + extra);
    }

    // eq records a failure (and lets the check go on) when got != want.
    static boolean eq(String what, Object want, Object got) {
        boolean same;
        if (want instanceof byte[] && got instanceof byte[]) same = Arrays.equals((byte[]) want, (byte[]) got);
        else same = Objects.equals(want, got);
        if (!same) current.add(what + ": expected " + show(want) + ", got " + show(got));
        return same;
    }

    static void truth(String what, boolean ok) {
        if (!ok) current.add(what);
    }

    static String show(Object o) {
        if (o == null) return "null";
        if (o instanceof byte[]) return "bytes" + Arrays.toString((byte[]) o);
        if (o instanceof int[]) return Arrays.toString((int[]) o);
        return "<" + o + "> (" + o.getClass().getSimpleName() + ")";
    }

    // expectState runs sql and requires it to fail with the given SQLSTATE.
    static void expectState(Statement st, String sql, String state) {
        try {
            st.execute(sql);
            current.add(sql + ": expected SQLSTATE " + state + ", but it succeeded");
        } catch (SQLException e) {
            eq(sql + " SQLSTATE", state, e.getSQLState());
        }
    }

    // drop removes leftovers of an earlier run (the reference server keeps them).
    static void drop(Connection c, String... objects) throws SQLException {
        try (Statement st = c.createStatement()) {
            for (String o : objects) st.execute("DROP " + o);
        }
    }

    static long count(Connection c, String table) throws SQLException {
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT count(*) FROM " + table)) {
            rs.next();
            return rs.getLong(1);
        }
    }

    // ---------------------------------------------------------------- checks

    static void connectAndServerMetadata() throws Exception {
        try (Connection c = connect()) {
            truth("isValid(5) returned false", c.isValid(5));
            DatabaseMetaData md = c.getMetaData();
            eq("getDatabaseProductName", "PostgreSQL", md.getDatabaseProductName());
            eq("getDatabaseMajorVersion", 15, md.getDatabaseMajorVersion());
            String v = md.getDatabaseProductVersion();
            truth("getDatabaseProductVersion " + v + " does not start with 15.", v.startsWith("15."));
            eq("getDriverMajorVersion", 42, md.getDriverMajorVersion());
            eq("getDriverMinorVersion", 5, md.getDriverMinorVersion());
            eq("getJDBCMajorVersion", 4, md.getJDBCMajorVersion());
            truth("supportsTransactions is false", md.supportsTransactions());
            eq("getDefaultTransactionIsolation", Connection.TRANSACTION_READ_COMMITTED, md.getDefaultTransactionIsolation());
            eq("getTransactionIsolation", Connection.TRANSACTION_READ_COMMITTED, c.getTransactionIsolation());
            eq("getIdentifierQuoteString", "\"", md.getIdentifierQuoteString());
            // PgJDBC reads these back from ParameterStatus messages.
            org.postgresql.core.BaseConnection bc = c.unwrap(org.postgresql.core.BaseConnection.class);
            eq("ParameterStatus client_encoding", "UTF8", bc.getParameterStatus("client_encoding"));
            String ds = bc.getParameterStatus("DateStyle");
            truth("ParameterStatus DateStyle " + ds + " does not start with ISO", ds != null && ds.startsWith("ISO"));
            eq("ParameterStatus standard_conforming_strings", "on", bc.getParameterStatus("standard_conforming_strings"));
            eq("ParameterStatus integer_datetimes", "on", bc.getParameterStatus("integer_datetimes"));
            eq("getSchema", "public", c.getSchema());
            try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT 1 AS one, 'x' AS two")) {
                truth("SELECT 1 returned no row", rs.next());
                eq("SELECT 1", 1, rs.getInt(1));
                eq("SELECT 'x'", "x", rs.getString("two"));
                truth("SELECT 1 returned two rows", !rs.next());
            }
        }
    }

    static void statementCounts() throws Exception {
        try (Connection c = connect(); Statement st = c.createStatement()) {
            drop(c, "TABLE IF EXISTS jdbc_s");
            eq("execute(CREATE TABLE)", false, st.execute("CREATE TABLE jdbc_s (id int PRIMARY KEY, v text)"));
            eq("getUpdateCount after CREATE TABLE", 0, st.getUpdateCount());
            eq("executeUpdate(INSERT 3 rows)", 3, st.executeUpdate("INSERT INTO jdbc_s VALUES (1,'a'),(2,'b'),(3,'c')"));
            eq("executeUpdate(UPDATE 2 rows)", 2, st.executeUpdate("UPDATE jdbc_s SET v = v || '!' WHERE id >= 2"));
            eq("executeUpdate(UPDATE 0 rows)", 0, st.executeUpdate("UPDATE jdbc_s SET v = 'z' WHERE id > 100"));
            eq("executeUpdate(DELETE 1 row)", 1, st.executeUpdate("DELETE FROM jdbc_s WHERE id = 1"));
            eq("executeUpdate(INSERT ... SELECT)", 2, st.executeUpdate("INSERT INTO jdbc_s SELECT id + 10, v FROM jdbc_s"));
            eq("execute(SELECT)", true, st.execute("SELECT id, v FROM jdbc_s ORDER BY id"));
            eq("getUpdateCount after SELECT", -1, st.getUpdateCount());
            List<String> rows = new ArrayList<>();
            try (ResultSet rs = st.getResultSet()) {
                while (rs.next()) rows.add(rs.getInt(1) + "=" + rs.getString(2));
            }
            eq("SELECT rows", List.of("2=b!", "3=c!", "12=b!", "13=c!"), rows);
            try (ResultSet rs = st.executeQuery("SELECT count(*) FROM jdbc_s WHERE v LIKE '%!'")) {
                rs.next();
                eq("count(*)", 4L, rs.getLong(1));
                eq("count(*) getObject class", Long.class, rs.getObject(1).getClass());
            }
            // Several statements in one string: PgJDBC sends them as one
            // extended-protocol pipeline and walks the results in order.
            boolean first = st.execute("INSERT INTO jdbc_s VALUES (20,'m'); SELECT v FROM jdbc_s WHERE id = 20; DELETE FROM jdbc_s WHERE id >= 12");
            eq("multi-statement: first is a count", false, first);
            eq("multi-statement: INSERT count", 1, st.getUpdateCount());
            eq("multi-statement: second is a result set", true, st.getMoreResults());
            try (ResultSet rs = st.getResultSet()) {
                truth("multi-statement SELECT returned no row", rs.next());
                eq("multi-statement SELECT value", "m", rs.getString(1));
            }
            eq("multi-statement: third is a count", false, st.getMoreResults());
            eq("multi-statement: DELETE count", 3, st.getUpdateCount());
            eq("multi-statement: end", false, st.getMoreResults());
            eq("multi-statement: end update count", -1, st.getUpdateCount());
            eq("execute(DROP TABLE)", false, st.execute("DROP TABLE jdbc_s"));
        }
    }

    static final Timestamp TS = Timestamp.valueOf("2024-02-29 13:14:15.123456");
    static final byte[] BYTES = {0, 1, 2, (byte) 0xfe, (byte) 0xff, '\\', '\''};

    static void preparedTypes() throws Exception {
        try (Connection c = connect(); Statement st = c.createStatement()) {
            drop(c, "TABLE IF EXISTS jdbc_types");
            st.execute("CREATE TABLE jdbc_types (i int, l bigint, s text, d double precision, n numeric(12,4), "
                    + "b boolean, dt date, ts timestamp, tz timestamptz, bin bytea, nul int, nuls text)");
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO jdbc_types VALUES (?,?,?,?,?,?,?,?,?,?,?,?)")) {
                ps.setInt(1, -2147483648);
                ps.setLong(2, 9007199254740993L);
                ps.setString(3, "héllo 'quoted' \"dq\" \\ tab\tnl\n€");
                ps.setDouble(4, 3.141592653589793);
                ps.setBigDecimal(5, new BigDecimal("12345678.5"));
                ps.setBoolean(6, true);
                ps.setDate(7, java.sql.Date.valueOf("2024-02-29"));
                ps.setTimestamp(8, TS);
                ps.setObject(9, OffsetDateTime.of(2024, 2, 29, 13, 14, 15, 123456000, ZoneOffset.ofHours(2)));
                ps.setBytes(10, BYTES);
                ps.setNull(11, Types.INTEGER);
                ps.setNull(12, Types.VARCHAR);
                eq("executeUpdate(prepared INSERT)", 1, ps.executeUpdate());
            }
            // Text results (unnamed statement) and binary results (after the
            // driver switched to a named statement) must read back the same.
            try (PreparedStatement ps = c.prepareStatement("SELECT i, l, s, d, n, b, dt, ts, tz, bin, nul, nuls FROM jdbc_types WHERE i = ?")) {
                for (int run = 1; run <= 6; run++) {
                    ps.setInt(1, -2147483648);
                    try (ResultSet rs = ps.executeQuery()) {
                        if (!rs.next()) {
                            current.add("run " + run + ": no row");
                            return;
                        }
                        String p = "run " + run + " ";
                        eq(p + "getInt(i)", -2147483648, rs.getInt("i"));
                        eq(p + "getLong(l)", 9007199254740993L, rs.getLong("l"));
                        eq(p + "getString(l)", "9007199254740993", rs.getString("l"));
                        eq(p + "getString(s)", "héllo 'quoted' \"dq\" \\ tab\tnl\n€", rs.getString("s"));
                        eq(p + "getDouble(d)", 3.141592653589793, rs.getDouble("d"));
                        eq(p + "getBigDecimal(n)", new BigDecimal("12345678.5000"), rs.getBigDecimal("n"));
                        eq(p + "getString(n)", "12345678.5000", rs.getString("n"));
                        eq(p + "getBoolean(b)", true, rs.getBoolean("b"));
                        eq(p + "getString(b)", "t", rs.getString("b"));
                        eq(p + "getDate(dt)", java.sql.Date.valueOf("2024-02-29"), rs.getDate("dt"));
                        eq(p + "getObject(dt, LocalDate)", LocalDate.of(2024, 2, 29), rs.getObject("dt", LocalDate.class));
                        eq(p + "getTimestamp(ts)", TS, rs.getTimestamp("ts"));
                        eq(p + "getString(ts)", "2024-02-29 13:14:15.123456", rs.getString("ts"));
                        eq(p + "getObject(tz, OffsetDateTime)", OffsetDateTime.of(2024, 2, 29, 11, 14, 15, 123456000, ZoneOffset.UTC),
                                rs.getObject("tz", OffsetDateTime.class));
                        eq(p + "getTimestamp(tz) instant", Timestamp.valueOf("2024-02-29 11:14:15.123456"), rs.getTimestamp("tz"));
                        eq(p + "getString(tz)", "2024-02-29 11:14:15.123456+00", rs.getString("tz"));
                        eq(p + "getBytes(bin)", BYTES, rs.getBytes("bin"));
                        eq(p + "getInt(nul)", 0, rs.getInt("nul"));
                        eq(p + "wasNull after getInt(nul)", true, rs.wasNull());
                        eq(p + "getString(nuls)", null, rs.getString("nuls"));
                        eq(p + "getObject(nul)", null, rs.getObject("nul"));
                        Class<?>[] want = {Integer.class, Long.class, String.class, Double.class, BigDecimal.class, Boolean.class,
                                java.sql.Date.class, Timestamp.class, Timestamp.class, byte[].class};
                        for (int k = 0; k < want.length; k++) {
                            Object o = rs.getObject(k + 1);
                            eq(p + "getObject(" + (k + 1) + ") class", want[k], o == null ? null : o.getClass());
                        }
                        truth(p + "second row", !rs.next());
                    }
                }
            }
            // Parameters of every setter used as predicates: the server must
            // compare them with the stored values.
            try (PreparedStatement ps = c.prepareStatement("SELECT count(*) FROM jdbc_types WHERE l = ? AND s = ? AND d = ? AND n = ? AND b = ? AND dt = ? AND ts = ? AND bin = ? AND nul IS NULL")) {
                ps.setLong(1, 9007199254740993L);
                ps.setString(2, "héllo 'quoted' \"dq\" \\ tab\tnl\n€");
                ps.setDouble(3, 3.141592653589793);
                ps.setBigDecimal(4, new BigDecimal("12345678.50"));
                ps.setBoolean(5, true);
                ps.setDate(6, java.sql.Date.valueOf("2024-02-29"));
                ps.setTimestamp(7, TS);
                ps.setBytes(8, BYTES);
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    eq("rows matching all typed parameters", 1L, rs.getLong(1));
                }
            }
            // setObject with an untyped null and getObject of a NULL literal.
            try (PreparedStatement ps = c.prepareStatement("SELECT ?::int IS NULL, ?::text")) {
                ps.setObject(1, null);
                ps.setNull(2, Types.VARCHAR);
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    eq("?::int IS NULL with setObject(null)", true, rs.getBoolean(1));
                    eq("?::text with setNull", null, rs.getString(2));
                }
            }
            st.execute("DROP TABLE jdbc_types");
        }
    }

    static void preparedReuse() throws Exception {
        try (Connection c = connect(); Statement st = c.createStatement()) {
            drop(c, "TABLE IF EXISTS jdbc_reuse");
            st.execute("CREATE TABLE jdbc_reuse (id int, name text, amount numeric(10,2), at_ts timestamp)");
            // prepareThreshold defaults to 5: from the 5th execution on the
            // driver parses a named server-side statement once and only
            // binds/executes it after that.
            try (PreparedStatement ins = c.prepareStatement("INSERT INTO jdbc_reuse VALUES (?, ?, ?, ?)")) {
                for (int k = 1; k <= 10; k++) {
                    ins.setInt(1, k);
                    ins.setString(2, "n" + k);
                    ins.setBigDecimal(3, new BigDecimal(k + ".25"));
                    ins.setTimestamp(4, Timestamp.valueOf("2024-01-0" + (k % 9 + 1) + " 10:00:00"));
                    eq("INSERT execution " + k + " count", 1, ins.executeUpdate());
                }
                eq("INSERT statement became server-prepared", true,
                        ins.unwrap(org.postgresql.PGStatement.class).isUseServerPrepare());
            }
            try (PreparedStatement q = c.prepareStatement("SELECT id, name, amount, at_ts, ?::int * 2 AS twice FROM jdbc_reuse WHERE id = ?")) {
                for (int k = 1; k <= 10; k++) {
                    q.setInt(1, k);
                    q.setInt(2, k);
                    try (ResultSet rs = q.executeQuery()) {
                        if (!rs.next()) {
                            current.add("SELECT execution " + k + ": no row");
                            continue;
                        }
                        eq("SELECT execution " + k + " id", k, rs.getInt(1));
                        eq("SELECT execution " + k + " name", "n" + k, rs.getString(2));
                        eq("SELECT execution " + k + " amount", new BigDecimal(k + ".25"), rs.getBigDecimal(3));
                        eq("SELECT execution " + k + " at", Timestamp.valueOf("2024-01-0" + (k % 9 + 1) + " 10:00:00"), rs.getTimestamp(4));
                        eq("SELECT execution " + k + " twice", 2 * k, rs.getInt(5));
                        truth("SELECT execution " + k + " second row", !rs.next());
                    }
                }
                eq("SELECT statement became server-prepared", true,
                        q.unwrap(org.postgresql.PGStatement.class).isUseServerPrepare());
            }
            // The named statement must survive being closed and prepared again
            // (the driver caches it per connection and reuses S_n).
            for (int round = 0; round < 3; round++) {
                try (PreparedStatement q = c.prepareStatement("SELECT count(*) FROM jdbc_reuse WHERE id <= ?")) {
                    q.setInt(1, 4 + round);
                    try (ResultSet rs = q.executeQuery()) {
                        rs.next();
                        eq("cached statement round " + round, 4L + round, rs.getLong(1));
                    }
                }
            }
            st.execute("DROP TABLE jdbc_reuse");
        }
    }

    static void timezoneSession() throws Exception {
        // PgJDBC sends the JVM time zone as the TimeZone startup parameter;
        // timestamptz text output and setTimestamp must follow it.
        TimeZone saved = TimeZone.getDefault();
        TimeZone.setDefault(TimeZone.getTimeZone("Europe/Berlin"));
        try (Connection c = connect(); Statement st = c.createStatement()) {
            try (ResultSet rs = st.executeQuery("SHOW TimeZone")) {
                rs.next();
                eq("SHOW TimeZone", "Europe/Berlin", rs.getString(1));
            }
            try (ResultSet rs = st.executeQuery("SELECT '2024-02-29 12:00:00+00'::timestamptz, '2024-07-01 12:00:00+00'::timestamptz")) {
                rs.next();
                eq("timestamptz text in winter", "2024-02-29 13:00:00+01", rs.getString(1));
                eq("timestamptz text in summer", "2024-07-01 14:00:00+02", rs.getString(2));
                eq("getTimestamp(timestamptz) in JVM zone", Timestamp.valueOf("2024-02-29 13:00:00"), rs.getTimestamp(1));
            }
            try (PreparedStatement ps = c.prepareStatement("SELECT ?::timestamptz = '2024-02-29 12:00:00+00'::timestamptz")) {
                ps.setTimestamp(1, Timestamp.valueOf("2024-02-29 13:00:00"));
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    eq("setTimestamp in JVM zone equals the instant", true, rs.getBoolean(1));
                }
            }
        } finally {
            TimeZone.setDefault(saved);
        }
    }

    static void batch(boolean rewrite) throws Exception {
        String table = rewrite ? "jdbc_batch_rw" : "jdbc_batch";
        try (Connection c = rewrite ? connect("reWriteBatchedInserts=true") : connect(); Statement st = c.createStatement()) {
            drop(c, "TABLE IF EXISTS " + table);
            st.execute("CREATE TABLE " + table + " (id int PRIMARY KEY, v text)");
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO " + table + " (id, v) VALUES (?, ?)")) {
                for (int k = 1; k <= 7; k++) {
                    ps.setInt(1, k);
                    ps.setString(2, "v" + k);
                    ps.addBatch();
                }
                int[] counts = ps.executeBatch();
                // With reWriteBatchedInserts the driver folds the rows into
                // multi-row INSERTs of 4, 2 and 1 rows: the first two cannot
                // attribute counts to rows, the last is a plain INSERT.
                int[] want = new int[7];
                Arrays.fill(want, rewrite ? Statement.SUCCESS_NO_INFO : 1);
                want[6] = 1;
                eq("prepared executeBatch counts", Arrays.toString(want), Arrays.toString(counts));
            }
            eq("rows after prepared batch", 7L, count(c, table));
            try (PreparedStatement ps = c.prepareStatement("UPDATE " + table + " SET v = v || ? WHERE id <= ?")) {
                ps.setString(1, "a");
                ps.setInt(2, 3);
                ps.addBatch();
                ps.setString(1, "b");
                ps.setInt(2, 0);
                ps.addBatch();
                ps.setString(1, "c");
                ps.setInt(2, 100);
                ps.addBatch();
                eq("UPDATE executeBatch counts", "[3, 0, 7]", Arrays.toString(ps.executeBatch()));
            }
            st.addBatch("INSERT INTO " + table + " VALUES (100, 'x')");
            st.addBatch("DELETE FROM " + table + " WHERE id <= 2");
            st.addBatch("UPDATE " + table + " SET v = 'y' WHERE id >= 100");
            eq("Statement executeBatch counts", "[1, 2, 1]", Arrays.toString(st.executeBatch()));
            try (ResultSet rs = st.executeQuery("SELECT string_agg(id || ':' || v, ',' ORDER BY id) FROM " + table)) {
                rs.next();
                eq("table after batches", "3:v3ac,4:v4c,5:v5c,6:v6c,7:v7c,100:y", rs.getString(1));
            }
            st.execute("DROP TABLE " + table);
        }
    }

    static void batchError() throws Exception {
        try (Connection c = connect(); Statement st = c.createStatement()) {
            drop(c, "TABLE IF EXISTS jdbc_batch_err");
            st.execute("CREATE TABLE jdbc_batch_err (id int PRIMARY KEY)");
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO jdbc_batch_err VALUES (?)")) {
                for (int id : new int[]{1, 2, 2, 3}) {
                    ps.setInt(1, id);
                    ps.addBatch();
                }
                try {
                    ps.executeBatch();
                    current.add("batch with a duplicate key succeeded");
                } catch (BatchUpdateException e) {
                    SQLException next = e.getNextException();
                    eq("BatchUpdateException next SQLSTATE", "23505", next == null ? e.getSQLState() : next.getSQLState());
                }
            }
            // Autocommit: the batch runs in one implicit transaction, so
            // nothing of it stays.
            eq("rows after failed batch", 0L, count(c, "jdbc_batch_err"));
            st.execute("DROP TABLE jdbc_batch_err");
        }
    }

    static void transactions() throws Exception {
        try (Connection c = connect(); Statement st = c.createStatement()) {
            drop(c, "TABLE IF EXISTS jdbc_tx");
            st.execute("CREATE TABLE jdbc_tx (id int PRIMARY KEY, v text)");
            c.setAutoCommit(false);
            eq("getAutoCommit", false, c.getAutoCommit());
            eq("insert in tx", 1, st.executeUpdate("INSERT INTO jdbc_tx VALUES (1, 'rolled back')"));
            eq("row visible inside tx", 1L, count(c, "jdbc_tx"));
            // Another session must not see uncommitted rows.
            try (Connection other = connect()) {
                eq("uncommitted row seen by another session", 0L, count(other, "jdbc_tx"));
            }
            c.rollback();
            eq("rows after rollback", 0L, count(c, "jdbc_tx"));
            st.executeUpdate("INSERT INTO jdbc_tx VALUES (2, 'committed')");
            c.commit();
            try (Connection other = connect()) {
                eq("committed row seen by another session", 1L, count(other, "jdbc_tx"));
            }
            // An error aborts the transaction: everything up to ROLLBACK fails
            // with 25P02.
            st.executeUpdate("INSERT INTO jdbc_tx VALUES (3, 'lost')");
            expectState(st, "SELECT * FROM jdbc_no_such_table", "42P01");
            expectState(st, "SELECT 1", "25P02");
            try (PreparedStatement ps = c.prepareStatement("SELECT ?::int")) {
                ps.setInt(1, 1);
                ps.executeQuery();
                current.add("prepared statement in aborted transaction succeeded");
            } catch (SQLException e) {
                eq("prepared statement in aborted tx SQLSTATE", "25P02", e.getSQLState());
            }
            c.rollback();
            try (ResultSet rs = st.executeQuery("SELECT string_agg(v, ',') FROM jdbc_tx")) {
                rs.next();
                eq("table after rollback of aborted tx", "committed", rs.getString(1));
            }
            // commit() of an aborted transaction rolls back (PostgreSQL
            // answers COMMIT with ROLLBACK; PgJDBC 42.5 raises no error).
            st.executeUpdate("INSERT INTO jdbc_tx VALUES (4, 'lost too')");
            expectState(st, "INSERT INTO jdbc_tx VALUES (2, 'dup')", "23505");
            try {
                c.commit();
            } catch (SQLException e) {
                // Newer drivers report the implicit rollback; both are fine.
            }
            eq("rows after commit of aborted tx", 1L, count(c, "jdbc_tx"));
            c.commit();
            c.setAutoCommit(true);
            // setAutoCommit(true) inside an open transaction commits it.
            c.setAutoCommit(false);
            st.executeUpdate("INSERT INTO jdbc_tx VALUES (5, 'autocommit switch')");
            c.setAutoCommit(true);
            try (Connection other = connect()) {
                eq("rows seen after setAutoCommit(true)", 2L, count(other, "jdbc_tx"));
            }
            st.execute("DROP TABLE jdbc_tx");
        }
    }

    static void savepoints() throws Exception {
        try (Connection c = connect(); Statement st = c.createStatement()) {
            drop(c, "TABLE IF EXISTS jdbc_sp");
            st.execute("CREATE TABLE jdbc_sp (id int PRIMARY KEY)");
            c.setAutoCommit(false);
            st.executeUpdate("INSERT INTO jdbc_sp VALUES (1)");
            Savepoint sp = c.setSavepoint("sp1");
            st.executeUpdate("INSERT INTO jdbc_sp VALUES (2)");
            expectState(st, "INSERT INTO jdbc_sp VALUES (1)", "23505");
            c.rollback(sp);
            st.executeUpdate("INSERT INTO jdbc_sp VALUES (3)");
            c.commit();
            c.setAutoCommit(true);
            try (ResultSet rs = st.executeQuery("SELECT string_agg(id::text, ',' ORDER BY id) FROM jdbc_sp")) {
                rs.next();
                eq("rows after rollback to savepoint", "1,3", rs.getString(1));
            }
            st.execute("DROP TABLE jdbc_sp");
        }
    }

    static void sqlStates() throws Exception {
        try (Connection c = connect(); Statement st = c.createStatement()) {
            drop(c, "TABLE IF EXISTS jdbc_err");
            st.execute("CREATE TABLE jdbc_err (id int PRIMARY KEY)");
            st.execute("INSERT INTO jdbc_err VALUES (1)");
            expectState(st, "SELECT * FROM jdbc_no_such_table", "42P01");
            expectState(st, "SELEC 1", "42601");
            expectState(st, "SELECT 1 FROM", "42601");
            expectState(st, "INSERT INTO jdbc_err VALUES (1)", "23505");
            expectState(st, "SELECT 1/0", "22012");
            expectState(st, "SELECT no_such_column FROM jdbc_err", "42703");
            // The same through prepared statements (extended protocol with
            // parameters); the error comes from Parse or Execute.
            String[][] prepared = {
                    {"SELECT * FROM jdbc_no_such_table WHERE id = ?", "42P01"},
                    {"INSERT INTO jdbc_err VALUES (?)", "23505"},
                    {"SELECT ?::int / 0", "22012"},
            };
            for (String[] p : prepared) {
                try (PreparedStatement ps = c.prepareStatement(p[0])) {
                    ps.setInt(1, 1);
                    ps.execute();
                    current.add(p[0] + ": expected SQLSTATE " + p[1] + ", but it succeeded");
                } catch (SQLException e) {
                    eq("prepared " + p[0] + " SQLSTATE", p[1], e.getSQLState());
                }
            }
            // The connection stays usable after errors in autocommit mode.
            eq("count after errors", 1L, count(c, "jdbc_err"));
            // Server error fields reach PSQLException.getServerErrorMessage.
            try {
                st.execute("INSERT INTO jdbc_err VALUES (1)");
            } catch (org.postgresql.util.PSQLException e) {
                org.postgresql.util.ServerErrorMessage m = e.getServerErrorMessage();
                truth("no ServerErrorMessage", m != null);
                if (m != null) {
                    eq("ServerErrorMessage severity", "ERROR", m.getSeverity());
                    eq("ServerErrorMessage message", "duplicate key value violates unique constraint \"jdbc_err_pkey\"", m.getMessage());
                }
            }
            st.execute("DROP TABLE jdbc_err");
        }
    }

    static void metaTables() throws Exception {
        try (Connection c = connect(); Statement st = c.createStatement()) {
            drop(c, "VIEW IF EXISTS jdbc_mv", "TABLE IF EXISTS jdbc_mt");
            st.execute("CREATE TABLE jdbc_mt (id int PRIMARY KEY, name text)");
            st.execute("CREATE VIEW jdbc_mv AS SELECT id, name FROM jdbc_mt");
            DatabaseMetaData md = c.getMetaData();
            List<String> got = new ArrayList<>();
            try (ResultSet rs = md.getTables(null, "public", "jdbc_m%", null)) {
                while (rs.next()) {
                    got.add(rs.getString("TABLE_SCHEM") + "." + rs.getString("TABLE_NAME") + ":" + rs.getString("TABLE_TYPE"));
                    System.out.println("META|getTables|" + rs.getString("TABLE_CAT") + "|" + rs.getString("TABLE_SCHEM") + "|"
                            + rs.getString("TABLE_NAME") + "|" + rs.getString("TABLE_TYPE") + "|" + rs.getString("REMARKS"));
                }
            }
            // With no type filter the primary key's index is listed too;
            // PgJDBC orders by TABLE_TYPE, then schema and name.
            eq("getTables(public, jdbc_m%)", List.of("public.jdbc_mt_pkey:INDEX", "public.jdbc_mt:TABLE", "public.jdbc_mv:VIEW"), got);
            got.clear();
            try (ResultSet rs = md.getTables(null, null, "jdbc_m%", new String[]{"VIEW"})) {
                while (rs.next()) got.add(rs.getString("TABLE_NAME"));
            }
            eq("getTables(types=VIEW)", List.of("jdbc_mv"), got);
            got.clear();
            try (ResultSet rs = md.getTables(null, null, "jdbc_mt", new String[]{"TABLE"})) {
                while (rs.next()) got.add(rs.getString("TABLE_NAME"));
            }
            eq("getTables(jdbc_mt, types=TABLE)", List.of("jdbc_mt"), got);
            got.clear();
            try (ResultSet rs = md.getTables(null, "public", "jdbc_no_such%", null)) {
                while (rs.next()) got.add(rs.getString("TABLE_NAME"));
            }
            eq("getTables(no match)", List.of(), got);
            got.clear();
            try (ResultSet rs = md.getTableTypes()) {
                while (rs.next()) got.add(rs.getString(1));
            }
            truth("getTableTypes lacks TABLE or VIEW: " + got, got.contains("TABLE") && got.contains("VIEW"));
            st.execute("DROP VIEW jdbc_mv");
            st.execute("DROP TABLE jdbc_mt");
        }
    }

    static void metaColumns() throws Exception {
        try (Connection c = connect(); Statement st = c.createStatement()) {
            drop(c, "TABLE IF EXISTS jdbc_cols");
            st.execute("CREATE TABLE jdbc_cols (c_int int NOT NULL, c_big bigint, c_text text, c_vc varchar(40), "
                    + "c_num numeric(10,2) NOT NULL, c_dbl double precision, c_bool boolean, c_date date, c_ts timestamp, "
                    + "c_tz timestamptz, c_bytea bytea)");
            Object[][] want = {
                    // name, TYPE_NAME, DATA_TYPE
                    {"c_int", "int4", Types.INTEGER},
                    {"c_big", "int8", Types.BIGINT},
                    {"c_text", "text", Types.VARCHAR},
                    {"c_vc", "varchar", Types.VARCHAR},
                    {"c_num", "numeric", Types.NUMERIC},
                    {"c_dbl", "float8", Types.DOUBLE},
                    {"c_bool", "bool", Types.BIT},
                    {"c_date", "date", Types.DATE},
                    {"c_ts", "timestamp", Types.TIMESTAMP},
                    {"c_tz", "timestamptz", Types.TIMESTAMP},
                    {"c_bytea", "bytea", Types.BINARY},
            };
            int k = 0;
            try (ResultSet rs = c.getMetaData().getColumns(null, "public", "jdbc_cols", null)) {
                while (rs.next()) {
                    String name = rs.getString("COLUMN_NAME");
                    System.out.println("META|getColumns|" + rs.getString("TABLE_SCHEM") + "|" + rs.getString("TABLE_NAME") + "|" + name
                            + "|TYPE_NAME=" + rs.getString("TYPE_NAME") + "|DATA_TYPE=" + rs.getInt("DATA_TYPE")
                            + "|COLUMN_SIZE=" + rs.getString("COLUMN_SIZE") + "|DECIMAL_DIGITS=" + rs.getString("DECIMAL_DIGITS")
                            + "|NUM_PREC_RADIX=" + rs.getString("NUM_PREC_RADIX") + "|NULLABLE=" + rs.getInt("NULLABLE")
                            + "|COLUMN_DEF=" + rs.getString("COLUMN_DEF") + "|CHAR_OCTET_LENGTH=" + rs.getString("CHAR_OCTET_LENGTH")
                            + "|ORDINAL_POSITION=" + rs.getInt("ORDINAL_POSITION") + "|IS_NULLABLE=" + rs.getString("IS_NULLABLE")
                            + "|IS_AUTOINCREMENT=" + rs.getString("IS_AUTOINCREMENT"));
                    if (k >= want.length) {
                        current.add("extra column " + name);
                        continue;
                    }
                    Object[] w = want[k];
                    eq("column " + (k + 1) + " COLUMN_NAME", w[0], name);
                    eq(name + " TYPE_NAME", w[1], rs.getString("TYPE_NAME"));
                    eq(name + " DATA_TYPE", w[2], rs.getInt("DATA_TYPE"));
                    eq(name + " ORDINAL_POSITION", k + 1, rs.getInt("ORDINAL_POSITION"));
                    eq(name + " TABLE_SCHEM", "public", rs.getString("TABLE_SCHEM"));
                    eq(name + " TABLE_NAME", "jdbc_cols", rs.getString("TABLE_NAME"));
                    boolean notNull = name.equals("c_int") || name.equals("c_num");
                    eq(name + " NULLABLE", notNull ? DatabaseMetaData.columnNoNulls : DatabaseMetaData.columnNullable, rs.getInt("NULLABLE"));
                    eq(name + " IS_NULLABLE", notNull ? "NO" : "YES", rs.getString("IS_NULLABLE"));
                    if (name.equals("c_num")) {
                        eq("c_num COLUMN_SIZE", 10, rs.getInt("COLUMN_SIZE"));
                        eq("c_num DECIMAL_DIGITS", 2, rs.getInt("DECIMAL_DIGITS"));
                    }
                    if (name.equals("c_int")) eq("c_int COLUMN_SIZE", 10, rs.getInt("COLUMN_SIZE"));
                    if (name.equals("c_big")) eq("c_big COLUMN_SIZE", 19, rs.getInt("COLUMN_SIZE"));
                    k++;
                }
            }
            eq("getColumns row count", want.length, k);
            // A single column by pattern.
            try (ResultSet rs = c.getMetaData().getColumns(null, null, "jdbc_cols", "c_n%")) {
                List<String> got = new ArrayList<>();
                while (rs.next()) got.add(rs.getString("COLUMN_NAME"));
                eq("getColumns(column pattern c_n%)", List.of("c_num"), got);
            }
            st.execute("DROP TABLE jdbc_cols");
        }
    }

    static void metaPrimaryKeys() throws Exception {
        try (Connection c = connect(); Statement st = c.createStatement()) {
            drop(c, "TABLE IF EXISTS jdbc_pk", "TABLE IF EXISTS jdbc_pk1", "TABLE IF EXISTS jdbc_nopk");
            st.execute("CREATE TABLE jdbc_pk (a int, b text, c int, PRIMARY KEY (b, a))");
            st.execute("CREATE TABLE jdbc_pk1 (id bigint PRIMARY KEY, v text)");
            st.execute("CREATE TABLE jdbc_nopk (id int)");
            DatabaseMetaData md = c.getMetaData();
            List<String> got = new ArrayList<>();
            // PgJDBC 42.5 orders primary key columns by KEY_SEQ.
            try (ResultSet rs = md.getPrimaryKeys(null, "public", "jdbc_pk")) {
                while (rs.next()) {
                    got.add(rs.getString("TABLE_NAME") + "." + rs.getString("COLUMN_NAME") + "#" + rs.getInt("KEY_SEQ"));
                    System.out.println("META|getPrimaryKeys|" + rs.getString("TABLE_SCHEM") + "|" + rs.getString("TABLE_NAME") + "|"
                            + rs.getString("COLUMN_NAME") + "|" + rs.getInt("KEY_SEQ") + "|" + rs.getString("PK_NAME"));
                }
            }
            eq("getPrimaryKeys(jdbc_pk)", List.of("jdbc_pk.b#1", "jdbc_pk.a#2"), got);
            got.clear();
            try (ResultSet rs = md.getPrimaryKeys(null, null, "jdbc_pk1")) {
                while (rs.next()) got.add(rs.getString("COLUMN_NAME") + "#" + rs.getInt("KEY_SEQ") + "#" + rs.getString("PK_NAME"));
            }
            eq("getPrimaryKeys(jdbc_pk1)", List.of("id#1#jdbc_pk1_pkey"), got);
            got.clear();
            try (ResultSet rs = md.getPrimaryKeys(null, "public", "jdbc_nopk")) {
                while (rs.next()) got.add(rs.getString("COLUMN_NAME"));
            }
            eq("getPrimaryKeys(table without key)", List.of(), got);
            st.execute("DROP TABLE jdbc_pk");
            st.execute("DROP TABLE jdbc_pk1");
            st.execute("DROP TABLE jdbc_nopk");
        }
    }

    static void metaSchemas() throws Exception {
        try (Connection c = connect()) {
            List<String> got = new ArrayList<>();
            try (ResultSet rs = c.getMetaData().getSchemas()) {
                while (rs.next()) got.add(rs.getString("TABLE_SCHEM"));
            }
            for (String s : new String[]{"public", "pg_catalog", "information_schema"})
                truth("getSchemas() lacks " + s + ": " + got, got.contains(s));
            List<String> sorted = new ArrayList<>(got);
            Collections.sort(sorted);
            eq("getSchemas() ordered by TABLE_SCHEM", sorted, got);
            got.clear();
            try (ResultSet rs = c.getMetaData().getSchemas(null, "pub%")) {
                while (rs.next()) got.add(rs.getString("TABLE_SCHEM"));
            }
            eq("getSchemas(null, pub%)", List.of("public"), got);
        }
    }

    static void resultSetMetadata() throws Exception {
        try (Connection c = connect(); Statement st = c.createStatement()) {
            drop(c, "TABLE IF EXISTS jdbc_rsmd");
            st.execute("CREATE TABLE jdbc_rsmd (c_int int NOT NULL, c_big bigint, c_text text, c_vc varchar(40), "
                    + "c_num numeric(10,2), c_dbl double precision, c_bool boolean, c_date date, c_ts timestamp, "
                    + "c_tz timestamptz, c_bytea bytea)");
            Object[][] want = {
                    // label, column name, type name, java.sql.Types
                    {"c_int", "c_int", "int4", Types.INTEGER},
                    {"big_alias", "big_alias", "int8", Types.BIGINT},
                    {"c_text", "c_text", "text", Types.VARCHAR},
                    {"c_vc", "c_vc", "varchar", Types.VARCHAR},
                    {"c_num", "c_num", "numeric", Types.NUMERIC},
                    {"c_dbl", "c_dbl", "float8", Types.DOUBLE},
                    {"c_bool", "c_bool", "bool", Types.BIT},
                    {"c_date", "c_date", "date", Types.DATE},
                    {"c_ts", "c_ts", "timestamp", Types.TIMESTAMP},
                    {"c_tz", "c_tz", "timestamptz", Types.TIMESTAMP},
                    {"c_bytea", "c_bytea", "bytea", Types.BINARY},
                    {"expr", "expr", "int4", Types.INTEGER},
                    // PostgreSQL names a bare cast after its type.
                    {"text", "text", "text", Types.VARCHAR},
                    {"?column?", "?column?", "int4", Types.INTEGER},
            };
            String sql = "SELECT c_int, c_big AS big_alias, c_text, c_vc, c_num, c_dbl, c_bool, c_date, c_ts, c_tz, c_bytea, "
                    + "c_int + 1 AS expr, 'lit'::text, c_int * 2 FROM jdbc_rsmd";
            // Statement and PreparedStatement (Describe before Execute) give the same.
            for (String mode : new String[]{"statement", "prepared"}) {
                ResultSetMetaData md;
                ResultSet rs;
                Statement s2;
                if (mode.equals("statement")) {
                    s2 = c.createStatement();
                    rs = s2.executeQuery(sql);
                    md = rs.getMetaData();
                } else {
                    PreparedStatement ps = c.prepareStatement(sql);
                    s2 = ps;
                    md = ps.getMetaData();
                    rs = ps.executeQuery();
                    if (md == null) {
                        current.add("PreparedStatement.getMetaData() before execution is null");
                        md = rs.getMetaData();
                    }
                }
                eq(mode + " getColumnCount", want.length, md.getColumnCount());
                for (int k = 0; k < Math.min(want.length, md.getColumnCount()); k++) {
                    int col = k + 1;
                    Object[] w = want[k];
                    eq(mode + " col " + col + " getColumnLabel", w[0], md.getColumnLabel(col));
                    eq(mode + " col " + col + " getColumnName", w[1], md.getColumnName(col));
                    eq(mode + " col " + col + " getColumnTypeName", w[2], md.getColumnTypeName(col));
                    eq(mode + " col " + col + " getColumnType", w[3], md.getColumnType(col));
                }
                if (md.getColumnCount() == want.length) {
                    // Type modifiers travel in RowDescription.
                    eq(mode + " numeric(10,2) getPrecision", 10, md.getPrecision(5));
                    eq(mode + " numeric(10,2) getScale", 2, md.getScale(5));
                    // These need the table OID and attribute number of each
                    // column in RowDescription; the driver then asks pg_catalog.
                    eq(mode + " getBaseColumnName(2)", "c_big",
                            md.unwrap(org.postgresql.PGResultSetMetaData.class).getBaseColumnName(2));
                    eq(mode + " getTableName(1)", "jdbc_rsmd",
                            md.unwrap(org.postgresql.PGResultSetMetaData.class).getBaseTableName(1));
                    eq(mode + " isNullable(c_int NOT NULL)", ResultSetMetaData.columnNoNulls, md.isNullable(1));
                    eq(mode + " isNullable(c_big)", ResultSetMetaData.columnNullable, md.isNullable(2));
                    eq(mode + " getColumnClassName(c_num)", "java.math.BigDecimal", md.getColumnClassName(5));
                }
                rs.close();
                s2.close();
            }
            st.execute("DROP TABLE jdbc_rsmd");
        }
    }

    static void fetchTable(Connection c) throws SQLException {
        drop(c, "TABLE IF EXISTS jdbc_fetch");
        try (Statement st = c.createStatement()) {
            st.execute("CREATE TABLE jdbc_fetch (id int, v text)");
            st.execute("INSERT INTO jdbc_fetch SELECT g, 'row' || g FROM generate_series(1, 1000) g");
        }
    }

    static void fetchSize() throws Exception {
        try (Connection c = connect()) {
            fetchTable(c);
            // With autocommit off and a fetch size, PgJDBC executes the
            // portal with a row limit of 10 and sends Execute again for each
            // batch (PortalSuspended in between).
            c.setAutoCommit(false);
            try (PreparedStatement ps = c.prepareStatement("SELECT id, v FROM jdbc_fetch ORDER BY id")) {
                ps.setFetchSize(10);
                try (ResultSet rs = ps.executeQuery()) {
                    long n = 0, sum = 0;
                    boolean inOrder = true;
                    while (rs.next()) {
                        n++;
                        sum += rs.getInt(1);
                        if (rs.getInt(1) != n || !rs.getString(2).equals("row" + n)) inOrder = false;
                    }
                    eq("rows fetched with fetch size 10", 1000L, n);
                    eq("sum of ids", 500500L, sum);
                    truth("rows out of order or wrong values", inOrder);
                }
            }
            // Plain Statement with a fetch size over a generated series.
            try (Statement st = c.createStatement()) {
                st.setFetchSize(10);
                try (ResultSet rs = st.executeQuery("SELECT g FROM generate_series(1, 1000) g")) {
                    long n = 0;
                    while (rs.next()) n++;
                    eq("generate_series rows with fetch size 10", 1000L, n);
                }
            }
            c.commit();
        }
    }

    static void fetchSizeStatementBetween() throws Exception {
        try (Connection c = connect()) {
            fetchTable(c);
            c.setAutoCommit(false);
            try (PreparedStatement ps = c.prepareStatement("SELECT id FROM jdbc_fetch ORDER BY id")) {
                ps.setFetchSize(10);
                try (ResultSet rs = ps.executeQuery()) {
                    long n = 0, sum = 0;
                    while (rs.next()) {
                        n++;
                        sum += rs.getInt(1);
                        // Another statement in the middle re-parses the
                        // unnamed statement: the suspended portal must stay
                        // open across it.
                        if (n == 505) {
                            try (Statement other = c.createStatement(); ResultSet r2 = other.executeQuery("SELECT count(*) FROM jdbc_fetch")) {
                                r2.next();
                                eq("count(*) while a portal is suspended", 1000L, r2.getLong(1));
                            }
                        }
                    }
                    eq("rows fetched around another statement", 1000L, n);
                    eq("sum of ids", 500500L, sum);
                }
            }
            c.commit();
        }
    }

    static void fetchSizeInterleaved() throws Exception {
        try (Connection c = connect()) {
            fetchTable(c);
            c.setAutoCommit(false);
            try (Statement s1 = c.createStatement(); Statement s2 = c.createStatement()) {
                s1.setFetchSize(7);
                s2.setFetchSize(13);
                try (ResultSet a = s1.executeQuery("SELECT id FROM jdbc_fetch WHERE id <= 100 ORDER BY id");
                     ResultSet b = s2.executeQuery("SELECT id FROM jdbc_fetch WHERE id > 900 ORDER BY id")) {
                    long na = 0, nb = 0, sa = 0, sb = 0;
                    boolean more = true;
                    while (more) {
                        more = false;
                        if (a.next()) { na++; sa += a.getInt(1); more = true; }
                        if (b.next()) { nb++; sb += b.getInt(1); more = true; }
                    }
                    eq("interleaved portal A rows", 100L, na);
                    eq("interleaved portal B rows", 100L, nb);
                    eq("interleaved portal A sum", 5050L, sa);
                    eq("interleaved portal B sum", 95050L, sb);
                }
            }
            c.commit();
            c.setAutoCommit(true);
            drop(c, "TABLE jdbc_fetch");
        }
    }

    static void keywordColumns() throws Exception {
        // AT, VERSION and TIMESTAMP are hopsql time-travel words but
        // non-reserved in PostgreSQL: ordinary column names must still work.
        try (Connection c = connect(); Statement st = c.createStatement()) {
            drop(c, "TABLE IF EXISTS jdbc_kw");
            st.execute("CREATE TABLE jdbc_kw (id int, at timestamp, version int)");
            eq("INSERT into keyword columns", 1, st.executeUpdate("INSERT INTO jdbc_kw (id, at, version) VALUES (1, '2024-01-01 00:00:00', 3)"));
            try (ResultSet rs = st.executeQuery("SELECT at, version FROM jdbc_kw WHERE at < '2025-01-01' ORDER BY at")) {
                truth("no row", rs.next());
                eq("at", Timestamp.valueOf("2024-01-01 00:00:00"), rs.getTimestamp(1));
                eq("version", 3, rs.getInt(2));
            }
            st.execute("DROP TABLE jdbc_kw");
        }
    }
}
