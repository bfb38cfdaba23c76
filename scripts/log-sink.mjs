// The app's log, in the benchmark and the profiler, goes down a pipe to a reader, as to a log
// shipper in production (a pipe's writes cost what /dev/null's do not).
import { spawn } from 'node:child_process';
import { cpus } from 'node:os';

/** A `cat` that discards what is written to its stdin, pinned to the load generator's core when `pin`. */
export function logSink(pin) {
  return pin
    ? spawn('taskset', ['-c', String(cpus().length - 1), 'cat'], { stdio: ['pipe', 'ignore', 'ignore'] })
    : spawn('cat', [], { stdio: ['pipe', 'ignore', 'ignore'] });
}
