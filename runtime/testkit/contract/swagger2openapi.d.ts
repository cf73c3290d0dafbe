// Minimal types for swagger2openapi (ships none), as used by spec-document.ts.
declare module 'swagger2openapi' {
  interface ConvertOptions {
    patch?: boolean;
    warnOnly?: boolean;
    resolveInternal?: boolean;
    [option: string]: unknown;
  }
  interface ConvertResult {
    openapi: Record<string, any>;
  }
  const swagger2openapi: {
    convertObj(swagger: Record<string, unknown>, options: ConvertOptions): Promise<ConvertResult>;
  };
  export default swagger2openapi;
}
