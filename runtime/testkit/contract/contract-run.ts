// One verdict of `plugboard contract` (a capability example, verify, or a stream page request).
import type { CapturedRequest, Violation, ResponseIssue } from './spec-server.ts';

export interface ContractRun {
  /** Capability name, "verify", or "streams.<name>". */
  capability: string;
  /** The example whose input was sent (capabilities only). */
  example?: string;
  passed: boolean;
  requests: Array<Pick<CapturedRequest, 'method' | 'path' | 'operationId' | 'status'> & { query?: string }>;
  violations: Violation[];
  /** The example's recorded response does not match the spec's response schema (reported, not failing). */
  responseIssues: ResponseIssue[];
  /** Why the run failed besides violations (no request, unexpected engine result). */
  problems: string[];
}
