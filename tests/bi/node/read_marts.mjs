// Count the rows of every table in schema `marts` of a DuckDB file, opened read-only
// with the DuckDB Node client named on the command line (an alias in package.json).
// Prints one JSON line {"version": ..., "counts": {table: rows}}. With --hold it then
// keeps the file open until a line arrives on stdin and prints the counts again.
import { createInterface } from "node:readline";

const [clientPackage, dbPath, hold] = process.argv.slice(2);
const { DuckDBInstance } = await import(clientPackage);

const instance = await DuckDBInstance.create(dbPath, { access_mode: "READ_ONLY" });
const connection = await instance.connect();

async function scalar(sql) {
  const reader = await connection.runAndReadAll(sql);
  return reader.getRows()[0][0];
}

async function countMarts() {
  const reader = await connection.runAndReadAll(
    "select table_name from information_schema.tables " +
      "where table_schema = 'marts' order by table_name",
  );
  const counts = {};
  for (const [table] of reader.getRows()) {
    counts[table] = Number(await scalar(`select count(*) from marts."${table}"`));
  }
  return counts;
}

const version = await scalar("select version()");
console.log(JSON.stringify({ version, counts: await countMarts() }));
if (hold === "--hold") {
  const lines = createInterface({ input: process.stdin });
  for await (const _ of lines) break;
  console.log(JSON.stringify({ version, counts: await countMarts() }));
  lines.close();
}
connection.closeSync?.();
