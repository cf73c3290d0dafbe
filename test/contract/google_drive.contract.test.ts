// Google Drive connector vs Google's Drive API v3 Discovery document as converted to OpenAPI by
// APIs.guru (google-drive/openapi.yaml) plus recorded/google-drive-upload.yaml. The document has no
// /upload/… paths, so the upload request (uploadType=multipart, a multipart/related body with the
// JSON metadata first and the media second) is judged by that fragment, recorded from Google's upload
// guide; the fragment's metadata part is the spec's own File schema, and this test also sends that
// metadata to the spec's POST /files (files.create, which the contract server lets take
// application/json beside its octet-stream: generated-spec-fixups.ts). The fragment's base path
// (/upload/drive/v3) differs from the spec's (/drive/v3): the server makes both absolute.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { Engine } from '../../runtime/engine/engine.ts';
import type { Connector } from '../../runtime/manifest/connector.ts';
import { startSpecServer, type SpecServer, type MockResponse } from './spec-server.ts';
import { loadConnector, loadEditedManifest, replaceOnce, expectContract, baseUrlOf, describeResult, expectConnectorContract } from './helpers.ts';

const credentials = { access_token: 'ya29.a0AfB_byC-drive-contract-test-token' };
const FOLDER = '1Tg7hPq2vJx0aBcDeFgHiJkLmNoPqRsT';
const pdf = Buffer.from('%PDF-1.4\n%\xc7\xec\x8f\xa2\n%%EOF\n', 'latin1');
type Parts = Array<{ content_type: string; body?: unknown; base64?: string }>;

let override: MockResponse | undefined;

