// nodemailer's `getSocket` for an SMTP server a tenant named (SmtpSettings.publicOnly): the TCP
// connection is opened here, to a public address only. The host is judged as an IP literal, else by
// every address DNS gives at this very connection (runtime/http/address-policy.ts guardedLookup), so
// a name that later resolves to a private address (DNS rebinding) is refused too. nodemailer then
// speaks SMTP over the socket and upgrades it to TLS (implicit or STARTTLS) with the host name as
// servername, so the certificate is checked against the name, not the address.
import net from 'node:net';
import { AddressPolicyError, findAddressPolicyError, guardedLookup, literalHostProblem, type GuardOptions } from '../address-policy.ts';

type SocketCallback = (err: Error | null, socketOptions?: { connection: net.Socket }) => void;

/** A connect failure in the shape nodemailer gives its own (code, originalCode, command CONN). */
function connectError(err: NodeJS.ErrnoException, host: string, port: number): Error {
  const dnsFailure = err.code === 'ENOTFOUND' || err.code === 'EAI_AGAIN';
  return Object.assign(new Error(dnsFailure ? `cannot resolve ${host}: ${err.code}` : `connect ${err.code ?? 'failed'} ${host}:${port}`), {
    code: dnsFailure ? 'EDNS' : 'ESOCKET',
    originalCode: err.code,
    command: 'CONN',
  });
}

/** `opts` as guardedLookup's (allowPrivate: connect through the same path, refusing nothing). */
export function publicSocket(opts: GuardOptions = {}) {
  const lookup = guardedLookup(opts);
  return (options: { host?: string; port?: number; connectionTimeout?: number }, callback: SocketCallback): void => {
    const host = String(options.host ?? '');
    const port = Number(options.port);
    const why = opts.allowPrivate ? undefined : literalHostProblem(host);
    if (why) {
      setImmediate(() => callback(new AddressPolicyError(`connection refused: the host ${why}`, why)));
      return;
    }
    let settled = false;
    const socket = net.connect({ host, port, lookup: lookup as never });
    const done = (err: Error | null) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.removeListener('error', onError);
      if (err) {
        socket.destroy();
        callback(err);
      } else callback(null, { connection: socket });
    };
    const onError = (err: NodeJS.ErrnoException) => done(findAddressPolicyError(err) ?? connectError(err, host, port));
    const timeoutMs = options.connectionTimeout ?? 120_000;
    const timer = setTimeout(() => done(Object.assign(new Error(`connection to ${host}:${port} timed out after ${timeoutMs} ms`), { code: 'ETIMEDOUT', timeoutType: 'CONNECT_TIMEOUT', command: 'CONN' })), timeoutMs);
    socket.once('error', onError);
    socket.once('connect', () => done(null));
  };
}
