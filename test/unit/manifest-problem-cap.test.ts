// A text with thousands of schema problems (not a manifest at all) lists the first 200 and says the
// rest are left out: a position lookup per problem made a 256 KB text hold the server for seconds.
import { it, expect } from 'vitest';
import { loadManifestText } from '../../runtime/manifest/load.ts';

it('lists at most 200 schema problems and says there are more', () => {
  const text = Array.from({ length: 5000 }, (_, i) => `k${i}: 1`).join('\n');
  const started = performance.now();
  const { issues } = loadManifestText(text, 'junk.yaml');
  expect(performance.now() - started).toBeLessThan(3000);
  expect(issues.length).toBeLessThanOrEqual(201);
  expect(issues.at(-1)).toMatchObject({ rule: 'too_many_problems', message: 'more than 200 problems: the rest are not listed' });
  expect(issues.filter((i) => i.rule === 'additionalProperties').length).toBeGreaterThan(100);
});
