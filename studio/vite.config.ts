// The studio's build: a React single-page app served by `plugboard serve` at /studio (DESIGN §9).
// Output goes to studio/dist (gitignored); `npm run build:studio` (and `prepare`) runs this, then
// prints the first-load JavaScript size, gzipped (studio/scripts/bundle-size.ts).
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

const root = fileURLToPath(new URL('.', import.meta.url));

export default defineConfig({
  root,
  base: '/studio/',
  plugins: [react()],
  // No external origins, no inline scripts: the served CSP is `script-src 'self'`.
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: false,
    reportCompressedSize: false,
    modulePreload: { polyfill: false },
  },
  server: {
    // `npm run studio:dev`: the API of a `plugboard serve` on the default port.
    proxy: { '/api': 'http://127.0.0.1:3000' },
  },
});
