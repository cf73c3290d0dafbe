// Twilio connector vs Twilio's official OpenAPI spec (twilio/twilio_api_v2010.json, OAS 3.0.1).
// The spec does not set additionalProperties on CreateMessageRequest, so it cannot reject an unknown
// form field: the negative test drops the required `To` instead.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { Engine } from '../../runtime/engine/engine.ts';
import type { Connector } from '../../runtime/manifest/connector.ts';
import { startSpecServer, responseExample, type SpecServer } from './spec-server.ts';
import { loadConnector, loadEditedManifest, replaceOnce, expectContract, baseUrlOf, describeResult, expectConnectorContract, streamQueries, failedStreamRuns } from './helpers.ts';

const credentials = {
  account_sid: 'AC3f1c5b0e2d4a6978b1c2d3e4f5a6b7c8',
  auth_token: '9e107d9d372bb6826bd81d3542a419d6',
  from_number: '+15005550006',
  whatsapp_from: '+14155238886',
};
const MESSAGES = `/2010-04-01/Accounts/${credentials.account_sid}/Messages.json`;

describe('twilio connector vs the official Twilio spec', () => {
  let server: SpecServer;
  let twilio: Connector;
  let baseUrl: string;
  const engine = new Engine({ env: {} });

  beforeAll(async () => {
    server = await startSpecServer('twilio');
    twilio = loadConnector('twilio');
    baseUrl = baseUrlOf(twilio, server);
  });
  afterAll(() => server?.close());

  it('send_sms is a valid CreateMessage form post with Basic auth', async () => {
    server.reset();
    const input = { to: '+14155550123', body: 'Your code is 123456', from: '+14155550100', status_callback: 'https://hooks.example.com/twilio/status' };
    const result = await engine.run(twilio, 'send_sms', { credentials, input, baseUrl });
    const req = expectContract(result, server, 'CreateMessage');
    expect(req.path).toBe(MESSAGES);
    expect(req.contentType).toMatch(/^application\/x-www-form-urlencoded/);
    expect(req.body).toEqual({ To: '+14155550123', From: '+14155550100', Body: 'Your code is 123456', StatusCallback: 'https://hooks.example.com/twilio/status' });
    const basic = Buffer.from(String(req.headers.authorization).replace(/^Basic /, ''), 'base64').toString();
    expect(basic).toBe(`${credentials.account_sid}:${credentials.auth_token}`);
    // The spec's `create` example answers.
    expect(result.ok && result.output).toMatchObject({ message_id: 'SMaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa', status: 'queued', segments: 1 });
  });

  it('send_sms falls back to the credential sender and stays valid', async () => {
    server.reset();
    const result = await engine.run(twilio, 'send_sms', { credentials, input: { to: '+447700900123', body: 'hi' }, baseUrl });
    const req = expectContract(result, server, 'CreateMessage');
    expect(req.body).toEqual({ To: '+447700900123', From: credentials.from_number, Body: 'hi' });
  });

  it('send_sms with media_urls is a valid MMS CreateMessage (one MediaUrl field per URL)', async () => {
    server.reset();
    const input = { to: '+14155550123', body: 'Your receipt', media_urls: ['https://example.com/receipt-1.png', 'https://example.com/receipt-2.png'] };
    const result = await engine.run(twilio, 'send_sms', { credentials, input, baseUrl });
    const req = expectContract(result, server, 'CreateMessage');
    expect(req.rawBody).toBe('To=%2B14155550123&From=%2B15005550006&Body=Your+receipt&MediaUrl=https%3A%2F%2Fexample.com%2Freceipt-1.png&MediaUrl=https%3A%2F%2Fexample.com%2Freceipt-2.png');
    expect(req.body).toMatchObject({ MediaUrl: ['https://example.com/receipt-1.png', 'https://example.com/receipt-2.png'] });
  });

  it('NEGATIVE: a media URL list joined into one field is not a URI list (MediaUrl items must be URIs)', async () => {
    server.reset();
    const broken = loadEditedManifest('twilio', (t) => replaceOnce(t, '"MediaUrl": input.media_urls', '"MediaUrl": $join(input.media_urls, " ")'));
    const result = await engine.run(broken, 'send_sms', { credentials, input: { to: '+14155550123', body: 'hi', media_urls: ['https://example.com/a.png', 'https://example.com/b.png'] }, baseUrl });
    const info = describeResult(result, server);
    expect(server.violations.map((v) => v.location).join(' '), info).toMatch(/request\.body\.MediaUrl/);
    expect(result.ok, info).toBe(false);
  });

  it('send_whatsapp is a valid CreateMessage form post (MediaUrl as a repeated field)', async () => {
    server.reset();
    const input = { to: '+14155550123', body: 'Your order shipped', media_url: 'https://example.com/label.png' };
    const result = await engine.run(twilio, 'send_whatsapp', { credentials, input, baseUrl });
    const req = expectContract(result, server, 'CreateMessage');
    expect(req.body).toEqual({ To: 'whatsapp:+14155550123', From: `whatsapp:${credentials.whatsapp_from}`, Body: 'Your order shipped', MediaUrl: 'https://example.com/label.png' });
    expect(req.rawBody).toContain('MediaUrl=https%3A%2F%2Fexample.com%2Flabel.png');
    expect(req.rawBody).not.toMatch(/MediaUrl%5B/); // not MediaUrl[0]=
    expect(result.ok && result.output).toMatchObject({ message_id: 'SMaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa', status: 'queued' });
  });

  it('verify is a valid FetchAccount', async () => {
    server.reset();
    const result = await engine.verify(twilio, { credentials, baseUrl });
    const req = expectContract(result, server, 'FetchAccount');
    expect(req.path).toBe(`/2010-04-01/Accounts/${credentials.account_sid}.json`);
  });

  it('NEGATIVE: dropping the required To field is a violation (the spec allows unknown fields, so a rename would pass)', async () => {
    server.reset();
    const broken = loadEditedManifest('twilio', (t) => replaceOnce(t, /\n\s*"To": input\.to,/, ''));
    const result = await engine.run(broken, 'send_sms', { credentials, input: { to: '+14155550123', body: 'hello' }, baseUrl });
    const info = describeResult(result, server);
    const v = server.violations.find((x) => x.location === 'request.body.To');
    expect(v?.message, info).toMatch(/missing required field "To"/);
    expect(result.ok, info).toBe(false);
  });
  it('plugboard contract twilio: every capability example and verify pass against the spec (the command\'s own run)', async () => {
    // The spec types next_page_uri `format: uri` (absolute), yet its own ListMessage example, like the
    // real API, gives it root-relative: a fault of the spec, not of the recorded page.
    expect(String((responseExample(server, 'ListMessage', '200') as { next_page_uri: string }).next_page_uri)).toMatch(/^\/2010-04-01\//);
    const report = await expectConnectorContract('twilio', { knownResponseFaults: /^\/(first_page_uri|next_page_uri|uri) must match format "uri"/ });
    // The next page is next_page_uri as given (PageToken and all); the incremental read sends DateSent>=.
    expect(streamQueries(report, 'messages')).toEqual({ first: 'PageSize=100', next: 'PageSize=100&Page=1&PageToken=PAMMc26223853f8c46b4ab7dfaa6abba0a26', incremental: 'PageSize=100&DateSent%3E=2019-05-24T17%3A44%3A50Z' });
  });

  it('NEGATIVE: an incremental filter the spec does not define (DateSentAfter) fails the incremental run', async () => {
    const failed = await failedStreamRuns('twilio', (t) => replaceOnce(t, 'param: "DateSent>"', 'param: DateSentAfter'));
    expect(failed.map((r) => r.example)).toEqual(['first page of two messages, PageSize 100: incremental (sync.cursor 2019-05-24T17:44:50Z)']);
    expect(failed[0]!.violations.map((v) => v.location)).toEqual(['request.query.DateSentAfter']);
  });
});
