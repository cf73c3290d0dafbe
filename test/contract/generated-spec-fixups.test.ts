// The contract server's fix-ups for generated specs (runtime/testkit/contract/generated-spec-fixups.ts),
// on small documents shaped like Google's Discovery conversions and Microsoft Graph's generated
// modules: each applies only where its shape occurs, and a wrong request is still refused after it.
import { describe, it, expect } from 'vitest';
import { applyGeneratedSpecFixups, ANY_BASE64 } from '../../runtime/testkit/contract/generated-spec-fixups.ts';
import { startSpecServer } from '../../runtime/testkit/contract/spec-server.ts';

const json = { 'content-type': 'application/json', authorization: 'Bearer t' };

const discoveryLike = () => ({
  openapi: '3.0.0',
  info: { title: 'g', version: '1' },
  servers: [{ url: 'https://gmail.example.com/' }],
  paths: {
    '/v1/users/{userId}/messages/send': {
      post: {
        operationId: 'messages.send',
        parameters: [{ name: 'userId', in: 'path', required: true, schema: { type: 'string' } }],
        requestBody: { content: { 'message/cpim': { schema: { $ref: '#/components/schemas/Message' } }, 'message/rfc822': { schema: { $ref: '#/components/schemas/Message' } } } },
        responses: { '200': { description: 'ok', content: { 'application/json': { schema: { $ref: '#/components/schemas/Message' } } } } },
      },
    },
  },
  components: {
    schemas: {
      Message: {
        type: 'object',
        properties: {
          raw: { type: 'string', format: 'byte', description: 'The entire email message in an RFC 2822 formatted and base64url encoded string.' },
          other: { type: 'string', format: 'byte', description: 'Plain bytes.' },
        },
      },
    },
  },
});

const graphLike = () => ({
  openapi: '3.0.1',
  info: { title: 'm', version: 'v1.0' },
  servers: [{ url: 'https://graph.example.com/v1.0/' }],
  security: [{ aad: [] }],
  paths: {
    '/users/{user-id}/microsoft.graph.sendMail': {
      post: {
        operationId: 'users_sendMail',
        parameters: [{ name: 'user-id', in: 'path', required: true, schema: { type: 'string' } }],
        requestBody: { $ref: '#/components/requestBodies/sendMailRequestBody' },
        responses: { '204': { description: 'Success' } },
      },
    },
    '/users/{user-id}/messages': {
      get: {
        operationId: 'users_ListMessages',
        parameters: [{ name: 'user-id', in: 'path', required: true, schema: { type: 'string' } }, { name: '$top', in: 'query', explode: false, schema: { type: 'integer' } }],
        responses: { '200': { description: 'ok', content: { 'application/json': { schema: { type: 'object' } } } } },
      },
    },
  },
  components: {
    securitySchemes: { aad: { type: 'oauth2', flows: { authorizationCode: { authorizationUrl: 'https://login.example.com/a', tokenUrl: 'https://login.example.com/t', scopes: {} } } } },
    schemas: {
      'microsoft.graph.entity': { type: 'object', properties: { id: { type: 'string' } }, additionalProperties: { type: 'object' } },
      'microsoft.graph.message': {
        allOf: [{ $ref: '#/components/schemas/microsoft.graph.entity' }, { type: 'object', properties: { subject: { type: 'string', nullable: true }, body: { type: 'object', properties: { contentType: { type: 'string', enum: ['text', 'html'] } } } } }],
      },
    },
    requestBodies: {
      sendMailRequestBody: {
        description: 'Action parameters',
        content: { 'application/json': { schema: { type: 'object', properties: { Message: { $ref: '#/components/schemas/microsoft.graph.message' }, SaveToSentItems: { type: 'boolean', nullable: true } }, additionalProperties: { type: 'object' } } } },
        required: true,
      },
    },
  },
});

