// The watchdog device (Linux /dev/watchdog, e.g. the softdog module), as
// Pacemaker's SBD uses it: the runtime pets it only while this node holds
// the leases of what it runs, so a daemon that stalls (or whose stop failed)
// stops petting and the machine resets before peers take over, who wait the
// device's timeout on top of the lease (runtime.ts, takeoverWaitMs).
import { closeSync, openSync, writeSync } from 'node:fs';
import { EventdError } from '../../services/eventd/sdk/index.js';
import type { WatchdogSettings } from './settings.js';

export class Watchdog {
  private fd: number | undefined;

  /** Opens the device: from now on it must be petted within its timeout. */
  constructor(private readonly settings: WatchdogSettings) {
    try {
      this.fd = openSync(settings.device, 'w');
    } catch (error) {
      throw new EventdError('EVENTD_ERR_BAD_CONFIG', `failover.watchdog.device: ${settings.device} cannot be opened for writing: ${(error as Error).message}`, { key: 'failover.watchdog.device' });
    }
  }

  /** Any write restarts the device's countdown. */
  pet(): void {
    if (this.fd !== undefined) writeSync(this.fd, 'p');
  }

  /** A graceful stop: the magic close ("V") disarms the device, so a stopped daemon resets nothing. */
  close(): void {
    if (this.fd === undefined) return;
    writeSync(this.fd, 'V');
    closeSync(this.fd);
    this.fd = undefined;
  }
}
