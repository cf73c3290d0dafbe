// The limits of the mapping preview (runtime/lang/preview.ts) without HTTP: the regex screen and
// where errors point. The HTTP behaviour is in test/integration/studio-endpoints.test.ts.
import { describe, it, expect } from 'vitest';
import { previewMapping, riskyPattern, PreviewError } from '../../runtime/lang/preview.ts';

describe('riskyPattern', () => {
  it.each(['(a+)+$', '(a|aa)*', '(x+x+)+y', '((ab)*)*', '(\\w+\\s?)*', '(?:a*)+', '(a+){2,}', '(a*){1,100}'])('refuses %s (exponential backtracking)', (p) => {
    expect(riskyPattern(p)).toBe(true);
  });
  it.each(['[a-z]+(\\d+)', '(?:ab)+', '^\\+?[1-9]\\d{1,14}$', '(\\d{3})?', 'a{1,5}', '[(+*)]+', '\\(a+\\)+', '(?<year>\\d{4})-(?<m>\\d{2})', '(ab)+'])('accepts %s', (p) => {
    expect(riskyPattern(p)).toBe(false);
  });
});

describe('previewMapping', () => {
  it('locates a syntax error on a later line', async () => {
    const err = await previewMapping('(\n  $x := 1;\n  $x +\n)', {}).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PreviewError);
    expect((err as PreviewError).location?.line).toBe(4);
    expect((err as PreviewError).errors).toEqual({ expression: [expect.stringMatching(/^line 4, column 1: /)] });
  });
  it('locates an evaluation error at its token', async () => {
    const err = (await previewMapping('1 + "a"', {}).catch((e: unknown) => e)) as PreviewError;
    expect(err.code).toBe('expression_error');
    expect(err.location).toMatchObject({ line: 1 });
    expect(err.errors?.['expression']?.[0]).toMatch(/T2002/);
  });
  it('returns plain JSON (no sequences, no functions)', async () => {
    expect(await previewMapping('[1, 2].($ * 2)', {})).toEqual({ output: [2, 4] });
    expect(await previewMapping('function($x){ $x }', {})).toEqual({ output: null });
  });
});
