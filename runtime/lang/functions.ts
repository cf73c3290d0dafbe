// The functions the runtime registers in JSONata for every manifest expression, with their JSONata
// signatures. validate knows them by name (expressions.ts KNOWN_FUNCTIONS); the fast evaluator does
// not implement them, so an expression calling one is evaluated by JSONata.
import { minorToDecimal, decimalToMinor } from './money.ts';
import { mimeMessage, base64url } from './mail.ts';
import { parseICalendar, stableUid } from './icalendar.ts';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- JSONata passes whatever the expression gives
type JsonataFunction = (...args: any[]) => unknown;

export const MANIFEST_FUNCTIONS: ReadonlyArray<{ name: string; implementation: JsonataFunction; signature: string }> = [
  { name: 'minorToDecimal', implementation: minorToDecimal, signature: '<(ns)s:s>' },
  { name: 'decimalToMinor', implementation: decimalToMinor, signature: '<(ns)s:n>' },
  { name: 'mimeMessage', implementation: mimeMessage, signature: '<o:s>' },
  { name: 'base64url', implementation: base64url, signature: '<s:s>' },
  { name: 'parseICalendar', implementation: parseICalendar, signature: '<s-:a<o>>' },
  { name: 'uid', implementation: stableUid, signature: '<j-:s>' },
];
