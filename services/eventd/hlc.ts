// Hybrid logical clock (Kulkarni et al.): wall time in ms plus a logical
// counter, so times issued by one node strictly increase even when its wall
// clock stalls or steps back. Pure: the caller passes the wall time.

export interface HlcTime {
  wall: number;
  logical: number;
}

export function tick(last: HlcTime, wallNow: number): HlcTime {
  if (wallNow > last.wall) return { wall: wallNow, logical: 0 };
  return { wall: last.wall, logical: last.logical + 1 };
}

/** Merges a remote time on receipt (used by the cluster core). */
export function receive(last: HlcTime, remote: HlcTime, wallNow: number): HlcTime {
  const wall = Math.max(last.wall, remote.wall, wallNow);
  if (wall === last.wall && wall === remote.wall) return { wall, logical: Math.max(last.logical, remote.logical) + 1 };
  if (wall === last.wall) return { wall, logical: last.logical + 1 };
  if (wall === remote.wall) return { wall, logical: remote.logical + 1 };
  return { wall, logical: 0 };
}

/** Fixed-width text that sorts like the time: "0001732350000000.0003". */
export function format(time: HlcTime): string {
  return `${String(time.wall).padStart(16, '0')}.${String(time.logical).padStart(4, '0')}`;
}

export function parse(text: string): HlcTime {
  const [wall, logical] = text.split('.');
  return { wall: Number(wall), logical: Number(logical) };
}

export class HybridClock {
  private last: HlcTime;
  constructor(start: HlcTime = { wall: 0, logical: 0 }) {
    this.last = start;
  }
  now(wallNow: number): string {
    this.last = tick(this.last, wallNow);
    return format(this.last);
  }
}
