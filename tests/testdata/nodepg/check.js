// check.js drives node-postgres (with pg-cursor and pg-copy-streams)
// against one server and checks what a Node.js application sees. It runs
// every named check, prints PASS/FAIL per check with expected-vs-got details
// and exits 1 if any check failed. tests/nodepg_test.go runs it against
// PostgreSQL 15 first (every check must pass there: that proves the
// expectations) and then against hopsql.
//
// Usage: node check.js HOST PORT USER DBNAME
'use strict';

const assert = require('node:assert');
const { pipeline } = require('node:stream/promises');
const { Readable, Writable } = require('node:stream');
const pg = require('pg');
const Cursor = require('pg-cursor');
const { from: copyFrom, to: copyTo } = require('pg-copy-streams');

const [host, port, user, database] = process.argv.slice(2);
const config = { host, port: Number(port), user, database, connectionTimeoutMillis: 20000 };

let current = [];
const failures = [];

// eq records a failure (and lets the check go on) when got is not deeply
// and strictly equal to want: 1 and '1' differ.
function eq(what, want, got) {
  try {
    assert.deepStrictEqual(got, want);
  } catch (e) {
    current.push(`${what}: expected ${fmt(want)}, got ${fmt(got)}`);
  }
}

function fmt(v) {
  if (v instanceof Date) return `Date(${v.toISOString()})`;
  if (Buffer.isBuffer(v)) return `Buffer(${v.toString('hex')})`;
  return `${JSON.stringify(v)} (${typeof v})`;
}

async function expectError(client, what, query, code, values) {
  try {
    await client.query(query, values);
  } catch (e) {
    eq(`${what}: SQLSTATE`, code, e.code);
    return e;
  }
  current.push(`${what}: expected an error with SQLSTATE ${code}, but it succeeded`);
  return null;
}

async function connect() {
  const c = new pg.Client(config);
  await c.connect();
  return c;
}

const CHECK_TIMEOUT = 60000; // a check that takes longer means the server hangs