describe('google_drive connector vs the Drive API spec and the recorded upload guide', () => {
  let server: SpecServer;
  let drive: Connector;
  let baseUrl: string;
  const engine = new Engine({ env: {} });

  beforeAll(async () => {
    server = await startSpecServer('google_drive', { respond: () => override });
    drive = loadConnector('google_drive');
    baseUrl = baseUrlOf(drive, server);
  });
  afterAll(() => server?.close());

  it('merges the recorded upload operation at its own base path and lets files.create take JSON metadata', () => {
    const f = server.fixups.join('\n');
    expect(f).toMatch(/google-drive-upload\.yaml has another base path \(\/upload\/drive\/v3 vs \/drive\/v3\): the paths of both made absolute/);
    expect(f).toMatch(/google-drive-upload\.yaml merged: POST \/upload\/drive\/v3\/files/);
    expect(f).toMatch(/2 request bod\(ies\) typed only application\/octet-stream with a JSON resource schema also accept application\/json/);
  });

  it('upload_file is a multipart upload: uploadType=multipart, JSON metadata part (a valid File), then the raw bytes', async () => {
    server.reset();
    override = { status: 200, body: { id: '1AbCdEfGhIjKlMnOpQrStUvWxYz012345', name: 'invoice.pdf', mimeType: 'application/pdf', size: String(pdf.length), webViewLink: 'https://drive.google.com/file/d/1AbC/view' } };
    try {
      const input = { name: 'invoice.pdf', mime_type: 'application/pdf', content: pdf.toString('base64'), folder_id: FOLDER, description: 'May' };
      const result = await engine.run(drive, 'upload_file', { credentials, input, baseUrl });
      const req = expectContract(result, server, 'drive.files.create.upload');
      expect(req).toMatchObject({ method: 'POST', path: '/upload/drive/v3/files', query: { uploadType: 'multipart', fields: 'id,name,mimeType,size,webViewLink' } });
      expect(req.headers.authorization).toBe(`Bearer ${credentials.access_token}`);
      expect(req.contentType).toMatch(/^multipart\/related; boundary=\S+$/);
      const parts = req.body as Parts;
      expect(parts).toEqual([
        { content_type: 'application/json; charset=UTF-8', body: { name: 'invoice.pdf', mimeType: 'application/pdf', parents: [FOLDER], description: 'May' } },
        { content_type: 'application/pdf', base64: pdf.toString('base64') },
      ]);
      // The media part carries the decoded bytes, not base64 text.
      expect(req.rawBody.length).toBeLessThan(pdf.length + 400);
      expect(result.ok && result.output).toEqual({ file_id: '1AbCdEfGhIjKlMnOpQrStUvWxYz012345', name: 'invoice.pdf', mime_type: 'application/pdf', size: pdf.length, web_url: 'https://drive.google.com/file/d/1AbC/view' });

      // The metadata part, as the spec's files.create takes it (POST /drive/v3/files, JSON).
      server.reset();
      const res = await fetch(`${server.origin}/drive/v3/files`, { method: 'POST', headers: { authorization: `Bearer ${credentials.access_token}`, 'content-type': 'application/json' }, body: JSON.stringify(parts[0]!.body) });
      expect(res.status, JSON.stringify(server.violations)).toBe(200);
      expect(server.requests[0]?.operationId).toBe('drive.files.create');
      expect(server.violations).toEqual([]);
    } finally {
      override = undefined;
    }
  });

  it('upload_file of a text file sends no parents and the text as is', async () => {
    server.reset();
    const result = await engine.run(drive, 'upload_file', { credentials, input: { name: 'notes.txt', mime_type: 'text/plain', content: Buffer.from('Grüße\n').toString('base64') }, baseUrl });
    const req = expectContract(result, server, 'drive.files.create.upload');
    expect(req.body).toEqual([{ content_type: 'application/json; charset=UTF-8', body: { name: 'notes.txt', mimeType: 'text/plain' } }, { content_type: 'text/plain', body: 'Grüße\n' }]);
  });

  it('list_files is a valid files.list with an escaped search query, page size and token', async () => {
    server.reset();
    const result = await engine.run(drive, 'list_files', { credentials, input: { folder_id: FOLDER, name_contains: "it's a \\ test", page_size: 50, page_token: 'tok' }, baseUrl });
    const req = expectContract(result, server, 'drive.files.list');
    expect(req.query).toEqual({ q: `'${FOLDER}' in parents and name contains 'it\\'s a \\\\ test' and trashed = false`, pageSize: '50', pageToken: 'tok', fields: 'nextPageToken,files(id,name,mimeType,size,parents,modifiedTime,webViewLink)' });
    expect(result.ok && result.output).toMatchObject({ files: expect.any(Array) });
  });

  it('verify is a valid about.get with fields=user', async () => {
    server.reset();
    const result = await engine.verify(drive, { credentials, baseUrl });
    const req = expectContract(result, server, 'drive.about.get');
    expect(req).toMatchObject({ method: 'GET', path: '/drive/v3/about', rawQuery: 'fields=user', rawBody: '' });
  });

  it("maps Google's error answer to a provider_error with its message and status", async () => {
    server.reset();
    override = { status: 403, body: { error: { code: 403, message: 'The user has not granted the app 1234 write access to the file 0Bww.', errors: [{ domain: 'global', reason: 'appNotAuthorizedToFile', message: 'The user has not granted the app 1234 write access to the file 0Bww.' }], status: 'PERMISSION_DENIED' } } };
    try {
      const result = await engine.run(drive, 'upload_file', { credentials, input: { name: 'a.txt', mime_type: 'text/plain', content: 'YQ==', folder_id: '0Bww' }, baseUrl });
      const info = describeResult(result, server);
      expect(server.violations, info).toEqual([]);
      expect(!result.ok && result.error, info).toMatchObject({ type: 'provider_error', status: 403, provider_code: 'PERMISSION_DENIED' });
    } finally {
      override = undefined;
    }
  });

  it('NEGATIVE: a simple (media) upload type is not the multipart request the body is', async () => {
    server.reset();
    const broken = loadEditedManifest('google_drive', (t) => replaceOnce(t, 'uploadType: multipart\n', 'uploadType: media\n'));
    const result = await engine.run(broken, 'upload_file', { credentials, input: { name: 'a.txt', mime_type: 'text/plain', content: 'YQ==' }, baseUrl });
    const info = describeResult(result, server);
    expect(server.violations.map((v) => `${v.location} ${v.rule}`), info).toContain('request.query.uploadType enum');
    expect(result.ok, info).toBe(false);
  });

  it('NEGATIVE: parents as a string (the File schema wants an array) is a violation of the metadata part', async () => {
    server.reset();
    const broken = loadEditedManifest('google_drive', (t) => replaceOnce(t, '"parents": $exists(input.folder_id) ? [input.folder_id],', '"parents": input.folder_id,'));
    const result = await engine.run(broken, 'upload_file', { credentials, input: { name: 'a.txt', mime_type: 'text/plain', content: 'YQ==', folder_id: FOLDER }, baseUrl });
    const info = describeResult(result, server);
    expect(server.violations.map((v) => `${v.location} ${v.rule}`), info).toContain('request.body.0.body.parents type');
    expect(result.ok, info).toBe(false);
  });

  it('NEGATIVE: the media before the metadata is a violation', async () => {
    server.reset();
    const broken = loadEditedManifest('google_drive', (t) => replaceOnce(t, '"content_type": "application/json; charset=UTF-8",', '"content_type": "application/octet-stream",'));
    const result = await engine.run(broken, 'upload_file', { credentials, input: { name: 'a.txt', mime_type: 'text/plain', content: 'YQ==' }, baseUrl });
    const info = describeResult(result, server);
    expect(server.violations.map((v) => `${v.location} ${v.rule}`), info).toContain('request.body.0.content_type pattern');
    expect(result.ok, info).toBe(false);
  });

  it("plugboard contract google_drive: every capability example and verify pass against the spec and the recorded upload (the command's own run)", async () => {
    await expectConnectorContract('google_drive');
  });
});
