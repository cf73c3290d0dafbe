// Global setup of both test projects: builds dist/plugboard.mjs (bin/build-runtime.mjs) when a file
// under runtime/ or generated/ changed after the last build, so the tests that spawn ./bin/plugboard
// run the compiled runtime as production does (and start it faster). A source edited during the run
// makes bin/plugboard fall back to tsx, never run a stale build.
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { PROJECT_ROOT } from '../../runtime/config/paths.ts';

export default function setup(): void {
  execFileSync(process.execPath, [path.join(PROJECT_ROOT, 'bin', 'build-runtime.mjs'), '--if-stale'], { stdio: 'inherit' });
}
