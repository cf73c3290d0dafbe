// The Name schema of API keys and OAuth clients (schemas/openapi.yaml): ordinary Unicode names pass
// (accents, CJK, RTL scripts, emoji, also joined and flag sequences); blank names and invisible
// characters that change how a name reads (bidi overrides, zero-width spaces) do not. The pattern is
// compiled as Ajv compiles it (a `u` RegExp); test/integration/access.test.ts checks it over HTTP.
import { describe, it, expect } from 'vitest';
import { loadOpenApiDocument } from '../../runtime/api/app.ts';

const schema = loadOpenApiDocument().components.schemas.Name as { pattern: string; minLength: number; maxLength: number };
const pattern = new RegExp(schema.pattern, 'u');

const accepted = ['CI', 'Zoë’s café', 'Ñandú São Paulo', '東京の請求', '결제 서비스', 'مفتاح الإنتاج', 'می‌خواهم', 'CI 🚀 — Zoë', '👩‍💻 deploy', '👨‍👩‍👧 family', '👍🏽 ok', '🏴󠁧󠁢󠁳󠁣󠁴󠁿 team', '🇫🇷 prod', 'a\u00a0b', 'tab-free name'];
const refused: Array<[string, string]> = [
  ['a right-to-left override', 'invoice\u202Egnp.exe'],
  ['a left-to-right embedding', '\u202Aadmin'],
  ['a zero-width space', 'ad\u200Bmin'],
  ['a zero-width joiner between letters', 'ad\u200Dmin'],
  ['a zero-width non-joiner at the start', '\u200Cadmin'],
  ['a byte order mark', '\uFEFFadmin'],
  ['a soft hyphen', 'ad\u00ADmin'],
  ['an invisible tag outside a flag', 'admin\u{E0041}'],
  ['spaces only', '   '],
  ['a no-break space only', '\u00a0'],
  ['an ideographic space only', '\u3000\u3000'],
  ['NUL', 'a\u0000b'],
  ['CR/LF', 'line\r\nInjected: yes'],
  ['a tab', 'a\tb'],
  ['a lone surrogate', 'half \ud800 pair'],
  ['a line separator', '\u2028'],
];

describe('the Name pattern', () => {
  it.each(accepted)('accepts %s', (name) => {
    expect(pattern.test(name)).toBe(true);
  });

  it.each(refused)('refuses %s', (_what, name) => {
    expect(pattern.test(name)).toBe(false);
  });
});
