// What the cluster edge needs of a transport (memberlist's transport.go): the
// node never names UDP, so another carrier (TCP for bulk pulls, an MQTT
// broker) can stand behind the same interface, and tests can use memory.
// Frames handed to `send` are already committed (persist before send).

export interface Transport {
  /** Binds; resolves to the "host:port" actually bound. */
  start(): Promise<string>;
  /** Sends one sealed frame body to a peer address; never throws (loss is the core's to repair). */
  send(address: string, body: unknown): void;
  /** The latest round trip measured to a peer, ms, if any. */
  rttMs(name: string): number | undefined;
  close(): Promise<void>;
}
