// The words of a refused credential field, for people: the API's 422 (`credentials.<field>`) and the
// studio's credential form (which imports this file, so the browser says exactly what the API says)
// turn JSON Schema keyword failures into these instead of Ajv's "must match pattern ^AC[0-9a-f]{32}$".
// A manifest's credential field carries a title (and maybe a description, shown beside the input),
// not a message of its own, so a pattern failure names the field's title. No imports: the studio's
// bundle takes it as it is.

/** What a message needs of a manifest credential field (runtime/manifest/types.ts CredentialField). */
export interface CredentialFieldHint {
  type?: string;
  title?: string;
  enum?: ReadonlyArray<string | number | boolean>;
}

/** One failed keyword, as Ajv reports it (the API) or rjsf passes it on (the studio: `name` is the keyword). */
export interface KeywordFailure {
  keyword: string;
  params?: Record<string, unknown>;
}

const FORMATS: Record<string, string> = {
  e164: 'must be a phone number in E.164 form: + and the country code, digits only (e.g. +15551234567)',
  email: 'must be an email address (e.g. name@example.com)',
  uri: 'must be an absolute URL (e.g. https://example.com)',
  hostname: 'must be a host name (e.g. mail.example.com)',
  uuid: 'must be a UUID (e.g. 123e4567-e89b-12d3-a456-426614174000)',
};

const TYPES: Record<string, string> = { string: 'text', integer: 'a whole number', number: 'a number', boolean: 'true or false' };

/** The message for one failed keyword of the credential field `name`. */
export function credentialMessage(failure: KeywordFailure, name: string, field: CredentialFieldHint | undefined): string {
  const params = failure.params ?? {};
  const title = field?.title ?? name;
  switch (failure.keyword) {
    case 'required':
      return 'is required';
    case 'additionalProperties':
      return 'is not a field of this provider';
    case 'pattern':
      return `is not a valid ${title}: check it for a typing or copying mistake`;
    case 'format':
      return FORMATS[String(params['format'])] ?? `is not a valid ${title}`;
    case 'enum': {
      const allowed = (params['allowedValues'] as unknown[] | undefined) ?? field?.enum ?? [];
      return `must be one of: ${allowed.map((v) => String(v)).join(', ')}`;
    }
    case 'type':
      return `must be ${TYPES[String(params['type'])] ?? String(params['type'])}`;
    default:
      return `is not a valid ${title}`;
  }
}
