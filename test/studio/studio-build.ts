// The studio's production build for the tests: studio/dist as `npm ci` (prepare) leaves it, built
// here when missing or older than a studio source file (one build at a time across test files: a
// lock directory beside it).
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { PROJECT_ROOT } from '../../runtime/config/paths.ts';
import { STUDIO_DIST } from '../../runtime/api/studio-route.ts';

const LOCK = path.join(PROJECT_ROOT, 'studio', '.build-lock');

export async function ensureStudioBuilt(): Promise<string> {
  const index = path.join(STUDIO_DIST, 'index.html');
  const deadline = Date.now() + 120_000;
  for (;;) {
    try {
      fs.mkdirSync(LOCK);
      break;
    } catch {
      if (Date.now() > deadline) throw new Error(`${LOCK} is held: remove it if no build is running`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  try {
    if (!fs.existsSync(index) || newestSource() > fs.statSync(index).mtimeMs) {
      const r = spawnSync('npm', ['run', '-s', 'build:studio'], { cwd: PROJECT_ROOT, encoding: 'utf8', timeout: 120_000 });
      if (r.status !== 0) throw new Error(`npm run build:studio failed: ${r.stdout}${r.stderr}`);
    }
  } finally {
    fs.rmdirSync(LOCK);
  }
  return STUDIO_DIST;
}

/** The newest modification time among the studio's sources (src/, index.html, vite config, public/, and what src/ imports from runtime/). */
function newestSource(): number {
  const studio = path.join(PROJECT_ROOT, 'studio');
  let newest = 0;
  const walk = (p: string) => {
    const st = fs.statSync(p);
    if (st.isDirectory()) for (const f of fs.readdirSync(p)) walk(path.join(p, f));
    else newest = Math.max(newest, st.mtimeMs);
  };
  for (const p of ['src', 'public', 'index.html', 'vite.config.ts']) if (fs.existsSync(path.join(studio, p))) walk(path.join(studio, p));
  // Sources outside studio/ that the studio imports: the credential form words refusals as the API does.
  walk(path.join(PROJECT_ROOT, 'runtime', 'manifest', 'credential-messages.ts'));
  return newest;
}
