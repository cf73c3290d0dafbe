// SQL repository: system settings (key -> text), e.g. the recorded master-key fingerprint. Not
// tenant data: a handful of rows the composition root and the CLI read and write.
import type { Store } from '../types.ts';
import type { SqlConnection } from './connection.ts';

export function settingsRepo(c: SqlConnection): Store['settings'] {
  const { db } = c;
  const get = async (key: string): Promise<string | undefined> =>
    (await db.selectFrom('plugboard_settings').select('value').where('key', '=', key).executeTakeFirst())?.value;
  return {
    get,
    putIfAbsent: async (key: string, value: string) => {
      // Two processes starting at once: the first insert wins, both read back the same value.
      await db.insertInto('plugboard_settings').values({ key, value }).onConflict((oc) => oc.column('key').doNothing()).execute();
      const stored = await get(key);
      if (stored === undefined) throw new Error(`setting ${key} was not stored`);
      return stored;
    },
    put: async (key: string, value: string) => {
      await db.insertInto('plugboard_settings').values({ key, value }).onConflict((oc) => oc.column('key').doUpdateSet({ value })).execute();
    },
  };
}
