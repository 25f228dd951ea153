"""check.py drives psycopg2 against one server and checks what a Python
application sees. It runs every named check, prints PASS/FAIL per check with
expected-vs-got details and exits 1 if any check failed. What COPY ... TO
exports is also written to <outdir>/copy_out.txt, which the Go test compares
byte for byte between hopsql and PostgreSQL 15.

Usage: /usr/bin/python3 check.py HOST PORT USER DBNAME OUTDIR
"""

import datetime
import decimal
import io
import os
import sys
import threading
import traceback
import uuid

import psycopg2
import psycopg2.errors
import psycopg2.extensions
import psycopg2.extras

HOST, PORT, USER, DBNAME, OUTDIR = sys.argv[1:6]

failures = []
current = []
copy_out = []  # (label, exported text), written to copy_out.txt


def connect(**kw):
    return psycopg2.connect(host=HOST, port=PORT, user=USER, dbname=DBNAME, sslmode="disable",
                            connect_timeout=20, **kw)


def eq(what, want, got):
    """Records a failure (and lets the check go on) when got != want; types
    must match too, so 1 == 1.0 or Decimal('1') == 1 do not pass."""
    same = want == got and type(want) is type(got)
    if not same:
        current.append("%s: expected %r (%s), got %r (%s)" % (what, want, type(want).__name__, got, type(got).__name__))
    return same


def truth(what, ok):
    if not ok:
        current.append(what)


def expect_error(cur, sql, pgcode, cls=None, args=None):
    """Runs sql and requires it to fail with pgcode; returns the error."""
    try:
        cur.execute(sql, args)
    except psycopg2.Error as e:
        eq("%s: pgcode" % sql, pgcode, e.pgcode)
        if cls is not None:
            truth("%s: error class %s is not %s" % (sql, type(e).__name__, cls.__name__), isinstance(e, cls))
        return e
    current.append("%s: expected an error with pgcode %s, but it succeeded" % (sql, pgcode))
    return None


CHECK_TIMEOUT = 60  # seconds; a check that takes longer means the server hangs


def timed_out(name):
    """Reports a hung check and ends the run: psycopg2 cannot be interrupted
    while it waits for the server."""
    print("FAIL", name)
    print("     - no answer from the server within %ds (hung); stopping" % CHECK_TIMEOUT)
    for m in current:
        print("     -", m)
    failures.append(name)
    print()
    print("%d PSYCOPG2 CHECK(S) FAILED: %s" % (len(failures), ", ".join(failures)))
    sys.stdout.flush()
    os._exit(1)


def check(name, fn):
    global current
    current = []
    watchdog = threading.Timer(CHECK_TIMEOUT, timed_out, (name,))
    watchdog.daemon = True
    watchdog.start()
    try:
        fn()
    except Exception as e:  # an unexpected error ends the check
        code = getattr(e, "pgcode", None)
        current.append("unexpected %s%s: %s\n%s" % (type(e).__name__, " [pgcode %s]" % code if code else "",
                                                     str(e).strip(), traceback.format_exc(limit=3)))
    watchdog.cancel()
    if not current:
        print("PASS", name)
        return
    print("FAIL", name)
    for m in current:
        print("     -", m)
    failures.append(name)


def drop(conn, *tables):
    """Removes leftovers of an earlier run (the reference server keeps them)."""
    with conn.cursor() as cur:
        for t in tables:
            cur.execute("DROP TABLE IF EXISTS %s" % t)
    conn.commit()


def scalar(conn, sql, args=None):
    with conn.cursor() as cur:
        cur.execute(sql, args)
        return cur.fetchone()[0]


# ------------------------------------------------------------------ checks

