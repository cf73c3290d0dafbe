// Master keys. From PLUGBOARD_MASTER_KEY (one or more base64 32-byte keys, comma-separated, the
// first active) or from a key file created on first start with mode 0600. A key's id is derived
// from the key itself, so every wrapped data key names the master key that can open it.
import fs from 'node:fs';
import path from 'node:path';
import { randomBytes, createHash } from 'node:crypto';
import { ConfigError } from '../errors/plugboard-error.ts';

export interface MasterKey {
  id: string;
  key: Buffer;
}

export class KeyringError extends ConfigError {}

export function keyId(key: Buffer): string {
  return 'mk_' + createHash('sha256').update('plugboard-master-key-id').update(key).digest('hex').slice(0, 16);
}

function decodeKey(text: string, where: string): Buffer {
  const t = text.trim();
  const buf = /^[0-9a-fA-F]{64}$/.test(t) ? Buffer.from(t, 'hex') : Buffer.from(t, 'base64');
  if (buf.length !== 32) throw new KeyringError(`${where} must be 32 bytes, base64 or hex encoded (got ${buf.length} bytes)`);
  return buf;
}

interface KeyFile {
  keys: string[]; // base64, first is active
}

export class Keyring {
  private keys: MasterKey[];

  private constructor(keys: MasterKey[], readonly source: { kind: 'env' } | { kind: 'file'; file: string }) {
    this.keys = keys;
  }

  static fromEnvOrFile(env: NodeJS.ProcessEnv, keyFile: string): Keyring {
    const fromEnv = env.PLUGBOARD_MASTER_KEY;
    if (fromEnv) {
      const keys = fromEnv.split(',').filter((s) => s.trim()).map((s, i) => decodeKey(s, `PLUGBOARD_MASTER_KEY (key ${i + 1})`));
      if (!keys.length) throw new KeyringError('PLUGBOARD_MASTER_KEY is empty');
      return new Keyring(keys.map((key) => ({ id: keyId(key), key })), { kind: 'env' });
    }
    return new Keyring(Keyring.readOrCreateFile(keyFile), { kind: 'file', file: keyFile });
  }

  private static readOrCreateFile(file: string): MasterKey[] {
    if (!fs.existsSync(file)) {
      fs.mkdirSync(path.dirname(file), { recursive: true });
      const body: KeyFile = { keys: [randomBytes(32).toString('base64')] };
      // wx: never overwrite a key file another process created a moment ago.
      try {
        fs.writeFileSync(file, JSON.stringify(body) + '\n', { mode: 0o600, flag: 'wx' });
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
    }
    const mode = fs.statSync(file).mode & 0o777;
    if (mode & 0o077) throw new KeyringError(`master key file ${file} is readable by others (mode ${mode.toString(8)}): chmod 600 it`);
    let parsed: KeyFile;
    try {
      parsed = JSON.parse(fs.readFileSync(file, 'utf8')) as KeyFile;
    } catch {
      throw new KeyringError(`master key file ${file} is not valid JSON`);
    }
    if (!Array.isArray(parsed.keys) || !parsed.keys.length) throw new KeyringError(`master key file ${file} holds no keys`);
    return parsed.keys.map((k, i) => {
      const key = decodeKey(k, `master key file ${file} (key ${i + 1})`);
      return { id: keyId(key), key };
    });
  }

  private checkedAt = Date.now();

  /** The key new data keys are wrapped with. A file keyring notices a rotation by another process within 5 s. */
  get active(): MasterKey {
    if (this.source.kind === 'file' && Date.now() - this.checkedAt > 5000) {
      this.checkedAt = Date.now();
      try {
        this.keys = Keyring.readOrCreateFile(this.source.file);
      } catch {
        /* keep the keys we have; reads report problems where they happen */
      }
    }
    return this.keys[0]!;
  }

  ids(): string[] {
    return this.keys.map((k) => k.id);
  }

  /** Finds a key by id; a file keyring re-reads its file once, so a rotation done by another process is picked up without restart. */
  find(id: string): MasterKey | undefined {
    let k = this.keys.find((x) => x.id === id);
    if (!k && this.source.kind === 'file') {
      this.keys = Keyring.readOrCreateFile(this.source.file);
      k = this.keys.find((x) => x.id === id);
    }
    return k;
  }

  /** File keyrings only: put a new active key in front, keeping the old ones for reads. */
  addActiveKey(): MasterKey {
    if (this.source.kind !== 'file') throw new KeyringError('rotate a PLUGBOARD_MASTER_KEY by listing the new key first ("new,old"), then run keys rotate-master');
    const key = randomBytes(32);
    this.keys = [{ id: keyId(key), key }, ...this.keys];
    this.writeFile();
    return this.keys[0]!;
  }

  /** File keyrings only: drop keys that no data key uses any more. */
  retainOnly(ids: Set<string>): void {
    if (this.source.kind !== 'file') return;
    this.keys = this.keys.filter((k, i) => i === 0 || ids.has(k.id));
    this.writeFile();
  }

  private writeFile(): void {
    if (this.source.kind !== 'file') return;
    const tmp = `${this.source.file}.tmp-${process.pid}`;
    fs.writeFileSync(tmp, JSON.stringify({ keys: this.keys.map((k) => k.key.toString('base64')) }) + '\n', { mode: 0o600 });
    fs.renameSync(tmp, this.source.file);
  }
}
