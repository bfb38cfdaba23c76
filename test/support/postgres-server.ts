import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { freePort } from './free-port';

const SCRIPT = resolve(__dirname, '../../scripts/throwaway-postgres.sh');

/** A real PostgreSQL 15 server of the test's own, which the test may stop and start again. */
export class PostgresServer {
  readonly dir = mkdtempSync(join(tmpdir(), 'pg-fault-'));
  url = '';
  private port = 0;

  async start(): Promise<string> {
    if (!this.port) this.port = await freePort();
    this.url = execFileSync(SCRIPT, ['start', this.dir, String(this.port)], { encoding: 'utf8' }).trim();
    return this.url;
  }

  /** Stops the server abruptly (immediate mode), keeping its data. */
  halt(): void {
    execFileSync(SCRIPT, ['halt', this.dir]);
  }

  destroy(): void {
    execFileSync(SCRIPT, ['stop', this.dir]);
  }
}
