// The MQTT bridge consumer: on when the config has an `mqtt` section.
// The mqtt package is imported only then, so a daemon without it pays nothing.
import type { MqttConfig } from '../../services/eventd/config.js';
import type { ConsumerPlugin } from '../../services/eventd/consumers/contract.js';

const plugin: ConsumerPlugin<MqttConfig> = {
  name: 'mqtt',
  configKey: 'mqtt',
  async start(ctx) {
    const { MqttBridge } = await import('./bridge.js');
    const bridge = new MqttBridge(ctx);
    bridge.start();
    return { stop: () => bridge.stop() };
  },
};

export default plugin;
