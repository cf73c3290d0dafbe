// The contract server lives in runtime/testkit/contract/ (it is also `plugboard contract`). This
// module names the official spec of each provider the project's tests use, so tests can start a
// server by provider name; everything else is the command's own code.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startSpecServer as start, type SpecServer, type SpecServerOptions } from '../../runtime/testkit/contract/spec-server.ts';
import { zohoSpecFile } from './zoho-spec.ts';

export { minimalSuccessBody, responseExample } from '../../runtime/testkit/contract/spec-server.ts';
export type { SpecServer, CapturedRequest, MockResponse, Violation } from '../../runtime/testkit/contract/spec-server.ts';

const HERE = path.dirname(fileURLToPath(import.meta.url));
export const SPECS_DIR = path.resolve(HERE, '../../../shared/provider-specs');

/**
 * The spec files of each provider: its official document, then recorded fragments for endpoints
 * the connector uses that the document lacks (DESIGN §10), cited in each fragment.
 */
export const PROVIDER_SPECS: Record<string, string[]> = {
  stripe: [path.join(SPECS_DIR, 'stripe/spec3.yaml')],
  twilio: [path.join(SPECS_DIR, 'twilio/twilio_api_v2010.json')],
  sendgrid: [path.join(SPECS_DIR, 'sendgrid/tsg_mail_v3.json'), path.join(HERE, 'recorded/sendgrid-scopes.yaml')],
  slack: [path.join(SPECS_DIR, 'slack/slack_web_openapi_v2.json')],
  plaid: [path.join(SPECS_DIR, 'plaid/2020-09-14.yml')],
  gmail: [path.join(SPECS_DIR, 'gmail/openapi.yaml')],
  outlook_mail: [path.join(SPECS_DIR, 'microsoft-graph-mail/Users.Actions.yml'), path.join(SPECS_DIR, 'microsoft-graph-mail/Mail.yml'), path.join(HERE, 'recorded/graph-user-get.yaml')],
  google_calendar: [path.join(SPECS_DIR, 'google-calendar/openapi.yaml')],
  microsoft_outlook: [path.join(SPECS_DIR, 'microsoft-graph-calendar/Calendar.yml')],
  xero: [path.join(SPECS_DIR, 'xero/xero_accounting.yaml')],
  // PayPal's verify (GET /v1/notifications/webhooks) is in none of the published files: recorded fragment.
  paypal: [path.join(SPECS_DIR, 'paypal/checkout_orders_v2.json'), path.join(HERE, 'recorded/paypal-webhooks-list.yaml')],
  // Dwolla's spec names a security scheme (basicAuth) for POST /token that it never defines: recorded.
  dwolla: [path.join(SPECS_DIR, 'dwolla/openapi.yml'), path.join(HERE, 'recorded/dwolla-token-auth.yaml')],
  stripe_ach: [path.join(SPECS_DIR, 'stripe/spec3.yaml')],
  vapi: [path.join(SPECS_DIR, 'vapi/openapi.json')],
  mailgun: [path.join(SPECS_DIR, 'mailgun/openapi.yaml')],
  docusign: [path.join(SPECS_DIR, 'docusign/esignature.rest.swagger-v2.1.json')],
  google_drive: [path.join(SPECS_DIR, 'google-drive/openapi.yaml'), path.join(HERE, 'recorded/google-drive-upload.yaml')],
  // Zoho's twelve cross-referencing files, bundled into one document when first asked for (zoho-spec.ts).
  get zoho_crm() {
    return [zohoSpecFile(path.join(SPECS_DIR, 'zoho-crm'))];
  },
  // No usable public spec (../shared/provider-specs/README.md): fragments recorded from the API reference.
  calendly: [path.join(HERE, 'recorded/calendly.yaml')],
  pipedrive: [path.join(HERE, 'recorded/pipedrive.yaml')],
  salesforce: [path.join(HERE, 'recorded/salesforce.yaml')],
  hubspot: [path.join(HERE, 'recorded/hubspot.yaml')],
  cal_com: [path.join(HERE, 'recorded/cal_com.yaml')],
  quickbooks: [path.join(HERE, 'recorded/quickbooks.yaml')],
  freshbooks: [path.join(HERE, 'recorded/freshbooks.yaml')],
  sage_accounting: [path.join(HERE, 'recorded/sage_accounting.yaml')],
  wave: [path.join(HERE, 'recorded/wave.yaml')],
  plivo: [path.join(HERE, 'recorded/plivo.yaml')],
};

/** Starts the contract server for a provider by name (PROVIDER_SPECS), or for spec files / a document. */
export function startSpecServer(spec: string | string[] | Record<string, unknown>, options?: SpecServerOptions): Promise<SpecServer> {
  if (typeof spec === 'string' && PROVIDER_SPECS[spec]) return start(PROVIDER_SPECS[spec]!, options);
  return start(spec, options);
}
