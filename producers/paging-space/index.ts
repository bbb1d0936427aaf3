// PagingSpace: one sample per swap device (from <procRoot>/swaps) and one
// named `total` (from <procRoot>/meminfo). A machine with no swap reports
// `total` with zeros and configured: false; that is a state, not a failure.
import { join } from 'node:path';
import { readOptional, type RawSample } from '../../services/eventd/sdk/index.js';

export interface SwapDevice {
  filename: string;
  type: string;
  sizeKiB: number;
  usedKiB: number;
  priority: number;
}

export interface SwapTotals {
  totalKiB: number;
  freeKiB: number;
}

export const totalResource = 'total';

/** `/proc/swaps`: a header line, then `Filename Type Size Used Priority` (sizes in KiB). Malformed lines are skipped. */
export function parseSwaps(text: string): SwapDevice[] {
  const devices: SwapDevice[] = [];
  for (const line of text.split('\n').slice(1)) {
    const fields = line.trim().split(/\s+/);
    if (fields.length < 5) continue;
    const [filename = '', type = '', size, used, priority] = fields;
    const sizeKiB = Number(size);
    const usedKiB = Number(used);
    if (!Number.isFinite(sizeKiB) || !Number.isFinite(usedKiB)) continue;
    devices.push({ filename: unescapeOctal(filename), type, sizeKiB, usedKiB, priority: Number(priority) });
  }
  return devices;
}

/** SwapTotal and SwapFree (kB, which the kernel means as KiB) from `/proc/meminfo`; undefined when absent. */
export function parseMeminfo(text: string): SwapTotals | undefined {
  const field = (name: string): number | undefined => {
    const match = new RegExp(`^${name}:\\s+(\\d+)\\s*kB`, 'm').exec(text);
    return match?.[1] === undefined ? undefined : Number(match[1]);
  };
  const totalKiB = field('SwapTotal');
  const freeKiB = field('SwapFree');
  return totalKiB === undefined || freeKiB === undefined ? undefined : { totalKiB, freeKiB };
}

/**
 * The samples for one period. `swaps` or `meminfo` may be undefined (file
 * absent): the total then comes from the devices, or is zero.
 */
export function pagingSpaceSamples(swaps: string | undefined, meminfo: string | undefined): RawSample[] {
  const devices = swaps === undefined ? [] : parseSwaps(swaps);
  const samples: RawSample[] = devices.map((device) => ({
    resource: device.filename,
    attrs: usage(device.sizeKiB, device.usedKiB),
  }));
  const totals = meminfo === undefined ? undefined : parseMeminfo(meminfo);
  const totalKiB = totals?.totalKiB ?? devices.reduce((sum, device) => sum + device.sizeKiB, 0);
  const usedKiB = totals ? totals.totalKiB - totals.freeKiB : devices.reduce((sum, device) => sum + device.usedKiB, 0);
  samples.push({ resource: totalResource, attrs: usage(totalKiB, usedKiB) });
  return samples;
}

function usage(totalKiB: number, usedKiB: number): RawSample['attrs'] {
  return {
    totalKiB,
    usedKiB,
    freeKiB: totalKiB - usedKiB,
    percentUsed: totalKiB > 0 ? Math.round((usedKiB / totalKiB) * 10000) / 100 : 0,
    configured: totalKiB > 0,
  };
}

/** The kernel writes spaces, tabs, newlines and backslashes in names as \040, \011, \012, \134. */
function unescapeOctal(name: string): string {
  return name.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8)));
}


export default {
  async sample(ctx: { procRoot: string }): Promise<RawSample[]> {
    const [swaps, meminfo] = await Promise.all([readOptional(join(ctx.procRoot, 'swaps')), readOptional(join(ctx.procRoot, 'meminfo'))]);
    return pagingSpaceSamples(swaps, meminfo);
  },
};
