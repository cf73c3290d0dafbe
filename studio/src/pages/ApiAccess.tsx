// API access: the tenant's API keys and OAuth clients (each secret shown once), usage over time
// (charts load on demand) with the busiest routes, and the audit log.
import { ApiKeysSection } from './access/ApiKeys';
import { AuditLogSection } from './access/AuditLog';
import { OAuthClientsSection } from './access/OAuthClients';
import { UsageSection } from './access/Usage';
import './page-parts.css';
import './access/access.css';

export function ApiAccessPage() {
  return (
    <>
      <h1>API access</h1>
      <p className="lede">Keys and OAuth clients that call the Plugboard API for this tenant, how much they are used, and what was changed.</p>
      <ApiKeysSection />
      <OAuthClientsSection />
      <UsageSection />
      <AuditLogSection />
    </>
  );
}
