// `./bin/plugboard` child processes for tests that kill and restart the product: started with an
// environment, resolved once their output matches `ready` (the listening address or the worker's
// start line), and all SIGKILLed by killAll() after the file.
import path from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';
import { PROJECT_ROOT } from '../../runtime/config/paths.ts';

const BIN = path.join(PROJECT_ROOT, 'bin', 'plugboard');

export interface Started {
  child: ChildProcess;
  /** The `ready` match (for `serve`, group 1 is the base URL). */
  match: RegExpExecArray;
  /** Everything the process wrote so far (stdout and stderr). */
  output(): string;
}

export const SERVE_READY = /listening on (http:\/\/127\.0\.0\.1:\d+)/;
export const WORKER_READY = /plugboard worker started/;

export function processes() {
  const children: ChildProcess[] = [];
  return {
    start(args: string[], env: Record<string, string>, ready: RegExp): Promise<Started> {
      return new Promise((resolve, reject) => {
        const child = spawn(BIN, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
        children.push(child);
        let out = '';
        const timer = setTimeout(() => reject(new Error(`${args.join(' ')} did not start: ${out.slice(-2000)}`)), 30_000);
        const onData = (d: Buffer) => {
          out += d;
          const m = ready.exec(out);
          if (m) {
            clearTimeout(timer);
            resolve({ child, match: m, output: () => out });
          }
        };
        child.stdout!.on('data', onData);
        child.stderr!.on('data', onData);
        child.on('exit', (code, signal) => reject(new Error(`${args.join(' ')} exited (${code ?? signal}): ${out.slice(-2000)}`)));
      });
    },
    /** SIGKILL, resolved once the process is gone. */
    async kill(child: ChildProcess): Promise<void> {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const gone = new Promise((r) => child.once('exit', r));
      child.kill('SIGKILL');
      await gone;
    },
    async killAll(): Promise<void> {
      await Promise.all(children.map((c) => this.kill(c)));
    },
  };
}

/** Polls `check` every `everyMs` until it is true, failing after `ms` with `what` (poll an API slowly: it rate-limits). */
export async function until(what: string, check: () => Promise<boolean> | boolean, ms = 20_000, everyMs = 50): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
