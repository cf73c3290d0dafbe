// The API's types, generated from schemas/openapi.yaml into generated/api/openapi.d.ts (`npm run
// studio:types`; a test fails when they drift): the studio's client and the TypeScript SDK share them.
export type { paths, components, operations } from '../../../generated/api/openapi';
