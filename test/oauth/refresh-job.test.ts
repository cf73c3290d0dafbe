// The refresh-oauth-token job: scheduled per integration from the token's expiry; when it runs
// ahead of expiry it refreshes (no capability call needed) and queues itself from the new token.
// And connecting without the operator's OAuth app: oauth_app_configured false, connect refused.
import { expect, it } from 'vitest';
import { startTestPlatform } from '../helpers/platform.ts';
import { useOAuthFixture, authorize } from './helpers.ts';
import { agendaJobs, runAgendaJobsNow } from '../helpers/store.ts';

const f = useOAuthFixture();

const refreshJobs = () => agendaJobs(f.tp.platform.store, 'refresh-oauth-token');

it('schedules refresh-oauth-token from the expiry; the job refreshes ahead of it and queues the next run', async () => {
  const t = await f.tp.tenant();
  f.auth.nextExpiresIn.push(240); // beyond the call margin (60 s), inside the job's 5 minutes
  const started = (await f.tp.api(t.key, 'GET', '/integrations/connect/acme_crm')).body.data;
  expect((await fetch(await authorize(started.authorization_url), { redirect: 'manual' })).status).toBe(200);
  const id = (await f.tp.api(t.key, 'GET', '/integrations')).body.data[0].id as string;
  await f.tp.waitFor(async () => (await f.tp.api(t.key, 'GET', `/integrations/${id}`)).body.data.status === 'active', 'active');
  const [job] = await refreshJobs();
  expect(job!.data).toMatchObject({ integration_id: id, tenant_id: t.id });
  // Due at half the remaining life (120 s from now), not later than expiry.
  expect(job!.next_run_at - Date.now()).toBeGreaterThan(100_000);
  expect(job!.next_run_at - Date.now()).toBeLessThan(125_000);
  const before = f.auth.counts['refresh_token'] ?? 0;
  // Run it now (as if its time had come).
  expect(await runAgendaJobsNow(f.tp.platform.store, 'refresh-oauth-token')).toBe(1);
  await f.tp.waitFor(async () => (f.auth.counts['refresh_token'] ?? 0) > before, 'the scheduled refresh', 20_000);
  expect(f.auth.counts['refresh_token']).toBe(before + 1);
  // The refresh itself queues the next run (the same unique job), then the finished job is removed and
  // queued again: wait until that settles into exactly one job, due from the new token.
  const next = await f.tp.waitFor(async () => {
    const jobs = await refreshJobs();
    return jobs.length === 1 && jobs[0]!.next_run_at > Date.now() + 3000_000 ? jobs[0] : undefined;
  }, 'one next refresh job');
  expect(next.next_run_at - Date.now()).toBeGreaterThan(3000_000); // from the new 3600 s token: 55 min
  expect(next.next_run_at - Date.now()).toBeLessThan(3600_000);
}, 60_000);

it('without the operator\'s app: oauth_app_configured false and connect answers 409 naming the variables', async () => {
  const other = await startTestPlatform({ PLUGBOARD_CONNECTORS_DIR: f.env['PLUGBOARD_CONNECTORS_DIR']!, PLUGBOARD_PUBLIC_URL: 'http://127.0.0.1:9' });
  try {
    const t = await other.tenant();
    const p = (await other.api(t.key, 'GET', '/providers')).body.data.find((x: { name: string }) => x.name === 'acme_crm');
    expect(p.oauth_app_configured).toBe(false);
    const r = await other.api(t.key, 'GET', '/integrations/connect/acme_crm');
    expect(r.status).toBe(409);
    expect(r.body.message).toMatch(/PLUGBOARD_OAUTH_ACME_CRM_CLIENT_ID/);
  } finally {
    await other.close();
  }
}, 60_000);

it('with the operator\'s app but no PLUGBOARD_PUBLIC_URL: oauth_app_configured false (connect would answer 409 public_url_missing)', async () => {
  const env = { ...f.env };
  delete env['PLUGBOARD_PUBLIC_URL'];
  const other = await startTestPlatform(env);
  try {
    other.platform.config.publicUrl = undefined;
    const t = await other.tenant();
    const p = (await other.api(t.key, 'GET', '/providers')).body.data.find((x: { name: string }) => x.name === 'acme_crm');
    expect(p.oauth_app_configured).toBe(false);
    const r = await other.api(t.key, 'GET', '/integrations/connect/acme_crm');
    expect(r.status).toBe(409);
    expect(r.body.code).toBe('public_url_missing');
  } finally {
    await other.close();
  }
}, 60_000);
