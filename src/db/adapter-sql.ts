import {
  type ArgType,
  ColumnTypeEnum,
  DriverAdapterError,
  type SqlDriverAdapter,
  type SqlMigrationAwareDriverAdapterFactory,
  type SqlResultSet,
} from '@prisma/driver-adapter-utils';
import type { DatabaseConfig } from '../config';
import type { Row, StatementObserver } from './direct';
import { isDriverUnavailable } from './errors';

/*
 * Statements sent straight to the driver adapter that Prisma's client runs on: the same SQLite
 * connection or PostgreSQL pool, the same kept statements (db/patches, db/pg-statements), but not
 * the client's request pipeline (its parameter serialisation, query interpreter, result
 * deserialisation and query events). That pipeline was about a third of the CPU of adding a
 * message, whose whole write is one raw statement (bench/README.md, "Changes measured").
 *
 * The client sends its own statements outside transactions to the same `queryRaw` of the same
 * adapter, so a statement sent here runs exactly as `db.$queryRaw` would run it: same connection,
 * same ordering with the client's statements, same (absent) transaction. Only the few statements
 * of hot paths come here; everything else uses the client. Until the client has connected (at its
 * first statement) there is no adapter yet, and the statement goes through the client.
 *
 * Rows come back as objects, each column converted by its type as the client converts a raw
 * query's (columnValue), so a caller gets what `db.$queryRaw` gave it.
 */

/** A statement as `Prisma.sql` builds it: `?` placeholders in `sql`, `$1`... in `text`. */
export type SqlStatement = { readonly sql: string; readonly text: string; readonly values: readonly unknown[] };

export type AdapterSql = {
  /** The rows of one statement, on the connection Prisma's client uses. */
  rows<T = Row>(statement: SqlStatement): Promise<T[]>;
};

export type AdapterSqlHandle = {
  sql: AdapterSql;
  /** Makes `factory` report each adapter it connects (Prisma's client calls its `connect`). */
  watch(factory: SqlMigrationAwareDriverAdapterFactory): SqlMigrationAwareDriverAdapterFactory;
};

/** The argument types the adapters read (they convert a boolean, a Date or a numeric string by it). */
function argTypeOf(value: unknown): ArgType {
  const arity = 'scalar';
  if (typeof value === 'number') return { scalarType: Number.isInteger(value) ? 'int' : 'float', arity };
  if (typeof value === 'boolean') return { scalarType: 'boolean', arity };
  if (typeof value === 'bigint') return { scalarType: 'bigint', arity };
  if (value instanceof Date) return { scalarType: 'datetime', arity };
  if (typeof value === 'string') return { scalarType: 'string', arity };
  return { scalarType: 'unknown', arity };
}

/**
 * A value as the client gives a raw query's column of this type (its runtime's `$t`, then the
 * deserialisation by type name): Int as a number, BigInt as a bigint, Boolean from true, 1, "1" or
 * "true", DateTime and Date as a Date; text and floating-point numbers as the adapter gives them.
 * The client converts other types (JSON, bytes, decimals, arrays...) in ways not repeated here, so
 * a statement returning one fails loudly rather than answer differently: add its conversion first.
 */
function columnValue(value: unknown, type: number): unknown {
  if (value === null) return null;
  switch (type) {
    case ColumnTypeEnum.Int32:
      return Math.trunc(Number(value));
    case ColumnTypeEnum.Int64:
      // SQLite's adapter gives 64-bit integers as text.
      return typeof value === 'number' ? BigInt(Math.trunc(value)) : BigInt(value as string);
    case ColumnTypeEnum.Boolean:
      if (typeof value === 'string') return value === 'true' || value === '1';
      if (typeof value === 'number') return value === 1;
      return value === true;
    case ColumnTypeEnum.DateTime:
    case ColumnTypeEnum.Date:
      return new Date(value as string);
    case ColumnTypeEnum.Text:
    case ColumnTypeEnum.Character:
    case ColumnTypeEnum.Float:
    case ColumnTypeEnum.Double:
    case ColumnTypeEnum.UnknownNumber:
      return value;
    default:
      throw new TypeError(`adapter-sql: column type ${type} is not converted as Prisma's client converts it`);
  }
}

function toObjects<T>(result: SqlResultSet): T[] {
  const { columnNames, columnTypes } = result;
  return result.rows.map((values) => {
    const row: Row = {};
    columnNames.forEach((name, i) => {
      row[name] = columnValue(values[i], columnTypes[i] as number);
    });
    return row as T;
  });
}

export function createAdapterSql(
  dialect: DatabaseConfig['provider'],
  /** The same statement through Prisma's client, before it has connected. */
  throughClient: (statement: SqlStatement) => Promise<unknown[]>,
  observe: StatementObserver,
): AdapterSqlHandle {
  let adapter: SqlDriverAdapter | null = null;

  const watch = (factory: SqlMigrationAwareDriverAdapterFactory) => {
    const connect = factory.connect.bind(factory);
    factory.connect = async () => {
      const connected = await connect();
      adapter = connected;
      const dispose = connected.dispose.bind(connected);
      connected.dispose = () => {
        if (adapter === connected) adapter = null;
        return dispose();
      };
      return connected;
    };
    return factory;
  };

  const sql: AdapterSql = {
    async rows<T>(statement: SqlStatement): Promise<T[]> {
      const connected = adapter;
      if (!connected) return (await throughClient(statement)) as T[];
      const text = dialect === 'postgresql' ? statement.text : statement.sql;
      const args = [...statement.values];
      const startedAt = new Date();
      const start = performance.now();
      let result: SqlResultSet;
      try {
        result = await connected.queryRaw({ sql: text, args, argTypes: args.map(argTypeOf) });
      } catch (error) {
        // The pool's own connection errors come through unconverted; the client would report
        // them as unreachable, and so does this (db/errors.ts reads the adapter's kinds).
        if (isDriverUnavailable(error)) {
          const payload = { kind: 'DatabaseNotReachable', message: (error as Error).message };
          throw new DriverAdapterError(payload as ConstructorParameters<typeof DriverAdapterError>[0]);
        }
        throw error;
      }
      observe(text, startedAt, performance.now() - start);
      return toObjects<T>(result);
    },
  };
  return { sql, watch };
}
