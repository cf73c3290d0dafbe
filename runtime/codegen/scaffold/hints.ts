// Which standard capability (schemas/capabilities/) an operation looks like, for a scaffold comment.
import type { SpecOperation } from './operations.ts';

const HINTS: Array<[string, RegExp]> = [
  ['send_sms', /messages?\b.*(create|send)|(create|send).*message/i],
  ['send_email', /mail.*send|send.*mail|messages\.send/i],
  ['post_message', /chat\.postmessage|post.*message/i],
  ['create_event', /events?.*(insert|create)|(create|insert).*event/i],
  ['cancel_event', /events?.*(delete|cancel)/i],
  ['initiate_payment', /payment_?intents?|orders?.*create|create.*order|transfers?|payments?$/i],
  ['process_refund', /refund/i],
  ['create_contact', /contacts?.*(create|post)|create.*contact/i],
  ['verify_bank_account', /auth.*get|bank.*verif|funding.?sources/i],
];

export function standardHint(o: SpecOperation): string | undefined {
  if (o.method === 'GET' && !/auth/i.test(o.operationId ?? '')) return undefined;
  const text = `${o.operationId ?? ''} ${o.method.toLowerCase()} ${o.path}`;
  return HINTS.find(([, re]) => re.test(text))?.[0];
}