def check_connect():
    conn = connect()
    eq("server_version // 10000", 15, conn.server_version // 10000)
    eq("protocol_version", 3, conn.protocol_version)
    eq("encoding", "UTF8", conn.encoding)
    eq("DateStyle", "ISO, MDY", conn.get_parameter_status("DateStyle"))
    eq("server_encoding", "UTF8", conn.get_parameter_status("server_encoding"))
    eq("integer_datetimes", "on", conn.get_parameter_status("integer_datetimes"))
    eq("standard_conforming_strings", "on", conn.get_parameter_status("standard_conforming_strings"))
    eq("autocommit default", False, conn.autocommit)
    eq("status before any statement", psycopg2.extensions.STATUS_READY, conn.status)
    with conn.cursor() as cur:
        cur.execute("SELECT 1, 'two'")
        eq("SELECT 1, 'two'", (1, "two"), cur.fetchone())
        eq("rowcount of SELECT", 1, cur.rowcount)
    # psycopg2 opened a transaction with BEGIN before the SELECT.
    eq("transaction status after SELECT", psycopg2.extensions.TRANSACTION_STATUS_INTRANS, conn.info.transaction_status)
    conn.rollback()
    eq("transaction status after rollback", psycopg2.extensions.TRANSACTION_STATUS_IDLE, conn.info.transaction_status)
    conn.close()


def check_transactions():
    conn = connect()
    drop(conn, "pyc_tx")
    cur = conn.cursor()
    cur.execute("CREATE TABLE pyc_tx (id int PRIMARY KEY, v text)")
    conn.commit()
    cur.execute("INSERT INTO pyc_tx VALUES (1, 'rolled back')")
    eq("INSERT rowcount", 1, cur.rowcount)
    eq("transaction status inside tx", psycopg2.extensions.TRANSACTION_STATUS_INTRANS, conn.info.transaction_status)
    other = connect()
    other.autocommit = True
    eq("uncommitted row seen by another session", 0, scalar(other, "SELECT count(*) FROM pyc_tx"))
    conn.rollback()
    eq("rows after rollback", 0, scalar(conn, "SELECT count(*) FROM pyc_tx"))
    cur.execute("INSERT INTO pyc_tx VALUES (2, 'committed')")
    conn.commit()
    eq("committed row seen by another session", 1, scalar(other, "SELECT count(*) FROM pyc_tx"))
    # An error aborts the transaction until rollback.
    cur.execute("INSERT INTO pyc_tx VALUES (3, 'lost')")
    expect_error(cur, "SELECT * FROM pyc_no_such_table", "42P01", psycopg2.errors.UndefinedTable)
    eq("transaction status after error", psycopg2.extensions.TRANSACTION_STATUS_INERROR, conn.info.transaction_status)
    e = expect_error(cur, "SELECT 1", "25P02", psycopg2.errors.InFailedSqlTransaction)
    if e is not None:
        truth("25P02 message: %r" % e.diag.message_primary,
              (e.diag.message_primary or "").startswith("current transaction is aborted"))
    expect_error(cur, "SELECT %s::int", "25P02", psycopg2.errors.InFailedSqlTransaction, (1,))
    conn.rollback()
    eq("transaction status after rollback", psycopg2.extensions.TRANSACTION_STATUS_IDLE, conn.info.transaction_status)
    cur.execute("SELECT string_agg(v, ',') FROM pyc_tx")
    eq("table after rollback of aborted tx", "committed", cur.fetchone()[0])
    # COMMIT of an aborted transaction rolls back (PostgreSQL answers ROLLBACK).
    cur.execute("INSERT INTO pyc_tx VALUES (4, 'lost too')")
    expect_error(cur, "INSERT INTO pyc_tx VALUES (2, 'dup')", "23505", psycopg2.errors.UniqueViolation)
    cur.execute("COMMIT")
    eq("COMMIT of aborted tx status message", "ROLLBACK", cur.statusmessage)
    eq("rows after COMMIT of aborted tx", 1, scalar(conn, "SELECT count(*) FROM pyc_tx"))
    conn.rollback()
    # The connection as a context manager commits on success.
    with conn:
        with conn.cursor() as c2:
            c2.execute("INSERT INTO pyc_tx VALUES (5, 'with block')")
    eq("row committed by with-block seen elsewhere", 2, scalar(other, "SELECT count(*) FROM pyc_tx"))
    cur.execute("DROP TABLE pyc_tx")
    conn.commit()
    other.close()
    conn.close()


def check_autocommit():
    conn = connect()
    drop(conn, "pyc_ac")
    conn.autocommit = True
    other = connect()
    other.autocommit = True
    cur = conn.cursor()
    cur.execute("CREATE TABLE pyc_ac (id int PRIMARY KEY)")
    cur.execute("INSERT INTO pyc_ac VALUES (1), (2)")
    eq("INSERT rowcount", 2, cur.rowcount)
    eq("statusmessage", "INSERT 0 2", cur.statusmessage)
    eq("transaction status in autocommit", psycopg2.extensions.TRANSACTION_STATUS_IDLE, conn.info.transaction_status)
    eq("rows seen by another session at once", 2, scalar(other, "SELECT count(*) FROM pyc_ac"))
    # An error does not poison the next statement in autocommit mode.
    expect_error(cur, "INSERT INTO pyc_ac VALUES (1)", "23505", psycopg2.errors.UniqueViolation)
    cur.execute("SELECT count(*) FROM pyc_ac")
    eq("statement after error in autocommit", 2, cur.fetchone()[0])
    # Explicit BEGIN/ROLLBACK in autocommit mode.
    cur.execute("BEGIN")
    cur.execute("DELETE FROM pyc_ac")
    eq("DELETE rowcount", 2, cur.rowcount)
    eq("transaction status after explicit BEGIN", psycopg2.extensions.TRANSACTION_STATUS_INTRANS, conn.info.transaction_status)
    cur.execute("ROLLBACK")
    eq("rows after explicit ROLLBACK", 2, scalar(other, "SELECT count(*) FROM pyc_ac"))
    # Switching autocommit off starts implicit transactions again.
    conn.autocommit = False
    cur.execute("DELETE FROM pyc_ac WHERE id = 1")
    eq("uncommitted delete seen elsewhere", 2, scalar(other, "SELECT count(*) FROM pyc_ac"))
    conn.commit()
    eq("committed delete seen elsewhere", 1, scalar(other, "SELECT count(*) FROM pyc_ac"))
    conn.autocommit = True
    cur.execute("DROP TABLE pyc_ac")
    other.close()
    conn.close()


def check_executemany():
    conn = connect()
    drop(conn, "pyc_many")
    cur = conn.cursor()
    cur.execute("CREATE TABLE pyc_many (id int PRIMARY KEY, name text, score float8)")
    cur.executemany("INSERT INTO pyc_many VALUES (%s, %s, %s)", [(i, "n%d" % i, i / 4) for i in range(1, 101)])
    # psycopg2 adds up the row counts of every execution.
    eq("executemany rowcount", 100, cur.rowcount)
    cur.executemany("UPDATE pyc_many SET score = score * 2 WHERE id %% %s = 0", [(10,), (25,)])
    eq("executemany UPDATE rowcount", 14, cur.rowcount)
    # execute_batch joins statements with ';' into one simple query.
    psycopg2.extras.execute_batch(cur, "INSERT INTO pyc_many VALUES (%s, %s, %s)",
                                  [(i, "b%d" % i, None) for i in range(101, 151)], page_size=20)
    # execute_values folds rows into one multi-row VALUES.
    psycopg2.extras.execute_values(cur, "INSERT INTO pyc_many VALUES %s",
                                   [(i, "v%d" % i, 0.5) for i in range(151, 201)], page_size=30)
    conn.commit()
    cur.execute("SELECT count(*), count(score), sum(id), min(name), max(name) FROM pyc_many")
    eq("table after executemany/execute_batch/execute_values", (200, 150, 20100, "b101", "v200"), cur.fetchone())
    cur.execute("SELECT score FROM pyc_many WHERE id IN (10, 50, 7) ORDER BY id")
    # id 50 matches both updates.
    eq("scores updated by executemany", [(1.75,), (5.0,), (50.0,)], cur.fetchall())
    cur.execute("DROP TABLE pyc_many")
    conn.commit()
    conn.close()


UTC = datetime.timezone.utc
PLUS2 = datetime.timezone(datetime.timedelta(hours=2))

# Python values, the SQL column type that stores them and what comes back.
VALUES = [
    ("int", "int", 2147483647, 2147483647),
    ("bigint", "bigint", 9007199254740993, 9007199254740993),
    ("float", "float8", 3.141592653589793, 3.141592653589793),
    ("decimal", "numeric(14,4)", decimal.Decimal("12345678.5"), decimal.Decimal("12345678.5000")),
    ("decimal_neg", "numeric", decimal.Decimal("-0.000123"), decimal.Decimal("-0.000123")),
    ("str", "text", "héllo 'q' \"dq\" \\ tab\tnl\n€", "héllo 'q' \"dq\" \\ tab\tnl\n€"),
    ("bytes", "bytea", b"\x00\x01'\\\xfe\xff", b"\x00\x01'\\\xfe\xff"),
    ("memoryview", "bytea", memoryview(b"abc\x00"), b"abc\x00"),
    ("bool", "boolean", True, True),
    ("none", "text", None, None),
    ("date", "date", datetime.date(2024, 2, 29), datetime.date(2024, 2, 29)),
    ("datetime_naive", "timestamp", datetime.datetime(2024, 2, 29, 13, 14, 15, 123456),
     datetime.datetime(2024, 2, 29, 13, 14, 15, 123456)),
    ("datetime_aware", "timestamptz", datetime.datetime(2024, 2, 29, 13, 14, 15, 123456, tzinfo=PLUS2),
     datetime.datetime(2024, 2, 29, 11, 14, 15, 123456, tzinfo=UTC)),
    ("time", "time", datetime.time(13, 14, 15, 500), datetime.time(13, 14, 15, 500)),
    ("timedelta", "interval", datetime.timedelta(days=1, hours=2, minutes=3, seconds=4, microseconds=5),
     datetime.timedelta(days=1, hours=2, minutes=3, seconds=4, microseconds=5)),
    ("timedelta_neg", "interval", datetime.timedelta(seconds=-90), datetime.timedelta(seconds=-90)),
    ("uuid", "uuid", uuid.UUID("12345678-9abc-def0-0102-030405060708"), uuid.UUID("12345678-9abc-def0-0102-030405060708")),
    ("int_list", "int[]", [1, 2, None, 3], [1, 2, None, 3]),
    ("str_list", "text[]", ["a b", "c,d", 'e"f', "", None], ["a b", "c,d", 'e"f', "", None]),
    ("json", "json", psycopg2.extras.Json({"a": [1, 2.5, None], "b": "é"}), {"a": [1, 2.5, None], "b": "é"}),
]


LITERAL_RESULT = {
    "float": decimal.Decimal("3.141592653589793"),
    "json": '{"a": [1, 2.5, null], "b": "\\u00e9"}',
}


def norm(v):
    """bytea comes back as memoryview; compare its bytes."""
    return bytes(v) if isinstance(v, memoryview) else v


def check_params_roundtrip():
    conn = connect()
    psycopg2.extras.register_uuid(conn_or_curs=conn)
    drop(conn, "pyc_types")
    cur = conn.cursor()
    cols = ", ".join("c_%s %s" % (name, typ) for name, typ, _, _ in VALUES)
    cur.execute("CREATE TABLE pyc_types (%s)" % cols)
    cur.execute("INSERT INTO pyc_types VALUES (%s)" % ", ".join(["%s"] * len(VALUES)), [v for _, _, v, _ in VALUES])
    eq("INSERT rowcount", 1, cur.rowcount)
    conn.commit()
    cur.execute("SELECT * FROM pyc_types")
    row = cur.fetchone()
    for (name, typ, _, want), got in zip(VALUES, row):
        if typ == "bytea":
            truth("%s: bytea not returned as memoryview but %s" % (name, type(got).__name__), isinstance(got, memoryview))
        eq("column c_%s (%s)" % (name, typ), want, norm(got))
        if name == "datetime_aware" and isinstance(got, datetime.datetime):
            eq("timestamptz utcoffset in a UTC session", datetime.timedelta(0), got.utcoffset())
    # The same values as literals in a SELECT list (psycopg2 interpolates
    # them client-side, e.g. '...'::timestamptz, ARRAY[...]).
    cur.execute("SELECT " + ", ".join(["%s"] * len(VALUES)), [v for _, _, v, _ in VALUES])
    row = cur.fetchone()
    for (name, typ, _, want), got in zip(VALUES, row):
        # An unadorned float literal is numeric in PostgreSQL, and Json
        # is sent as a string literal without a cast, so it stays text.
        want = LITERAL_RESULT.get(name, want)
        eq("literal %s" % name, want, norm(got))
    # WHERE with parameters of every type finds the row.
    preds = []
    args = []
    for name, typ, v, _ in VALUES:
        if name in ("none", "json", "float"):
            continue
        preds.append("c_%s = %%s" % name)
        args.append(v)
    cur.execute("SELECT count(*) FROM pyc_types WHERE " + " AND ".join(preds) + " AND c_none IS NULL", args)
    eq("rows matching every typed parameter", 1, cur.fetchone()[0])
    # timestamptz follows the session time zone.
    cur.execute("SET TIME ZONE 'Asia/Kolkata'")
    cur.execute("SELECT c_datetime_aware, c_datetime_aware::text FROM pyc_types")
    got, text = cur.fetchone()
    eq("timestamptz in Asia/Kolkata", datetime.datetime(2024, 2, 29, 16, 44, 15, 123456,
                                                         tzinfo=datetime.timezone(datetime.timedelta(hours=5, minutes=30))), got)
    if isinstance(got, datetime.datetime):
        eq("timestamptz utcoffset in Asia/Kolkata", datetime.timedelta(hours=5, minutes=30), got.utcoffset())
    eq("timestamptz text in Asia/Kolkata", "2024-02-29 16:44:15.123456+05:30", text)
    conn.rollback()
    cur.execute("DROP TABLE pyc_types")
    conn.commit()
    conn.close()


def check_jsonb():
    conn = connect()
    cur = conn.cursor()
    cur.execute("SELECT %s::jsonb, %s::jsonb -> 'a'", [psycopg2.extras.Json({"b": 1, "a": [1, "x"]}), psycopg2.extras.Json({"a": 7})])
    eq("jsonb round trip", ({"a": [1, "x"], "b": 1}, 7), cur.fetchone())
    eq("jsonb type_code", 3802, cur.description[0].type_code)
    conn.close()


def check_description():
    conn = connect()
    drop(conn, "pyc_desc")
    cur = conn.cursor()
    cur.execute("CREATE TABLE pyc_desc (i int, b bigint, s smallint, f float8, r real, n numeric(12,4), t text, "
                "v varchar(20), bo boolean, bya bytea, d date, ts timestamp, tz timestamptz, tm time, iv interval, "
                "u uuid, ai int[], tarr text[], j json)")
    cur.execute("SELECT *, i + 1 AS expr, 'x'::text FROM pyc_desc")
    want = [("i", 23), ("b", 20), ("s", 21), ("f", 701), ("r", 700), ("n", 1700), ("t", 25), ("v", 1043),
            ("bo", 16), ("bya", 17), ("d", 1082), ("ts", 1114), ("tz", 1184), ("tm", 1083), ("iv", 1186),
            ("u", 2950), ("ai", 1007), ("tarr", 1009), ("j", 114), ("expr", 23), ("text", 25)]
    got = [(c.name, c.type_code) for c in cur.description]
    eq("description (name, type_code)", want, got)
    if len(cur.description) == len(want):
        n = cur.description[5]
        # precision/scale come from the type modifier in RowDescription.
        eq("numeric(12,4) precision", 12, n.precision)
        eq("numeric(12,4) scale", 4, n.scale)
        eq("int internal_size", 4, cur.description[0].internal_size)
        eq("bigint internal_size", 8, cur.description[1].internal_size)
        eq("text internal_size", -1, cur.description[6].internal_size)
        # table_oid/table_column identify the source column of a result.
        d0 = cur.description[0]
        eq("table_oid of column i", scalar(conn, "SELECT 'pyc_desc'::regclass::oid"), d0.table_oid)
        eq("table_column of column i", 1, d0.table_column)
        eq("table_column of an expression", None, cur.description[19].table_column)
    eq("rowcount of empty SELECT", 0, cur.rowcount)
    eq("fetchall of empty SELECT", [], cur.fetchall())
    cur.execute("DROP TABLE pyc_desc")
    conn.commit()
    conn.close()


COPY_TABLE = "CREATE TABLE pyc_copy (id int, name text, amount numeric(10,2), note text, ts timestamp)"
CSV_IN = ('id,name,amount,note,ts\n'
          '1,plain,1.50,,2024-01-02 03:04:05\n'
          '2,"comma, inside","-2","""quoted""",2024-02-29 00:00:00.5\n'
          '3,"multi\nline",0,"",\n'
          '4,tab\there,1234567.89,é€,2024-12-31 23:59:59\n')
TEXT_IN = ('5\tback\\\\slash\t3.25\t\\N\t2024-03-01 12:00:00\n'
           '6\tesc\\ttab\\nnl\t\\N\tcr\\rhere\t\\N\n'
           '7\t\t0.01\tlast\t2024-03-02 00:00:01\n')
# What PostgreSQL exports for the rows above, ordered by id.
TEXT_OUT = ('1\tplain\t1.50\t\\N\t2024-01-02 03:04:05\n'
            '2\tcomma, inside\t-2.00\t"quoted"\t2024-02-29 00:00:00.5\n'
            '3\tmulti\\nline\t0.00\t\t\\N\n'
            '4\ttab\\there\t1234567.89\té€\t2024-12-31 23:59:59\n'
            '5\tback\\\\slash\t3.25\t\\N\t2024-03-01 12:00:00\n'
            '6\tesc\\ttab\\nnl\t\\N\tcr\\rhere\t\\N\n'
            '7\t\t0.01\tlast\t2024-03-02 00:00:01\n')
CSV_OUT = ('id,name,amount,note,ts\n'
           '1,plain,1.50,,2024-01-02 03:04:05\n'
           '2,"comma, inside",-2.00,"""quoted""",2024-02-29 00:00:00.5\n'
           '3,"multi\nline",0.00,"",\n'
           '4,tab\there,1234567.89,é€,2024-12-31 23:59:59\n'
           '5,back\\slash,3.25,,2024-03-01 12:00:00\n'
           '6,"esc\ttab\nnl",,"cr\rhere",\n'
           '7,"",0.01,last,2024-03-02 00:00:01\n')


def check_copy_expert():
    conn = connect()
    drop(conn, "pyc_copy")
    cur = conn.cursor()
    cur.execute(COPY_TABLE)
    cur.copy_expert("COPY pyc_copy FROM STDIN WITH (FORMAT csv, HEADER true)", io.StringIO(CSV_IN))
    eq("COPY FROM csv rowcount", 4, cur.rowcount)
    cur.copy_expert("COPY pyc_copy FROM STDIN", io.StringIO(TEXT_IN))
    eq("COPY FROM text rowcount", 3, cur.rowcount)
    conn.commit()
    cur.execute("SELECT id, name, amount, note, ts FROM pyc_copy ORDER BY id")
    rows = cur.fetchall()
    want = [
        (1, "plain", decimal.Decimal("1.50"), None, datetime.datetime(2024, 1, 2, 3, 4, 5)),
        (2, "comma, inside", decimal.Decimal("-2.00"), '"quoted"', datetime.datetime(2024, 2, 29, 0, 0, 0, 500000)),
        (3, "multi\nline", decimal.Decimal("0.00"), "", None),
        (4, "tab\there", decimal.Decimal("1234567.89"), "é€", datetime.datetime(2024, 12, 31, 23, 59, 59)),
        (5, "back\\slash", decimal.Decimal("3.25"), None, datetime.datetime(2024, 3, 1, 12, 0, 0)),
        (6, "esc\ttab\nnl", None, "cr\rhere", None),
        (7, "", decimal.Decimal("0.01"), "last", datetime.datetime(2024, 3, 2, 0, 0, 1)),
    ]
    eq("row count after COPY FROM", len(want), len(rows))
    for w, g in zip(want, rows):
        eq("row %d after COPY FROM" % w[0], w, g)
    for label, sql, expected in [
        ("text", "COPY (SELECT * FROM pyc_copy ORDER BY id) TO STDOUT", TEXT_OUT),
        ("csv", "COPY (SELECT * FROM pyc_copy ORDER BY id) TO STDOUT WITH (FORMAT csv, HEADER)", CSV_OUT),
        ("csv_delim_null", "COPY (SELECT id, note FROM pyc_copy ORDER BY id) TO STDOUT WITH (FORMAT csv, DELIMITER ';', NULL 'NULL', FORCE_QUOTE (note))", None),
        ("table_text", "COPY pyc_copy (id, name) TO STDOUT", None),
    ]:
        buf = io.StringIO()
        cur.copy_expert(sql, buf)
        out = buf.getvalue()
        copy_out.append(("copy_expert " + label, out))
        eq("COPY TO %s rowcount" % label, 7, cur.rowcount)
        if expected is not None:
            eq("COPY TO STDOUT %s text" % label, expected, out)
    cur.execute("DROP TABLE pyc_copy")
    conn.commit()
    conn.close()


def check_copy_errors():
    conn = connect()
    drop(conn, "pyc_copy_err")
    cur = conn.cursor()
    cur.execute("CREATE TABLE pyc_copy_err (id int, v text)")
    conn.commit()
    try:
        cur.copy_expert("COPY pyc_copy_err FROM STDIN", io.StringIO("1\tok\nnot_a_number\tbad\n"))
        current.append("COPY FROM with a bad integer succeeded")
    except psycopg2.Error as e:
        eq("COPY FROM bad integer pgcode", "22P02", e.pgcode)
    conn.rollback()
    eq("rows after failed COPY FROM", 0, scalar(conn, "SELECT count(*) FROM pyc_copy_err"))
    cur.execute("DROP TABLE pyc_copy_err")
    conn.commit()
    conn.close()


def check_copy_from_bad_row():
    conn = connect()
    drop(conn, "pyc_copy3")
    cur = conn.cursor()
    cur.execute("CREATE TABLE pyc_copy3 (a int, b text, c float8)")
    conn.commit()
    # Row 3 has an extra field: the whole COPY fails and nothing stays.
    try:
        cur.copy_from(io.StringIO("1|one|1.5\n2|\\N|2.25\n3|th|ree|\\N\n"), "pyc_copy3", sep="|")
        current.append("COPY with an extra field succeeded")
    except psycopg2.Error as e:
        eq("COPY with an extra field pgcode", "22P04", e.pgcode)
    conn.rollback()
    eq("rows after COPY with a bad row", 0, scalar(conn, "SELECT count(*) FROM pyc_copy3"))
    cur.execute("DROP TABLE pyc_copy3")
    conn.commit()
    conn.close()


def check_copy_from_to_ok():
    conn = connect()
    drop(conn, "pyc_copy2")
    cur = conn.cursor()
    cur.execute("CREATE TABLE pyc_copy2 (a int, b text, c float8)")
    cur.copy_from(io.StringIO("1|one|1.5\n2|NULL|2.25\n3|t\\|x|-0.5\n"), "pyc_copy2", sep="|", null="NULL")
    eq("copy_from rowcount", 3, cur.rowcount)
    cur.copy_from(io.StringIO("4\tfour\n"), "pyc_copy2", columns=("a", "b"))
    conn.commit()
    cur.execute("SELECT a, b, c FROM pyc_copy2 ORDER BY a")
    eq("rows after copy_from", [(1, "one", 1.5), (2, None, 2.25), (3, "t|x", -0.5), (4, "four", None)], cur.fetchall())
    buf = io.StringIO()
    cur.copy_to(buf, "pyc_copy2", sep="|", null="NULL")
    copy_out.append(("copy_to pipe", buf.getvalue()))
    eq("copy_to text", "1|one|1.5\n2|NULL|2.25\n3|t\\|x|-0.5\n4|four|NULL\n", buf.getvalue())
    buf = io.StringIO()
    cur.copy_to(buf, "pyc_copy2", columns=("b", "a"))
    copy_out.append(("copy_to columns", buf.getvalue()))
    eq("copy_to columns text", "one\t1\n\\N\t2\nt|x\t3\nfour\t4\n", buf.getvalue())
    cur.execute("DROP TABLE pyc_copy2")
    conn.commit()
    conn.close()


def check_named_cursor():
    conn = connect()
    drop(conn, "pyc_big")
    cur = conn.cursor()
    cur.execute("CREATE TABLE pyc_big AS SELECT g AS id, 'r' || g AS v FROM generate_series(1, 10000) g")
    conn.commit()
    # A named cursor is a server-side DECLARE ... CURSOR; iteration fetches
    # itersize rows per FETCH FORWARD.
    nc = conn.cursor(name="c")
    nc.itersize = 1000
    nc.execute("SELECT id, v FROM pyc_big ORDER BY id")
    n = 0
    total = 0
    ok = True
    for row in nc:
        n += 1
        total += row[0]
        if row != (n, "r%d" % n):
            ok = False
    eq("rows through named cursor", 10000, n)
    eq("sum through named cursor", 50005000, total)
    truth("named cursor rows out of order", ok)
    truth("named cursor description missing", nc.description is not None and [d.name for d in nc.description] == ["id", "v"])
    nc.close()
    # fetchone/fetchmany/fetchall on a named cursor.
    nc = conn.cursor(name="c2")
    nc.execute("SELECT id FROM pyc_big WHERE id <= %s ORDER BY id", (2500,))
    eq("fetchone", (1,), nc.fetchone())
    many = nc.fetchmany(499)
    eq("fetchmany(499) count", 499, len(many))
    eq("fetchmany(499) last", (500,), many[-1] if many else None)
    nc.scroll(1000)  # MOVE FORWARD 1000
    eq("fetchone after scroll(1000)", (1501,), nc.fetchone())
    rest = nc.fetchall()
    eq("fetchall rest", 999, len(rest))
    eq("fetchmany after end", [], nc.fetchmany(10))
    nc.close()
    # Closing the cursor leaves the transaction usable; a plain query and a
    # second named cursor can interleave.
    a = conn.cursor(name="ca")
    b = conn.cursor(name="cb")
    a.execute("SELECT id FROM pyc_big WHERE id <= 30 ORDER BY id")
    b.execute("SELECT id FROM pyc_big WHERE id > 9970 ORDER BY id")
    got_a, got_b = [], []
    for _ in range(3):
        got_a += [r[0] for r in a.fetchmany(10)]
        got_b += [r[0] for r in b.fetchmany(10)]
        eq("plain query between fetches", 10000, scalar(conn, "SELECT count(*) FROM pyc_big"))
    eq("interleaved named cursor a", list(range(1, 31)), got_a)
    eq("interleaved named cursor b", list(range(9971, 10001)), got_b)
    a.close()
    b.close()
    conn.commit()
    # WITH HOLD cursors survive the commit.
    h = conn.cursor(name="held", withhold=True)
    h.execute("SELECT id FROM pyc_big WHERE id <= 100 ORDER BY id")
    first = h.fetchmany(40)
    conn.commit()
    rest = h.fetchall()
    eq("WITH HOLD cursor rows across commit", list(range(1, 101)), [r[0] for r in first + rest])
    h.close()
    cur.execute("DROP TABLE pyc_big")
    conn.commit()
    conn.close()


def check_errors():
    conn = connect()
    conn.autocommit = True
    drop(conn, "pyc_err")
    cur = conn.cursor()
    cur.execute("CREATE TABLE pyc_err (id int PRIMARY KEY, v text NOT NULL)")
    cur.execute("INSERT INTO pyc_err VALUES (1, 'x')")
    e = expect_error(cur, "SELECT * FROM pyc_no_such_table", "42P01", psycopg2.errors.UndefinedTable)
    if e is not None:
        eq("42P01 message", 'relation "pyc_no_such_table" does not exist', e.diag.message_primary)
        eq("42P01 severity", "ERROR", e.diag.severity)
        eq("42P01 statement_position", "15", e.diag.statement_position)
    e = expect_error(cur, "INSERT INTO pyc_err VALUES (1, 'y')", "23505", psycopg2.errors.UniqueViolation)
    if e is not None:
        eq("23505 message", 'duplicate key value violates unique constraint "pyc_err_pkey"', e.diag.message_primary)
        eq("23505 detail", "Key (id)=(1) already exists.", e.diag.message_detail)
        eq("23505 constraint_name", "pyc_err_pkey", e.diag.constraint_name)
        eq("23505 table_name", "pyc_err", e.diag.table_name)
        eq("23505 schema_name", "public", e.diag.schema_name)
    e = expect_error(cur, "INSERT INTO pyc_err VALUES (2, NULL)", "23502", psycopg2.errors.NotNullViolation)
    if e is not None:
        eq("23502 column_name", "v", e.diag.column_name)
    e = expect_error(cur, "SELECT 1/0", "22012", psycopg2.errors.DivisionByZero)
    if e is not None:
        eq("22012 message", "division by zero", e.diag.message_primary)
    expect_error(cur, "SELECT %s::int / 0", "22012", psycopg2.errors.DivisionByZero, (5,))
    e = expect_error(cur, "SELECT 1 FROM WHERE x", "42601", psycopg2.errors.SyntaxError)
    if e is not None:
        eq("42601 message", 'syntax error at or near "WHERE"', e.diag.message_primary)
        eq("42601 statement_position", "15", e.diag.statement_position)
    e = expect_error(cur, "SELEC 1", "42601", psycopg2.errors.SyntaxError)
    if e is not None:
        eq("SELEC statement_position", "1", e.diag.statement_position)
    e = expect_error(cur, "SELECT no_such_col FROM pyc_err", "42703", psycopg2.errors.UndefinedColumn)
    if e is not None:
        eq("42703 statement_position", "8", e.diag.statement_position)
    expect_error(cur, "SELECT 'abc'::int", "22P02", psycopg2.errors.InvalidTextRepresentation)
    cur.execute("SELECT count(*) FROM pyc_err")
    eq("connection usable after errors", 1, cur.fetchone()[0])
    cur.execute("DROP TABLE pyc_err")
    conn.close()


def check_notices_and_status():
    conn = connect()
    conn.autocommit = True
    cur = conn.cursor()
    cur.execute("DROP TABLE IF EXISTS pyc_never_there")
    eq("DROP IF EXISTS statusmessage", "DROP TABLE", cur.statusmessage)
    truth("no NOTICE for DROP TABLE IF EXISTS of a missing table: %r" % conn.notices,
          any('table "pyc_never_there" does not exist, skipping' in n for n in conn.notices))
    cur.execute("CREATE TABLE pyc_st (id int)")
    eq("CREATE TABLE statusmessage", "CREATE TABLE", cur.statusmessage)
    cur.execute("INSERT INTO pyc_st SELECT generate_series(1, 5)")
    eq("INSERT statusmessage", "INSERT 0 5", cur.statusmessage)
    cur.execute("UPDATE pyc_st SET id = id + 1 WHERE id > 3")
    eq("UPDATE statusmessage", "UPDATE 2", cur.statusmessage)
    cur.execute("SELECT * FROM pyc_st")
    eq("SELECT statusmessage", "SELECT 5", cur.statusmessage)
    cur.execute("DELETE FROM pyc_st")
    eq("DELETE statusmessage", "DELETE 5", cur.statusmessage)
    cur.execute("DROP TABLE pyc_st")
    conn.close()


check("connect", check_connect)
check("transactions", check_transactions)
check("autocommit", check_autocommit)
check("executemany", check_executemany)
check("params_roundtrip", check_params_roundtrip)
check("jsonb", check_jsonb)
check("cursor_description", check_description)
check("copy_expert", check_copy_expert)
check("copy_errors", check_copy_errors)
check("copy_from_bad_row", check_copy_from_bad_row)
check("copy_from_copy_to", check_copy_from_to_ok)
check("named_cursors", check_named_cursor)
check("errors", check_errors)
check("notices_and_status", check_notices_and_status)

with open(os.path.join(OUTDIR, "copy_out.txt"), "w", encoding="utf-8", newline="") as f:
    for label, text in copy_out:
        f.write("=== %s (%d bytes)\n%s" % (label, len(text.encode("utf-8")), text))

print()
if failures:
    print("%d PSYCOPG2 CHECK(S) FAILED: %s" % (len(failures), ", ".join(failures)))
    sys.exit(1)
print("ALL PSYCOPG2 CHECKS PASSED")
