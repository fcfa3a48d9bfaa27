// Runs an Athena query file against an exported SessionTrail tree with DuckDB (an independent engine),
// loading the tree as the Athena DDL describes it, and prints the result rows as one JSON array.
//
//   node run-query.mjs --ddl deploy/athena/appstream_applications.ddl.sql --root OUT \
//        --query deploy/athena/queries/csv/5-top10-time.sql [--set "'?'='30'"]...
//
// What it emulates of Athena / Hive (the only adaptations; the query text itself is not changed except
// for the --set placeholder substitutions, which must each match):
// - The DDL is parsed for the table name, its columns (bigint or string) in order, the partition columns,
//   the SerDe (ROW FORMAT DELIMITED FIELDS TERMINATED BY 'c' or the OpenX JsonSerDe), the LOCATION's last
//   folder (looked up under --root) and 'skip.header.line.count'. Schema appstream_usage is created so
//   that "appstream_usage"."table" resolves as in Athena.
// - Files: every file under LOCATION/year=*/month=*/day=*/ (Hive partitions from the folder names).
//   Lines end at \n, \r\n or \r (Hadoop LineReader); the UTF-8 BOM is kept (it sits in the skipped header).
// - Delimited rows (LazySimpleSerDe): split on the delimiter with no quoting; missing trailing fields
//   are NULL, extra fields are dropped; a bigint that does not parse is NULL.
// - JSON rows (OpenX JsonSerDe): keys matched case-insensitively; a missing key is NULL.
// - from_iso8601_timestamp(s) is a DuckDB macro (CAST(s AS TIMESTAMPTZ)); session time zone UTC.
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';

function fail(message) {
  process.stderr.write(`run-query: ${message}\n`);
  process.exit(2);
}

const args = process.argv.slice(2);
const opts = { set: [] };
for (let i = 0; i < args.length; i += 2) {
  const key = args[i].replace(/^--/, '');
  if (args[i + 1] === undefined) fail(`${args[i]} needs a value`);
  if (key === 'set') opts.set.push(args[i + 1]); else opts[key] = args[i + 1];
}
for (const required of ['ddl', 'root', 'query']) if (!opts[required]) fail(`--${required} is required`);

// --- the DDL -------------------------------------------------------------------------------------------
const ddl = readFileSync(opts.ddl, 'utf8').replace(/^--.*$/gm, '');
const table = /CREATE\s+EXTERNAL\s+TABLE\s+`?(\w+)`?\.`?(\w+)`?\s*\(/i.exec(ddl) ?? fail('no CREATE EXTERNAL TABLE db.table( in the DDL');
const [schemaName, tableName] = [table[1], table[2]];
function columnList(text) {
  return [...text.matchAll(/`(\w+)`\s+(bigint|string)/gi)].map((m) => ({ name: m[1], type: m[2].toLowerCase() }));
}
const afterName = ddl.slice(table.index + table[0].length);
const partitionAt = afterName.search(/PARTITIONED\s+BY/i);
if (partitionAt < 0) fail('no PARTITIONED BY in the DDL');
const columns = columnList(afterName.slice(0, partitionAt));
const partitionText = /PARTITIONED\s+BY\s*\(([^)]*)\)/i.exec(afterName)[1];
const partitions = columnList(partitionText);
const json = /org\.openx\.data\.jsonserde\.JsonSerDe/.test(ddl);
const delimiter = json ? null : (/FIELDS\s+TERMINATED\s+BY\s+'([^']+)'/i.exec(ddl) ?? fail('no FIELDS TERMINATED BY'))[1];
const skip = Number((/'skip\.header\.line\.count'\s*=\s*'(\d+)'/.exec(ddl) ?? [0, '0'])[1]);
const location = (/LOCATION\s+'([^']+)'/i.exec(ddl) ?? fail('no LOCATION'))[1].replace(/\/+$/, '');
const folder = join(opts.root, location.slice(location.lastIndexOf('/') + 1));

// --- the files -----------------------------------------------------------------------------------------
function walk(dir) {
  let out = [];
  let names;
  try { names = readdirSync(dir).sort(); } catch { return out; }
  for (const name of names) {
    const path = join(dir, name);
    out = statSync(path).isDirectory() ? out.concat(walk(path)) : out.concat([path]);
  }
  return out;
}
const toBigInt = (text) => (text != null && /^[+-]?\d+$/.test(text) ? BigInt(text) : null);
const rows = [];
for (const file of walk(folder)) {
  const rel = file.slice(folder.length + 1).split(/[\\/]/);
  const parts = {};
  for (const segment of rel.slice(0, -1)) {
    const eq = segment.indexOf('=');
    if (eq > 0) parts[segment.slice(0, eq)] = segment.slice(eq + 1);
  }
  const text = new TextDecoder('utf-8', { ignoreBOM: true }).decode(readFileSync(file));
  const lines = text.split(/\r\n|\r|\n/);
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  lines.slice(skip).forEach((line, i) => {
    let values;
    if (json) {
      let object;
      try { object = JSON.parse(line); } catch (e) { fail(`${file}:${i + 1 + skip}: not JSON (${e.message})`); }
      const lower = Object.fromEntries(Object.entries(object).map(([k, v]) => [k.toLowerCase(), v]));
      values = columns.map((c) => (lower[c.name.toLowerCase()] ?? null));
      values = values.map((v) => (v === null ? null : String(v)));
    } else {
      const fields = line.split(delimiter);
      values = columns.map((_, c) => (c < fields.length ? fields[c] : null));
    }
    rows.push(columns.map((c, k) => (c.type === 'bigint' ? toBigInt(values[k]) : values[k]))
      .concat(partitions.map((p) => parts[p.name] ?? null)));
  });
}

// --- DuckDB ----------------------------------------------------------------------------------------------
const instance = await DuckDBInstance.create(':memory:');
const connection = await instance.connect();
await connection.run("SET TimeZone = 'UTC'");
await connection.run(`CREATE SCHEMA "${schemaName}"`);
await connection.run(`SET search_path = '${schemaName}'`);
await connection.run('CREATE MACRO from_iso8601_timestamp(s) AS CAST(s AS TIMESTAMPTZ)');
const all = columns.concat(partitions);
await connection.run(`CREATE TABLE "${schemaName}"."${tableName}" (${all.map((c) => `"${c.name}" ${c.type === 'bigint' ? 'BIGINT' : 'VARCHAR'}`).join(', ')})`);
const appender = await connection.createAppender(tableName, schemaName);
for (const row of rows) {
  row.forEach((v, k) => {
    if (v === null) appender.appendNull();
    else if (all[k].type === 'bigint') appender.appendBigInt(v);
    else appender.appendVarchar(v);
  });
  appender.endRow();
}
appender.closeSync();

let sql = readFileSync(opts.query, 'utf8');
for (const s of opts.set) {
  const eq = s.indexOf('=', s.indexOf("'", 1) + 1);
  const [from, to] = [s.slice(0, eq), s.slice(eq + 1)];
  if (eq < 0 || !sql.includes(from)) fail(`--set ${s}: '${from}' is not in ${opts.query}`);
  sql = sql.replace(from, to);
}
const result = await connection.runAndReadAll(sql);
const names = result.columnNames();
const out = result.getRowsJS().map((r) => Object.fromEntries(r.map((v, i) => [names[i],
  typeof v === 'bigint' ? Number(v) : v instanceof Date ? v.toISOString() : (v !== null && typeof v === 'object' ? String(v) : v)])));
process.stdout.write(JSON.stringify({ rows: out.length, loaded: rows.length, columns: names, data: out }) + '\n');
