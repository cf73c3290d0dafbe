// `plugboard contract` for streams: each stream's requests are judged by the spec like a
// capability's. Per example (a recorded page of the provider's documentation, else the spec's own
// example answer) three runs: the first page (whose records must map to models valid against
// schemas/models, and equal the example's `records` when given), the follow-up page request the
// paginator builds from that page, and an incremental first page sent with the cursor the first page
// reached. The server replays the same page to every request, so a follow-up stopped by the loop
// guard (the replay hands out the same next request again) has still been judged.
import { isDeepStrictEqual } from 'node:util';
import type { Connector } from '../../manifest/connector.ts';
import type { CompiledStream } from '../../manifest/streams.ts';
import type { StreamExampleSpec } from '../../manifest/types.ts';
import type { Engine } from '../../engine/engine.ts';
import type { RunOptions } from '../../engine/run-types.ts';
import type { StreamPage } from '../../engine/stream.ts';
import type { PageRequest } from '../../engine/pagination/index.ts';
import { EngineError } from '../../http/errors.ts';
import type { CapturedRequest, MockResponse, SpecServer } from './spec-server.ts';
import type { ContractRun } from './contract-run.ts';

export interface StreamContractContext {
  server: SpecServer;
  engine: () => Engine;
  auth: Pick<RunOptions, 'credentials' | 'tokenSource' | 'connection'>;
  baseUrl: string;
  /** Sets what the server answers the next requests with (undefined: the spec's own example). */
  answer(response: MockResponse | undefined): void;
}

const LOOP_GUARD = 'returned the same next page request twice';

/** The runs of one stream: first page, follow-up page and incremental request, per example. */
export async function streamContractRuns(connector: Connector, s: CompiledStream, ctx: StreamContractContext): Promise<ContractRun[]> {
  const runs: ContractRun[] = [];
  const examples: Array<StreamExampleSpec | undefined> = s.examples.length ? s.examples : [undefined];
  for (const ex of examples) {
    const label = ex ? ex.name : "the spec's example answer";
    ctx.answer(ex ? { status: ex.response.status, headers: ex.response.headers, body: ex.response.body } : undefined);

    // 1. The first page of a full read.
    const first = await readOne(connector, s, ctx, { cursor: null });
    const problems = [...first.problems];
    if (first.page) problems.push(...pageProblems(s, first.page, ex));
    if (first.page && !first.page.next && s.pagination.spec.type !== 'none') {
      problems.push(`the page gave no next page request (pagination ${s.pagination.spec.type}): the follow-up request cannot be checked; the example must have a next page`);
    }
    const full = first.requests[0];
    runs.push(judge(s, `${label}: first page`, first.requests, problems, ctx.server));

    // 2. The follow-up page, built by the paginator from the first page.
    if (first.page?.next) {
      const follow = await readOne(connector, s, ctx, { cursor: null, resume: first.page.next }, true);
      runs.push(judge(s, `${label}: next page`, follow.requests, follow.problems, ctx.server));
    }

    // 3. An incremental first page, with the cursor the first page reached.
    if (s.cursor) {
      const cursor = first.page?.cursor ?? null;
      if (cursor === null) {
        runs.push(judge(s, `${label}: incremental`, [], [`no valid record of the page has the cursor field "${s.cursor.field}": no incremental request to check`], ctx.server, true));
      } else {
        const inc = await readOne(connector, s, ctx, { cursor });
        const sent = inc.requests[0];
        if (sent && full && sent.rawQuery === full.rawQuery && isDeepStrictEqual(sent.headers, full.headers) && sent.path === full.path) {
          inc.problems.push(`the cursor ${JSON.stringify(cursor)} changed nothing in the request: neither cursor.param/header nor a template reading sync.cursor sends it`);
        }
        runs.push(judge(s, `${label}: incremental (sync.cursor ${cursor})`, inc.requests, inc.problems, ctx.server));
      }
    }
  }
  return runs;
}

interface ReadOutcome {
  page?: StreamPage;
  problems: string[];
  requests: CapturedRequest[];
}

/** Reads one page through the engine (stopping the generator after it) and keeps the requests the server saw. */
async function readOne(connector: Connector, s: CompiledStream, ctx: StreamContractContext, opts: { cursor: string | null; resume?: PageRequest }, followUp = false): Promise<ReadOutcome> {
  ctx.server.reset();
  const problems: string[] = [];
  let page: StreamPage | undefined;
  const gen = ctx.engine().readStream(connector, s.name, { ...ctx.auth, baseUrl: ctx.baseUrl, cursor: opts.cursor, resume: opts.resume ?? null });
  try {
    const step = await gen.next();
    if (!step.done) page = step.value;
  } catch (err) {
    const f = err instanceof EngineError ? err.failure : undefined;
    const message = f ? `${f.type}: ${f.message}` : (err as Error).message;
    // The replayed page names the request just made as its next one: the loop guard stops, as it must.
    if (!(followUp && message.includes(LOOP_GUARD))) problems.push(`engine: ${message}`);
  } finally {
    await gen.return(undefined).catch(() => undefined);
  }
  return { ...(page ? { page } : {}), problems, requests: [...ctx.server.requests] };
}

/** A page's records must be valid models (and the example's records, when it gives them). */
function pageProblems(s: CompiledStream, page: StreamPage, ex: StreamExampleSpec | undefined): string[] {
  const problems: string[] = [];
  for (const bad of page.invalid) problems.push(`record ${bad.key ?? '(no key)'} is not a valid ${s.model}: ${bad.errors.join('; ')}`);
  if (!page.records.length && !page.invalid.length) problems.push(`the page gave no records (records: ${s.records.source ?? 'expression'}): nothing was mapped to ${s.model}`);
  if (ex?.records && !isDeepStrictEqual(ex.records, page.records.map((r) => r.data))) {
    problems.push(`the mapped records differ from the example's records:\n  expected ${JSON.stringify(ex.records)}\n  got      ${JSON.stringify(page.records.map((r) => r.data))}`);
  }
  return problems;
}

function judge(s: CompiledStream, example: string, requests: CapturedRequest[], extra: string[], server: SpecServer, noRequestExpected = false): ContractRun {
  const problems = [...extra];
  if (!requests.length && !noRequestExpected) problems.unshift('no request reached the server');
  for (const r of requests) if (!r.operationId && !r.violations.length) problems.push(`${r.method} ${r.path} matched no operation`);
  const violations = requests.flatMap((r) => r.violations);
  return {
    capability: `streams.${s.name}`,
    example,
    passed: problems.length === 0 && violations.length === 0,
    requests: requests.map(({ method, path, operationId, status, rawQuery }) => ({ method, path, ...(rawQuery ? { query: rawQuery } : {}), operationId, status })),
    violations,
    responseIssues: [...server.responseIssues],
    problems,
  };
}
