// What the cluster edge needs of a transport (memberlist's transport.go): the
// node never names UDP, so another carrier (TCP for bulk pulls, an MQTT
// broker) can stand behind the same interface, and tests can use memory.
// Frames handed to `send` are already committed (persist before send).

export interface Transport {
  /** Binds; resolves to the "host:port" actually bound. */
  start(): Promise<string>;
  /**
   * Seals one frame body for node `to` and sends it to its address; never throws (loss is the core's to repair).
   * `sent` false when the sealed frame (`bytes`) is larger than one datagram: nothing was sent (the caller may split it).
   */
  send(address: string, to: string, body: unknown): SendResult;
  /** Seals one frame body once for every node (the broadcast domain) and sends the same bytes to each address. */
  broadcast(addresses: readonly string[], body: unknown): void;
  /** Socket buffer sizes granted, once bound. */
  bufferSizes(): { receive: number; send: number } | undefined;
  /** Datagrams the kernel dropped before we could read them, where it can be known. */
  kernelDrops(): number | undefined;
  /** The latest round trip measured to a peer, ms, if any. */
  rttMs(name: string): number | undefined;
  close(): Promise<void>;
}

export interface SendResult {
  sent: boolean;
  /** Size of the sealed frame. */
  bytes: number;
}
