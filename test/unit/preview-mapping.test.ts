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

describe('previewMapping: what could hold or crash the server is refused', () => {
  const refused = async (expression: string, input: unknown = {}) => {
    const started = performance.now();
    const err = await previewMapping(expression, input).then(() => undefined, (e: unknown) => e);
    expect(err, expression).toBeInstanceOf(PreviewError);
    expect(performance.now() - started).toBeLessThan(2000);
    return (err as PreviewError).message;
  };

  it('no regular expression runs, not even one without nested quantifiers (a*a*b backtracks polynomially)', async () => {
    expect(await refused('$contains(s, /a*a*b/)', { s: 'a'.repeat(3000) })).toMatch(/regular expressions are not evaluated in the preview/);
    expect(await refused('$match($pad("", 4000, "a"), /.*.*.*x/)')).toMatch(/regular expressions are not evaluated/);
  });

  it('$pad, $length and $substring past a million characters (V8 aborts the process on such character arrays)', async () => {
    expect(await refused('$pad("", 100000000, "ab")')).toMatch(/\$pad .*1000000/);
    expect(await refused('$substring($pad("", 150000000), 1, 1)')).toMatch(/refused/);
    expect(await refused('[1..100].$pad("", 100000)')).toMatch(/in all is refused/);
  });

  it('the guarded string functions still behave as JSONata\'s', async () => {
    expect(await previewMapping('[$pad("ab", 5, "-"), $pad("ab", -5), $length("héllo"), $substring("hello", 1, 3), $substring("hello", -2)]', {})).toEqual({ output: ['ab---', '   ab', 5, 'ell', 'lo'] });
  });
});
