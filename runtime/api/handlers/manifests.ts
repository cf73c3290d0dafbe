// Manifest tools for the studio's playground: validate manifest text with the CLI's validator, and
// try a JSONata mapping against sample input. Handlers translate HTTP only; the checks live in
// runtime/manifest/check-text.ts and runtime/lang/preview.ts.
import type { ApiHandler } from '../handler.ts';
import { ok, fail } from '../envelope.ts';
import { checkManifestText } from '../../manifest/check-text.ts';
import { previewMapping, PreviewError } from '../../lang/preview.ts';

export const manifestHandlers: Record<string, ApiHandler> = {
  async validateManifest(c, _h, _req, res) {
    const body = c.request.requestBody as { yaml: string; filename?: string };
    const result = checkManifestText(body.yaml, body.filename, 'yaml');
    const n = result.problems.length;
    res.json(ok(result, result.valid ? 'The manifest is valid.' : `The manifest has ${n} problem${n === 1 ? '' : 's'}.`));
  },
  async previewMapping(c, _h, _req, res) {
    const body = c.request.requestBody as { expression: string; input?: unknown };
    try {
      res.json(ok(await previewMapping(body.expression, body.input ?? null), 'Evaluated.'));
    } catch (err) {
      if (!(err instanceof PreviewError)) throw err;
      // The envelope, plus where in the expression the problem is (for an editor's marker).
      res.status(422).json({ ...fail(err.message, err.errors, err.code), ...(err.location ? { location: err.location } : {}) });
    }
  },
};
