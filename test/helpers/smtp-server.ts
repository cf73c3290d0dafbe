// A real SMTP server on 127.0.0.1 (smtp-server) for the SMTP connector's tests: checks AUTH against
// its users, records every message (parsed with mailparser, as a receiving system would) with its
// envelope and session, and counts connections so pool reuse can be seen.
import { SMTPServer, type SMTPServerOptions, type SMTPServerSession } from 'smtp-server';
import { simpleParser, type ParsedMail } from 'mailparser';
import type { AddressInfo } from 'node:net';

export interface Received {
  mail: ParsedMail;
  raw: string;
  envelope: { from: string; to: string[] };
  user: unknown;
  secure: boolean;
}

export interface TestSmtpServer {
  port: number;
  received: Received[];
  connections: number;
  closedConnections: number;
  close(): Promise<void>;
}

export async function startSmtpServer(opts: { users?: Record<string, string>; server?: Partial<SMTPServerOptions>; rcpt?: (address: string) => Error | undefined; authError?: (username: string, password: string) => string } = {}): Promise<TestSmtpServer> {
  const users = opts.users ?? { 'ana@example.com': 'right-password' };
  const state: TestSmtpServer = { port: 0, received: [], connections: 0, closedConnections: 0, close: async () => {} };
  const server = new SMTPServer({
    logger: false,
    allowInsecureAuth: true,
    authMethods: ['PLAIN', 'LOGIN'],
    ...opts.server,
    onConnect(_session, cb) {
      state.connections++;
      cb();
    },
    onClose() {
      state.closedConnections++;
    },
    onAuth(auth, _session, cb) {
      if (auth.username && users[auth.username] !== undefined && users[auth.username] === auth.password) return cb(null, { user: auth.username });
      const err = Object.assign(new Error(opts.authError ? opts.authError(auth.username ?? '', auth.password ?? '') : 'Authentication credentials invalid'), { responseCode: 535 });
      cb(err);
    },
    onRcptTo(address, _session, cb) {
      const err = opts.rcpt?.(address.address);
      cb(err ?? undefined);
    },
    onData(stream, session: SMTPServerSession, cb) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        const raw = Buffer.concat(chunks).toString('utf8');
        simpleParser(raw).then((mail) => {
          state.received.push({
            mail,
            raw,
            envelope: { from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '', to: session.envelope.rcptTo.map((r) => r.address) },
            user: session.user,
            secure: session.secure,
          });
          cb(null);
        }, cb);
      });
    },
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  state.port = (server.server.address() as AddressInfo).port;
  state.close = () => new Promise<void>((resolve) => server.close(() => resolve()));
  return state;
}
