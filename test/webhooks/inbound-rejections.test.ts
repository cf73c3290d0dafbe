// InboundRejections without a database: counting, the bounded sample, and a failed flush that
// keeps its counts for the next one.
import { describe, it, expect } from 'vitest';
import { InboundRejections, REJECTION_SAMPLES_PER_INTEGRATION } from '../../runtime/webhooks/inbound-rejections.ts';
import type { Store, InboundEventRow, InboundRejectionCount } from '../../runtime/store/types.ts';

function fakeStore(failures: number) {
  const written: Array<{ counts: InboundRejectionCount[]; samples: InboundEventRow[] }> = [];
  const store = {
    inboundEvents: {
      addRejections: async (counts: InboundRejectionCount[], samples: InboundEventRow[]) => {
        if (failures-- > 0) throw new Error('database is locked');
        written.push({ counts: structuredClone(counts), samples });
      },
    },
  } as unknown as Store;
  return { store, written };
}

const rejection = (integration_id: string, code = 'missing_signature') => ({ tenant_id: 't1', integration_id, provider: 'stripe', content_type: 'application/json', code, reason: 'the Stripe-Signature header is missing' });

describe('InboundRejections', () => {
  it('counts per integration and reason and keeps only the newest samples, without bodies', async () => {
    const { store, written } = fakeStore(0);
    const r = new InboundRejections(store, undefined, 60_000);
    expect(r.record(rejection('i1'))).toBe(true);
    for (let i = 0; i < 99; i++) expect(r.record(rejection('i1'))).toBe(false);
    r.record(rejection('i1', 'signature_mismatch'));
    r.record(rejection('i2'));
    await r.flush();
    expect(written).toHaveLength(1);
    const counts = Object.fromEntries(written[0]!.counts.map((c) => [`${c.integration_id}/${c.code}`, c.count]));
    expect(counts).toEqual({ 'i1/missing_signature': 100, 'i1/signature_mismatch': 1, 'i2/missing_signature': 1 });
    const samples = written[0]!.samples;
    expect(samples.filter((s) => s.integration_id === 'i1')).toHaveLength(REJECTION_SAMPLES_PER_INTEGRATION);
    expect(samples.every((s) => s.status === 'rejected' && s.body === '')).toBe(true);
    // the newest is kept: the last i1 sample is the signature_mismatch one
    expect(samples.filter((s) => s.integration_id === 'i1').at(-1)!.reason).toMatch(/^signature_mismatch: /);
    await r.flush(); // nothing new: nothing written
    expect(written).toHaveLength(1);
  });

  it('keeps the counts of a failed flush for the next one', async () => {
    const { store, written } = fakeStore(1);
    const r = new InboundRejections(store, undefined, 60_000);
    for (let i = 0; i < 5; i++) r.record(rejection('i1'));
    await expect(r.flush()).rejects.toThrow(/locked/);
    for (let i = 0; i < 3; i++) r.record(rejection('i1'));
    await r.flush();
    expect(written).toHaveLength(1);
    expect(written[0]!.counts).toEqual([expect.objectContaining({ integration_id: 'i1', code: 'missing_signature', count: 8 })]);
  });
});
