// Row ids: lower-case ULIDs (26 chars, sortable by creation time), DESIGN §3.
import { ulid } from 'ulid';

export function newId(): string {
  return ulid().toLowerCase();
}