async function check(name, fn) {
  current = [];
  let timer;
  const hung = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${CHECK_TIMEOUT / 1000}s (hung)`)), CHECK_TIMEOUT);
  });
  try {
    await Promise.race([fn(), hung]);
  } catch (e) {
    current.push(`unexpected ${e.name}${e.code ? ` [SQLSTATE ${e.code}]` : ''}: ${e.message}\n${(e.stack || '').split('\n').slice(1, 4).join('\n')}`);
  } finally {
    clearTimeout(timer);
  }
  if (current.length === 0) {
    console.log('PASS', name);
    return;
  }
  console.log('FAIL', name);
  for (const m of current) console.log('     -', m);
  failures.push(name);
}

// ------------------------------------------------------------------ checks

async function checkConnect() {
  const c = await connect();
  try {
    const r = await c.query("SELECT 1 AS one, 'two' AS two");
    eq('rows', [{ one: 1, two: 'two' }], r.rows);
    eq('command', 'SELECT', r.command);
    eq('rowCount', 1, r.rowCount);
    eq('fields', [['one', 23], ['two', 25]], r.fields.map((f) => [f.name, f.dataTypeID]));
    const v = await c.query('SHOW server_version');
    eq('server_version major', '15', v.rows[0].server_version.split('.')[0]);
    eq('DateStyle', 'ISO, MDY', (await c.query('SHOW DateStyle')).rows[0].DateStyle);
    const empty = await c.query('');
    eq('empty query: rows', [], empty.rows);
    eq('empty query: command', null, empty.command);
  } finally {
    await c.end();
  }
}

async function checkTypes() {
  const c = await connect();
  try {
    await c.query("SET TimeZone = 'UTC'");
    const r = await c.query(`SELECT 1::int2 AS i2, 2::int4 AS i4, 9007199254740993::int8 AS i8, 1.5::float4 AS f4,
      0.1::float8 AS f8, 12.50::numeric(10,2) AS n, true AS b, 'héllo ✓'::text AS t, 'v'::varchar(3) AS v,
      '\\x00ff10'::bytea AS bytes, DATE '2024-03-05' AS d, TIMESTAMP '2024-03-05 14:07:09.123' AS ts,
      TIMESTAMPTZ '2024-03-05 14:07:09+02' AS tz, TIME '10:11:12' AS tm, INTERVAL '1 day 02:03:04' AS iv,
      'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'::uuid AS u, '{"b": [1, 2], "a": null}'::json AS j,
      '{"b": [1, 2], "a": null}'::jsonb AS jb, ARRAY[1, NULL, 3] AS ai, ARRAY['x y', NULL, 'q"t', ''] AS at,
      NULL::int AS nul`);
    const row = r.rows[0];
    eq('int2', 1, row.i2);
    eq('int4', 2, row.i4);
    eq('int8 (a string: beyond JavaScript numbers)', '9007199254740993', row.i8);
    eq('float4', 1.5, row.f4);
    eq('float8', 0.1, row.f8);
    eq('numeric(10,2) (a string)', '12.50', row.n);
    eq('bool', true, row.b);
    eq('text', 'héllo ✓', row.t);
    eq('varchar', 'v', row.v);
    eq('bytea', Buffer.from([0, 255, 16]), row.bytes);
    eq('date (local midnight)', new Date(2024, 2, 5).getTime(), row.d.getTime());
    eq('timestamp (local time)', new Date(2024, 2, 5, 14, 7, 9, 123).getTime(), row.ts.getTime());
    eq('timestamptz', '2024-03-05T12:07:09.000Z', row.tz.toISOString());
    eq('time', '10:11:12', row.tm);
    eq('interval', { days: 1, hours: 2, minutes: 3, seconds: 4 }, { ...row.iv });
    eq('uuid', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', row.u);
    eq('json', { b: [1, 2], a: null }, row.j);
    eq('jsonb', { a: null, b: [1, 2] }, row.jb);
    eq('int[]', [1, null, 3], row.ai);
    eq('text[]', ['x y', null, 'q"t', ''], row.at);
    eq('NULL', null, row.nul);
    eq('type OIDs', [21, 23, 20, 700, 701, 1700, 16, 25, 1043, 17, 1082, 1114, 1184, 1083, 1186, 2950, 114, 3802, 1007, 1009, 23],
      r.fields.map((f) => f.dataTypeID));
  } finally {
    await c.end();
  }
}

async function checkParams() {
  const c = await connect();
  try {
    await c.query("SET TimeZone = 'UTC'");
    const r = await c.query(
      `SELECT $1::int + $2 AS sum, $3::text AS t, $4::bool AS b, $5::timestamptz AS ts, $6::bytea AS bytes,
        $7::int[] AS arr, $8::jsonb -> 'k' AS jk, $9::text IS NULL AS isnull, $10::numeric * 2 AS n, $11::text[] AS tarr,
        $12 * 2 AS untyped_n`,
      [1, 2, "it's", false, new Date(Date.UTC(2024, 0, 2, 3, 4, 5)), Buffer.from('hi'), [4, 5, 6], { k: 'v' }, null,
        '1.25', ['a,b', 'c"d', null], 21]);
    const row = r.rows[0];
    eq('int + untyped parameter', 3, row.sum);
    eq('text', "it's", row.t);
    eq('bool', false, row.b);
    eq('Date parameter', '2024-01-02T03:04:05.000Z', row.ts.toISOString());
    eq('Buffer parameter', Buffer.from('hi'), row.bytes);
    eq('array parameter', [4, 5, 6], row.arr);
    eq('object parameter as jsonb', 'v', row.jk);
    eq('null parameter', true, row.isnull);
    eq('numeric parameter', 2.5, Number(row.n));
    eq('unknown parameter times an integer', 42, row.untyped_n);
    eq('text[] parameter', ['a,b', 'c"d', null], row.tarr);
    const inferred = await c.query('SELECT $1 AS x', ['untyped']);
    eq('parameter of unknown type', 'untyped', inferred.rows[0].x);
    eq('its type', 25, inferred.fields[0].dataTypeID);
  } finally {
    await c.end();
  }
}

// numeric keeps each value's scale in PostgreSQL (1.25 * 2 is 2.50);
// hopsql's unconstrained numeric does not (docs/sql-compat.md).
async function checkNumericScale() {
  const c = await connect();
  try {
    const r = await c.query('SELECT $1::numeric * 2 AS n, 1.50::numeric AS m', ['1.25']);
    eq('numeric scale', { n: '2.50', m: '1.50' }, r.rows[0]);
  } finally {
    await c.end();
  }
}

async function checkPrepared() {
  const c = await connect();
  try {
    await c.query('DROP TABLE IF EXISTS nodepg_items');
    await c.query('CREATE TABLE nodepg_items (id int PRIMARY KEY, name text, qty int)');
    for (let i = 1; i <= 20; i++) {
      await c.query({ name: 'ins', text: 'INSERT INTO nodepg_items VALUES ($1, $2, $3)', values: [i, `item ${i}`, i * 10] });
    }
    const got = [];
    for (const id of [3, 7, 20, 99]) {
      const r = await c.query({ name: 'get', text: 'SELECT name, qty FROM nodepg_items WHERE id = $1', values: [id] });
      got.push(r.rows[0] || null);
    }
    eq('named prepared lookups', [{ name: 'item 3', qty: 30 }, { name: 'item 7', qty: 70 }, { name: 'item 20', qty: 200 }, null], got);
    const arr = await c.query({ text: 'SELECT id, name FROM nodepg_items WHERE id <= $1 ORDER BY id', values: [2], rowMode: 'array' });
    eq("rowMode 'array'", [[1, 'item 1'], [2, 'item 2']], arr.rows);
    const upd = await c.query('UPDATE nodepg_items SET qty = qty + 1 WHERE id > $1', [15]);
    eq('UPDATE command', 'UPDATE', upd.command);
    eq('UPDATE rowCount', 5, upd.rowCount);
    const del = await c.query('DELETE FROM nodepg_items WHERE id > 18');
    eq('DELETE rowCount', 2, del.rowCount);
    // A bulk insert as Node.js applications write it: one array per column.
    const bulk = await c.query('INSERT INTO nodepg_items (id, name, qty) SELECT * FROM unnest($1::int[], $2::text[], $3::int[])',
      [[101, 102, 103], ['bulk a', null, 'bulk "c"'], [1, 2, null]]);
    eq('bulk INSERT … unnest rowCount', 3, bulk.rowCount);
    const back = await c.query('SELECT id, name, qty FROM nodepg_items WHERE id > 100 ORDER BY id');
    eq('rows inserted through unnest', [{ id: 101, name: 'bulk a', qty: 1 }, { id: 102, name: null, qty: 2 }, { id: 103, name: 'bulk "c"', qty: null }], back.rows);
    await c.query('DELETE FROM nodepg_items WHERE id > 100');
    const multi = await c.query('SELECT 1 AS a; SELECT 2 AS b, 3 AS c; SELECT count(*)::int AS n FROM nodepg_items');
    eq('multi-statement query', [[{ a: 1 }], [{ b: 2, c: 3 }], [{ n: 18 }]], multi.map((x) => x.rows));
    await c.query('DROP TABLE nodepg_items');
  } finally {
    await c.end();
  }
}

async function checkTransactions() {
  const c = await connect();
  const other = await connect();
  try {
    await c.query('DROP TABLE IF EXISTS nodepg_tx');
    await c.query('CREATE TABLE nodepg_tx (id int PRIMARY KEY, v text)');
    await c.query('BEGIN');
    await c.query("INSERT INTO nodepg_tx VALUES (1, 'a')");
    eq('uncommitted row invisible to another session', 0, (await other.query('SELECT count(*)::int AS n FROM nodepg_tx')).rows[0].n);
    await c.query('COMMIT');
    eq('committed row visible', 1, (await other.query('SELECT count(*)::int AS n FROM nodepg_tx')).rows[0].n);
    await c.query('BEGIN');
    await c.query("INSERT INTO nodepg_tx VALUES (2, 'b')");
    await expectError(c, 'duplicate key', "INSERT INTO nodepg_tx VALUES (1, 'dup')", '23505');
    await expectError(c, 'statement in an aborted transaction', 'SELECT 1', '25P02');
    await c.query('ROLLBACK');
    eq('after ROLLBACK', [{ id: 1, v: 'a' }], (await c.query('SELECT * FROM nodepg_tx ORDER BY id')).rows);
    await c.query('BEGIN');
    await c.query("INSERT INTO nodepg_tx VALUES (3, 'c')");
    await c.query('SAVEPOINT s1');
    await expectError(c, 'error after a savepoint', 'SELECT 1/0', '22012');
    await c.query('ROLLBACK TO SAVEPOINT s1');
    await c.query("INSERT INTO nodepg_tx VALUES (4, 'd')");
    await c.query('COMMIT');
    eq('rows after a savepoint rollback', [1, 3, 4], (await c.query('SELECT id FROM nodepg_tx ORDER BY id')).rows.map((x) => x.id));
    await c.query('DROP TABLE nodepg_tx');
  } finally {
    await c.end();
    await other.end();
  }
}

async function checkErrors() {
  const c = await connect();
  try {
    const syntax = await expectError(c, 'syntax error', 'SELEC 1', '42601');
    if (syntax) eq('syntax error position', '1', syntax.position);
    await expectError(c, 'division by zero', 'SELECT 1/0', '22012');
    await expectError(c, 'missing table', 'SELECT * FROM nodepg_never_there', '42P01');
    await expectError(c, 'missing column', 'SELECT nope FROM (SELECT 1 AS a) s', '42703');
    await expectError(c, 'bad integer', "SELECT 'x'::int", '22P02');
    await expectError(c, 'bad parameter', 'SELECT $1::int', '22P02', ['abc']);
    await expectError(c, 'too many parameters', 'SELECT $1::int', '08P01', [1, 2]);
    const ok = await c.query('SELECT 42 AS answer');
    eq('the session after errors', 42, ok.rows[0].answer);
  } finally {
    await c.end();
  }
}

async function checkNotices() {
  const c = await connect();
  const notices = [];
  c.on('notice', (n) => notices.push(n.message));
  try {
    await c.query('DROP TABLE IF EXISTS nodepg_never_there');
    eq('NOTICE of DROP TABLE IF EXISTS', ['table "nodepg_never_there" does not exist, skipping'], notices);
  } finally {
    await c.end();
  }
}

async function checkPool() {
  const pool = new pg.Pool({ ...config, max: 4 });
  try {
    const results = await Promise.all(Array.from({ length: 40 }, (_, i) => pool.query('SELECT $1::int * 2 AS v', [i])));
    eq('40 queries over a pool of 4', Array.from({ length: 40 }, (_, i) => i * 2), results.map((r) => r.rows[0].v));
    const big = await pool.query('SELECT count(*)::int AS n, sum(x)::text AS s FROM generate_series(1, 100000) AS g(x)');
    eq('aggregate over 100,000 rows', { n: 100000, s: '5000050000' }, big.rows[0]);
    const rows = await pool.query('SELECT x, x::text AS t FROM generate_series(1, 20000) AS g(x)');
    eq('20,000-row result', 20000, rows.rows.length);
    eq('its last row', { x: 20000, t: '20000' }, rows.rows[19999]);
  } finally {
    await pool.end();
  }
}

async function checkCursor() {
  const c = await connect();
  try {
    // pg-cursor executes a portal a few rows at a time (Execute with a row
    // limit, PortalSuspended), outside a transaction block too.
    const cursor = c.query(new Cursor('SELECT x FROM generate_series(1, 10) AS g(x) WHERE x > $1 ORDER BY x', [2]));
    const batches = [];
    for (;;) {
      const rows = await cursor.read(3);
      if (rows.length === 0) break;
      batches.push(rows.map((r) => r.x));
    }
    await cursor.close();
    eq('batches of 3', [[3, 4, 5], [6, 7, 8], [9, 10]], batches);
    eq('the session after the cursor', 1, (await c.query('SELECT 1 AS one')).rows[0].one);
  } finally {
    await c.end();
  }
}

async function checkCopy() {
  const c = await connect();
  try {
    await c.query('DROP TABLE IF EXISTS nodepg_copy');
    await c.query('CREATE TABLE nodepg_copy (id int, name text, score float8)');
    const lines = [];
    for (let i = 1; i <= 1000; i++) lines.push(`${i}\tname ${i}\t${i / 4}\n`);
    lines.push('1001\t\\N\t\\N\n');
    await pipeline(Readable.from(lines), c.query(copyFrom('COPY nodepg_copy FROM STDIN')));
    const n = await c.query('SELECT count(*)::int AS n, count(name)::int AS names, sum(score) AS s FROM nodepg_copy');
    eq('rows copied in', { n: 1001, names: 1000, s: 125125 }, n.rows[0]);
    const chunks = [];
    await pipeline(c.query(copyTo("COPY (SELECT * FROM nodepg_copy WHERE id > 998 ORDER BY id) TO STDOUT WITH (FORMAT csv, HEADER)")),
      new Writable({ write(chunk, _enc, cb) { chunks.push(chunk); cb(); } }));
    eq('COPY TO csv', 'id,name,score\n999,name 999,249.75\n1000,name 1000,250\n1001,,\n', Buffer.concat(chunks).toString());
    let failed = null;
    try {
      await pipeline(Readable.from(['1\tok\t1\n', 'x\tbad\t1\n']), c.query(copyFrom('COPY nodepg_copy FROM STDIN')));
    } catch (e) {
      failed = e;
    }
    eq('COPY of a bad row: SQLSTATE', '22P02', failed && failed.code);
    eq('nothing of the failed COPY kept', 1001, (await c.query('SELECT count(*)::int AS n FROM nodepg_copy')).rows[0].n);
    await c.query('DROP TABLE nodepg_copy');
  } finally {
    await c.end();
  }
}

async function main() {
  await check('connect', checkConnect);
  await check('types', checkTypes);
  await check('params', checkParams);
  await check('numeric_scale', checkNumericScale);
  await check('prepared', checkPrepared);
  await check('transactions', checkTransactions);
  await check('errors', checkErrors);
  await check('notices', checkNotices);
  await check('pool', checkPool);
  await check('cursor', checkCursor);
  await check('copy', checkCopy);
  console.log();
  if (failures.length > 0) {
    console.log(`${failures.length} NODE-POSTGRES CHECK(S) FAILED: ${failures.join(', ')}`);
    process.exit(1);
  }
  console.log('ALL NODE-POSTGRES CHECKS PASSED');
  process.exit(0);
}

main().catch((e) => {
  console.log('FAIL harness', e);
  process.exit(1);
});
