import { describe, it, expect } from 'vitest';
import { execFileSync } from 'node:child_process';
import path from 'node:path';

const bin = path.resolve(import.meta.dirname, '../../bin/plugboard');

describe('plugboard CLI', () => {
  it('validates the shipped connectors', () => {
    const out = execFileSync(bin, ['validate'], { encoding: 'utf8' });
    expect(out).toMatch(/manifest\(s\) valid/);
  });
});
