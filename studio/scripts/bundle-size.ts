// The studio's first-load JavaScript, gzipped: the entry script of studio/dist/index.html plus
// every chunk it preloads (its static imports). Chunks loaded on demand (the credential form) are
// not part of the first load. Run after the build; the budget is checked by test/studio/build.test.ts.
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { fileURLToPath } from 'node:url';

export const STUDIO_DIST = fileURLToPath(new URL('../dist', import.meta.url));
/** DESIGN §10: the first page load stays under 350 KB of gzipped JavaScript. */
export const FIRST_LOAD_BUDGET = 350 * 1024;

export interface BundleSize {
  files: Array<{ file: string; bytes: number; gzipped: number }>;
  gzipped: number;
}

export function firstLoadJs(dist = STUDIO_DIST): BundleSize {
  const html = fs.readFileSync(path.join(dist, 'index.html'), 'utf8');
  const refs = new Set<string>();
  for (const m of html.matchAll(/<script[^>]*\ssrc="([^"]+\.js)"/g)) refs.add(m[1]!);
  for (const m of html.matchAll(/<link[^>]*rel="modulepreload"[^>]*href="([^"]+\.js)"/g)) refs.add(m[1]!);
  if (!refs.size) throw new Error(`${dist}/index.html loads no script`);
  const files = [...refs].map((ref) => {
    const file = path.join(dist, ref.replace(/^\/studio\//, ''));
    const body = fs.readFileSync(file);
    return { file: path.relative(dist, file), bytes: body.length, gzipped: zlib.gzipSync(body, { level: 9 }).length };
  });
  return { files, gzipped: files.reduce((n, f) => n + f.gzipped, 0) };
}

const kb = (n: number) => `${(n / 1024).toFixed(1)} KB`;

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const size = firstLoadJs();
  for (const f of size.files) console.log(`  ${f.file}  ${kb(f.bytes)}  gzip ${kb(f.gzipped)}`);
  console.log(`studio first-load JavaScript: ${kb(size.gzipped)} gzipped (budget ${kb(FIRST_LOAD_BUDGET)})`);
  if (size.gzipped > FIRST_LOAD_BUDGET) {
    console.error('studio: over the first-load budget');
    process.exit(1);
  }
}