describe('generated-spec fix-ups', () => {
  it('leave a document without those shapes alone', () => {
    const doc = { openapi: '3.0.0', info: { title: 'x', version: '1' }, paths: { '/users/{id}': { get: { operationId: 'get', responses: {} } } }, components: { schemas: { S: { type: 'string', format: 'byte' } } } };
    const before = structuredClone(doc);
    expect(applyGeneratedSpecFixups(doc)).toEqual([]);
    expect(doc).toEqual(before);
  });

  it('Discovery: a message/*-only body also takes JSON; a base64url byte string takes either base64 alphabet, other bytes stay format byte', async () => {
    const doc = discoveryLike();
    expect(applyGeneratedSpecFixups(doc)).toEqual([
      '1 request bod(ies) typed only message/* also accept application/json (same schema)',
      '1 base64url string(s) checked as standard or URL-safe base64 instead of format byte (standard only)',
    ]);
    expect(doc.components.schemas.Message.properties.raw).toEqual({ type: 'string', pattern: ANY_BASE64, description: expect.any(String) });
    expect(doc.components.schemas.Message.properties.other.format).toBe('byte');

    const s = await startSpecServer(discoveryLike());
    try {
      const send = (body: unknown) => fetch(`${s.origin}/v1/users/me/messages/send`, { method: 'POST', headers: json, body: JSON.stringify(body) });
      expect((await send({ raw: Buffer.from('To: a@b.c\r\n\r\n>>?').toString('base64url') })).status, JSON.stringify(s.violations)).toBe(200);
      expect((await send({ raw: Buffer.from('To: a@b.c\r\n\r\n>>?').toString('base64') })).status).toBe(200);
      expect((await send({ raw: 'To: a@b.c\r\n\r\nnot encoded' })).status).toBe(400);
      expect(s.violations.map((v) => `${v.location} ${v.rule}`)).toEqual(['request.body.raw pattern']);
    } finally {
      await s.close();
    }
  });

  it('Graph: /me and unqualified action aliases, camelCase action parameters (nothing else), open types removed, scalar explode dropped', async () => {
    const doc = graphLike();
    expect(applyGeneratedSpecFixups(doc)).toEqual([
      '1 open-type "additionalProperties: {type: object}" removed',
      '1 action parameter bod(ies) accept camelCase names beside PascalCase',
      '1 "explode: false" dropped from scalar query parameters',
      '1 namespace-qualified action path(s) also reachable unqualified',
      '3 /users/{user-id} path(s) also reachable as /me',
    ]);
    expect(Object.keys(doc.paths).sort()).toEqual(['/me/messages', '/me/microsoft.graph.sendMail', '/me/sendMail', '/users/{user-id}/messages', '/users/{user-id}/microsoft.graph.sendMail', '/users/{user-id}/sendMail']);

    const s = await startSpecServer(graphLike());
    try {
      const post = (p: string, body: unknown) => fetch(`${s.origin}/v1.0${p}`, { method: 'POST', headers: json, body: JSON.stringify(body) });
      const message = { subject: 'Hi', body: { contentType: 'text' } };
      expect((await post('/me/sendMail', { message, saveToSentItems: true })).status, JSON.stringify(s.violations)).toBe(204);
      expect(s.requests.at(-1)?.operationId).toBe('me_sendMail');
      expect((await post('/users/u1/microsoft.graph.sendMail', { Message: message, SaveToSentItems: false })).status, JSON.stringify(s.violations)).toBe(204);
      expect((await fetch(`${s.origin}/v1.0/me/messages?$top=10`, { headers: json })).status, JSON.stringify(s.violations)).toBe(200);
      expect(s.violations).toEqual([]);
      expect((await post('/me/sendMail', { message: { subject: 'Hi', body: { contentType: 'Text' } }, saveToSentItem: true })).status).toBe(400);
      expect(s.violations.map((v) => `${v.location} ${v.rule}`).sort()).toEqual(['request.body.message.body.contentType enum', 'request.body.saveToSentItem additionalProperties']);
    } finally {
      await s.close();
    }
  });
});
