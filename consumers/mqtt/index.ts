// The MQTT bridge consumer: on when the config has an `mqtt` section.
// The mqtt package is imported only then, so a daemon without it pays nothing.
import type { ConsumerPlugin } from '../../services/eventd/sdk/index.js';
import { mqttConfigSchema, mqttSettings, type MqttConfig } from './settings.js';

const plugin: ConsumerPlugin<MqttConfig> = {
  name: 'mqtt',
  configKey: 'mqtt',
  configSchema: mqttConfigSchema,
  settings: mqttSettings,
  async start(ctx) {
    const { MqttBridge } = await import('./bridge.js');
    const bridge = new MqttBridge(ctx);
    bridge.start();
    return { stop: () => bridge.stop() };
  },
};

export default plugin;
