import pg from 'pg';

/** Where a listener reports its connection's fate (a pino logger fits). */
export interface ListenLog {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

/**
 * What a PostgreSQL LISTEN connection has heard. `version()` moves on every notification for this
 * schema, and also whenever the connection drops or is re-established (notifications may have been
 * missed in between), so whoever caches on its strength drops everything when it moves.
 */
export interface ChangeFeed {
  version(): number;
  /** True while listening: a change committed elsewhere moves `version` at once (within ms). */
  live(): boolean;
}

/**
 * A feed that can also promise it is up to date: `heard()` resolves true once every notification of a
 * transaction that committed before the call has moved `version` (a query on the listening connection
 * started after the call has answered, and PostgreSQL delivers pending notifications before a query's
 * answer), or false when it is not listening and so cannot promise anything.
 */
export interface SyncedChangeFeed extends ChangeFeed {
  heard(): Promise<boolean>;
}

export interface PgListener extends SyncedChangeFeed {
  /** Connects (resolves once the first attempt has connected or failed) and logs to `log` from then on. */
  start(log: ListenLog): Promise<void>;
  close(): Promise<void>;
}

export interface PgListenOptions {
  connectionString: string;
  channel: string;
  /** Reconnect delays: doubles from `minMs` to `maxMs` while attempts fail. */
  reconnect?: { minMs: number; maxMs: number };
  /** A query on the idle connection this often, so a connection dead without a word is noticed. */
  pingMs?: number;
  /** Shown in pg_stat_activity (default `dpp listen <channel>`). */
  applicationName?: string;
}

/**
 * Sends a notification on `channel` for the current schema. Inside a transaction PostgreSQL delivers
 * it when (and only if) the transaction commits, so a listener never hears of a change it cannot see yet.
 */
export function notifySql(channel: string): string {
  if (!/^[a-z_][a-z0-9_]*$/.test(channel)) throw new Error(`invalid channel name "${channel}"`);
  return `select pg_notify('${channel}', current_schema())`;
}

/**
 * LISTENs on `channel` on a dedicated client (never a pooled one: a pooled connection goes back to the
 * pool and its LISTEN with it), reconnecting with backoff when the connection drops. Notifications
 * carry the sender's schema and count only when it is this connection's (tests and tenants may share a
 * database, each in its own schema). Nothing happens before `start`, whose first attempt may fail
 * without harm: `live()` stays false until a later attempt succeeds.
 */
export function createPgListener(options: PgListenOptions): PgListener {
  const { connectionString, channel } = options;
  let log: ListenLog = { info: () => undefined, warn: () => undefined };
  const { minMs, maxMs } = options.reconnect ?? { minMs: 250, maxMs: 10_000 };
  const pingMs = options.pingMs ?? 30_000;
  if (!/^[a-z_][a-z0-9_]*$/.test(channel)) throw new Error(`invalid channel name "${channel}"`);

  let version = 0;
  let client: pg.Client | undefined;
  let live = false;
  let closed = false;
  let failures = 0;
  let retry: NodeJS.Timeout | undefined;
  let ping: NodeJS.Timeout | undefined;
  // heard(): at most one round trip in flight and one queued behind it, shared by every caller that
  // arrived meanwhile (a caller needs a round trip that started after it asked, not its own).
  let inFlight: Promise<boolean> | undefined;
  let queued: Promise<boolean> | undefined;

  const lost = (c: pg.Client, reason: unknown) => {
    if (client !== c) return;
    client = undefined;
    if (ping) clearInterval(ping);
    if (live) {
      live = false;
      version++;
      if (!closed) log.warn({ channel, err: reason }, 'LISTEN connection lost: caches fall back to a time limit until it is back');
    }
    c.end().catch(() => undefined);
    if (!closed) schedule();
  };

  const schedule = () => {
    const delay = Math.min(maxMs, minMs * 2 ** Math.min(failures, 20));
    failures++;
    retry = setTimeout(() => void connect(), delay);
    retry.unref();
  };

  async function connect(): Promise<void> {
    retry = undefined;
    if (closed) return;
    const c = new pg.Client({ connectionString, keepAlive: true, application_name: options.applicationName ?? `dpp listen ${channel}` });
    client = c;
    c.on('error', (e) => lost(c, e));
    c.on('end', () => lost(c, new Error('connection ended')));
    try {
      await c.connect();
      const schema = (await c.query<{ schema: string }>('select current_schema() as schema')).rows[0]?.schema ?? '';
      c.on('notification', (n) => {
        if (n.channel === channel && (n.payload ?? '') === schema) version++;
      });
      await c.query(`LISTEN ${channel}`);
      if (client !== c || closed) return;
      // Changes made while nobody listened were missed: whoever cached before must start over.
      version++;
      live = true;
      if (failures > 0) log.info({ channel }, 'LISTEN connection re-established');
      failures = 0;
      ping = setInterval(() => {
        c.query('select 1').catch((e: unknown) => lost(c, e));
      }, pingMs);
      ping.unref();
    } catch (e) {
      if (failures === 0 && !closed) log.warn({ channel, err: e }, 'cannot LISTEN: caches fall back to a time limit; retrying');
      lost(c, e);
      // `lost` schedules only for the current client; a client replaced meanwhile needs none.
    }
  }

  const roundTrip = (): Promise<boolean> => {
    const c = client;
    if (!c || !live) return Promise.resolve(false);
    return c.query('select 1').then(
      // Only a connection that stayed up throughout can promise (a reconnect moves `version` anyway).
      () => live && client === c,
      (e: unknown) => {
        lost(c, e);
        return false;
      },
    );
  };
  const heard = (): Promise<boolean> => {
    if (!inFlight) {
      const p = roundTrip().finally(() => {
        if (inFlight === p) inFlight = undefined;
      });
      inFlight = p;
      return p;
    }
    queued ??= inFlight.then(() => {
      queued = undefined;
      return heard();
    });
    return queued;
  };

  return {
    version: () => version,
    live: () => live,
    heard,
    async start(logTo) {
      log = logTo;
      await connect();
    },
    async close() {
      closed = true;
      if (retry) clearTimeout(retry);
      if (ping) clearInterval(ping);
      const c = client;
      client = undefined;
      live = false;
      await c?.end().catch(() => undefined);
    },
  };
}

/** A `changedElsewhere` check over a feed: true once after each move of its version (each caller gets its own). */
export function changedSince(feed: ChangeFeed): () => boolean {
  let seen = feed.version();
  return () => {
    const now = feed.version();
    if (now === seen) return false;
    seen = now;
    return true;
  };
}
