#!/usr/bin/env node
// No file under runtime/ over 400 lines: split by concern (one component per file).
import fs from 'node:fs';
import path from 'node:path';

const LIMIT = 400;
const over = [];
function walk(dir) {
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) walk(p);
    else if (/\.(ts|js|mjs)$/.test(e.name)) {
      const lines = fs.readFileSync(p, 'utf8').split('\n').length;
      if (lines > LIMIT) over.push(`${p}: ${lines} lines (limit ${LIMIT})`);
    }
  }
}
walk('runtime');
if (over.length) {
  console.error(`Files under runtime/ over ${LIMIT} lines; split them by concern:\n  ${over.join('\n  ')}`);
  process.exit(1);
}
console.log(`runtime/: every file within ${LIMIT} lines`);
