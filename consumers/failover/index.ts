// The failover consumer: resource groups kept running on exactly one node of
// the partition that has quorum, moved when their node fails (DESIGN.md,
// "Failover consumer"). Turned on by the `failover` config key.
import type { ConsumerPlugin } from '../../services/eventd/consumers/contract.js';
import { groupClass, nodeClass } from './ledger.js';
import { FailoverRuntime } from './runtime.js';
import { failoverSettings } from './settings.js';

const plugin: ConsumerPlugin = {
  name: 'failover',
  configKey: 'failover',
  async start(ctx) {
    const settings = failoverSettings(ctx.config);
    const runtime = new FailoverRuntime(ctx, settings);
    // The ledger is folded from the whole log: every FailoverGroup event is in it, in agreed order.
    const history = [];
    for (let pos = 0; ; ) {
      const batch = ctx.events.after(pos, 1000);
      if (batch.length === 0) break;
      for (const item of batch) if (item.event.class === groupClass || item.event.class === nodeClass) history.push(item.event);
      pos = batch.at(-1)!.pos;
    }
    const unsubscribe = ctx.onEvents((items) => runtime.observe(items.map((item) => item.event)));
    runtime.start(history);
    ctx.logger.info({ groups: settings.groups.map((group) => group.name), capacity: settings.capacity, fenceMs: settings.fenceMs }, 'failover started');
    return {
      status: () => ({ groups: runtime.groups() }),
      async stop() {
        unsubscribe();
        await runtime.stop();
      },
    };
  },
};

export default plugin;
