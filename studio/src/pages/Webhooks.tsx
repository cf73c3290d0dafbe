// Webhooks: outbound subscriptions (secret shown once, test event, rotate), the delivery log
// (filters, attempts, replay) and inbound events from providers (status, reprocess), as tabs.
import { useState } from 'react';
import { Tab, TabList, TabPanel, Tabs, type Key } from 'react-aria-components';
import { Deliveries } from '../components/ops/Deliveries';
import { InboundEvents } from '../components/ops/InboundEvents';
import { Subscriptions } from '../components/ops/Subscriptions';
import type { DeliveryFilter } from '../components/ops/webhook-queries';
import '../components/ops/ops.css';

export function WebhooksPage() {
  const [tab, setTab] = useState<Key>('subscriptions');
  const [filter, setFilter] = useState<DeliveryFilter>({});
  return (
    <>
      <h1>Webhooks</h1>
      <p className="lede">Signed events to your systems (Standard Webhooks), what was delivered, and the events providers sent in.</p>
      <Tabs className="tabs" selectedKey={tab} onSelectionChange={setTab}>
        <TabList aria-label="Webhooks" className="tab-list">
          <Tab id="subscriptions" className="tab">
            Subscriptions
          </Tab>
          <Tab id="deliveries" className="tab">
            Delivery log
          </Tab>
          <Tab id="inbound" className="tab">
            Inbound events
          </Tab>
        </TabList>
        <TabPanel id="subscriptions" className="tab-panel">
          <Subscriptions
            onShowDeliveries={(subscription_id) => {
              setFilter({ subscription_id });
              setTab('deliveries');
            }}
          />
        </TabPanel>
        <TabPanel id="deliveries" className="tab-panel">
          <Deliveries filter={filter} onFilter={setFilter} />
        </TabPanel>
        <TabPanel id="inbound" className="tab-panel">
          <InboundEvents />
        </TabPanel>
      </Tabs>
    </>
  );
}
