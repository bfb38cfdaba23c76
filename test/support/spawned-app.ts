import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { freePort } from './free-port';

const ROOT = resolve(__dirname, '../..');
const MAIN = join(ROOT, 'dist/server/src/main.js');

/** The production build as its own process, so a test can SIGKILL or SIGTERM it. */
export class SpawnedApp {
  readonly dataDir = mkdtempSync(join(tmpdir(), 'keys-proc-'));
  url = '';
  child?: ChildProcess;
  output = '';
  constructor(
    private readonly env: Record<string, string>,
    /** Chosen by the caller when something else must know the URL first (0: any free port). */
    private port = 0,
  ) {}

  async start(): Promise<void> {
    if (!existsSync(MAIN))
      throw new Error('Run `npm run build` first: the fault tests start the production build (dist/server/src/main.js).');
    if (!this.port) this.port = await freePort();
    this.url = `http://127.0.0.1:${this.port}`;
    this.child = spawn(process.execPath, [MAIN], {
      cwd: ROOT,
      env: {
        ...process.env,
        NODE_OPTIONS: '',
        PORT: String(this.port),
        HOST: '127.0.0.1',
        PUBLIC_URL: this.url,
        DATA_DIR: this.dataDir,
        LOG_LEVEL: 'warn',
        ...this.env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child.stdout!.on('data', (d: Buffer) => (this.output += d.toString()));
    this.child.stderr!.on('data', (d: Buffer) => (this.output += d.toString()));
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline) {
      if (this.child.exitCode !== null) throw new Error(`the app exited: ${this.output}`);
      try {
        if ((await fetch(`${this.url}/api/health`)).ok) return;
      } catch {
        /* not up yet */
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`the app did not become healthy: ${this.output}`);
  }

  /** Sends a signal and waits for the process to end; returns its exit code (or signal). */
  async kill(signal: NodeJS.Signals): Promise<number | string | null> {
    const child = this.child!;
    const exited = new Promise<number | string | null>((resolve) => child.once('exit', (code, sig) => resolve(code ?? sig)));
    child.kill(signal);
    return exited;
  }
}
