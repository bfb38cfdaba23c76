import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';

export interface EmbeddedPostgres {
  url: string;
  stop(): Promise<void>;
}

/**
 * PostgreSQL compiled to WebAssembly (PGlite), in this process, behind a loopback socket so the
 * ordinary `pg` driver and TypeORM talk to it exactly as to a server. `dataDir` undefined keeps
 * it in memory (tests).
 *
 * PGlite is ONE PostgreSQL session. The socket server accepts exactly one connection, and the
 * app's pool holds exactly one (see `databaseConnection`): with more, statements of different
 * requests interleave inside that one session and receive each other's results (one user's
 * list answered with another user's rows; test/isolation.e2e-spec.ts).
 */
export async function startEmbeddedPostgres(dataDir: string | undefined): Promise<EmbeddedPostgres> {
  if (dataDir) mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const db = await PGlite.create(dataDir ? join(dataDir) : undefined);
  const server = new PGLiteSocketServer({ db, host: '127.0.0.1', port: 0, maxConnections: 1 });
  await server.start();
  return {
    url: `postgres://postgres:postgres@${server.getServerConn()}/postgres`,
    async stop() {
      await server.stop();
      await db.close();
    },
  };
}
