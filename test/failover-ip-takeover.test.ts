// The bundled ip-takeover script on real interfaces: three "hosts" (h1, h2 and
// a client) in their own network namespaces, joined by a bridge in a fourth.
// Every address and link lives inside namespaces this test creates and deletes;
// the host's own interfaces are never touched.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import { mkdtempSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test, type TestContext } from './helpers/node-test.js';
import { defer } from './helpers/cleanup.js';
import { waitFor } from './helpers/tmp.js';

const SCRIPT = fileURLToPath(new URL('../consumers/failover/scripts/ip-takeover', import.meta.url));

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

function run(command: string, args: readonly string[], env?: NodeJS.ProcessEnv): Run {
  const result = spawnSync(command, args, { encoding: 'utf8', env, timeout: 20_000 });
  return { status: result.status, stdout: result.stdout ?? '', stderr: result.stderr ?? String(result.error ?? '') };
}

/** `ip ARGS`, failing the test with ip's own message. */
function ip(...args: string[]): string {
  const result = run('ip', args);
  assert.equal(result.status, 0, `ip ${args.join(' ')}: ${result.stderr}`);
  return result.stdout;
}

function has(command: string): boolean {
  return run('sh', ['-c', `command -v ${command}`]).status === 0;
}

test('ip-takeover moves an address between hosts in network namespaces', async (t: TestContext) => {
  if (process.getuid?.() !== 0) return t.skip('needs root to create network namespaces');
  if (!has('ip')) return t.skip('the ip command (iproute2) is not installed');
  if (!has('ping')) return t.skip('ping is not installed (apt-get install iputils-ping)');

  const tag = `ed-${randomBytes(3).toString('hex')}`;
  const ns = { h1: `${tag}-h1`, h2: `${tag}-h2`, cl: `${tag}-cl`, br: `${tag}-br` };
  const created: string[] = [];
  defer(t, () => {
    for (const name of created) run('ip', ['netns', 'del', name]);
  });
  const probe = run('ip', ['netns', 'add', ns.br]);
  if (probe.status !== 0) return t.skip(`ip netns add is not permitted here: ${probe.stderr.trim()}`);
  created.push(ns.br);

  // A subnet that exists only inside these namespaces.
  const subnet = `10.231.${randomBytes(1)[0] ?? 0}`;
  const vip = `${subnet}.100`;
  const hostAddress = { h1: `${subnet}.11`, h2: `${subnet}.12`, cl: `${subnet}.2` };
  ip('-n', ns.br, 'link', 'add', 'br0', 'type', 'bridge');
  ip('-n', ns.br, 'link', 'set', 'br0', 'up');
  for (const host of ['h1', 'h2', 'cl'] as const) {
    ip('netns', 'add', ns[host]);
    created.push(ns[host]);
    // Both ends are created inside namespaces: nothing appears on the host.
    ip('-n', ns.br, 'link', 'add', `v-${host}`, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns[host]);
    ip('-n', ns.br, 'link', 'set', `v-${host}`, 'master', 'br0', 'up');
    ip('-n', ns[host], 'link', 'set', 'lo', 'up');
    ip('-n', ns[host], 'addr', 'add', `${hostAddress[host]}/24`, 'dev', 'eth0');
    ip('-n', ns[host], 'link', 'set', 'eth0', 'up');
  }
  const mac = (host: 'h1' | 'h2'): string => {
    const [link] = JSON.parse(ip('-j', '-n', ns[host], 'link', 'show', 'dev', 'eth0')) as { address: string }[];
    return link?.address ?? '';
  };
  /** The client's neighbour entry for the address: the MAC it sends to. */
  const clientNeighbour = (address: string): string | undefined => {
    const entries = JSON.parse(ip('-j', '-n', ns.cl, 'neigh', 'show', 'to', address, 'dev', 'eth0')) as { lladdr?: string }[];
    return entries[0]?.lladdr;
  };
  const ping = (address: string, family: '-4' | '-6' = '-4'): Run =>
    run('ip', ['netns', 'exec', ns.cl, 'ping', family, '-c', '1', '-W', '1', address]);
  const pingUntil = async (address: string, family: '-4' | '-6' = '-4'): Promise<void> => {
    // The first ping can race the bridge ports coming up (learning state).
    let last = ping(address, family);
    if (last.status !== 0) await waitFor(`a ping reply from ${address}`, () => (last = ping(address, family)).status === 0, 2_000, 200).catch(() => undefined);
    assert.equal(last.status, 0, `ping ${address} from the client: ${last.stdout}${last.stderr}`);
  };
  const script = (host: 'h1' | 'h2', action: string, ipEnv: Record<string, string>, path = process.env.PATH): Run =>
    run('ip', ['netns', 'exec', ns[host], 'sh', SCRIPT], {
      PATH: path ?? '/usr/sbin:/usr/bin:/sbin:/bin',
      EVENTD_GROUP: 'vip',
      EVENTD_ACTION: action,
      EVENTD_NODE: host,
      EVENTD_REASON: 'test',
      ...ipEnv,
    });
  const v4 = { EVENTD_IP_ADDRESS: vip, EVENTD_IP_PREFIX_LENGTH: '24', EVENTD_IP_INTERFACE: 'eth0' };
  const addresses = (host: 'h1' | 'h2', family: '-4' | '-6'): string => ip('-o', family, '-n', ns[host], 'addr', 'show', 'dev', 'eth0');
  const arping = has('arping');
  if (!arping) t.diagnostic('arping is not installed (apt-get install iputils-arping): the gratuitous ARP check is skipped');

  await pingUntil(hostAddress.h1);

  await t.test('the script is bundled executable', () => {
    assert.ok((statSync(SCRIPT).mode & 0o111) !== 0, `${SCRIPT} is executable`);
  });

  await t.test('start on h1: the client reaches the address at h1; start again is a no-op', async () => {
    const started = script('h1', 'start', v4);
    assert.equal(started.status, 0, started.stderr);
    if (arping) assert.doesNotMatch(started.stderr, /warning/, 'arping announced the address');
    await pingUntil(vip);
    assert.equal(clientNeighbour(vip), mac('h1'));
    const again = script('h1', 'start', v4);
    assert.equal(again.status, 0, again.stderr);
    assert.match(again.stderr, /already/);
    assert.equal(addresses('h1', '-4').split(`${vip}/24`).length - 1, 1, 'the address is on h1 once');
  });

  await t.test('stop on h1, start on h2: gratuitous ARP moves the client to h2', async () => {
    const stopped = script('h1', 'stop', v4);
    assert.equal(stopped.status, 0, stopped.stderr);
    assert.doesNotMatch(addresses('h1', '-4'), new RegExp(`${vip.replaceAll('.', '\\.')}/`));
    assert.ok(addresses('h1', '-4').includes(`${hostAddress.h1}/24`), 'the host address of h1 is kept');
    const stoppedAgain = script('h1', 'stop', v4);
    assert.equal(stoppedAgain.status, 0, stoppedAgain.stderr);
    assert.equal(clientNeighbour(vip), mac('h1'), 'the client still points at h1 before the takeover');

    // Passed as $1 this time; EVENTD_ACTION agrees.
    const started = run('ip', ['netns', 'exec', ns.h2, 'sh', SCRIPT, 'start'], {
      PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin',
      EVENTD_ACTION: 'start',
      ...v4,
    });
    assert.equal(started.status, 0, started.stderr);
    if (arping) {
      // Before any traffic from the client: only the announcement can have changed this.
      assert.equal(clientNeighbour(vip), mac('h2'), 'the client learned h2 from the gratuitous ARP');
    } else {
      t.diagnostic('skipped: the client neighbour table check (arping missing); flushing the stale entry instead');
      ip('-n', ns.cl, 'neigh', 'flush', 'to', vip, 'dev', 'eth0');
    }
    await pingUntil(vip);
    assert.equal(clientNeighbour(vip), mac('h2'));
  });

  await t.test('without arping, start still succeeds and says so', () => {
    const bin = mkdtempSync(join(tmpdir(), 'eventd-nobin-'));
    try {
      // Only ip and sh on PATH: `ip netns exec` runs sh, sh runs the script.
      for (const command of ['ip', 'sh']) symlinkSync(run('sh', ['-c', `command -v ${command}`]).stdout.trim(), join(bin, command));
      const env = { ...v4, EVENTD_IP_ADDRESS: `${subnet}.101` };
      const started = script('h1', 'start', env, bin);
      assert.equal(started.status, 0, started.stderr);
      assert.match(started.stderr, /arping is not installed/);
      assert.ok(addresses('h1', '-4').includes(`${subnet}.101/24`));
      assert.equal(script('h1', 'stop', env, bin).status, 0);
    } finally {
      rmSync(bin, { recursive: true, force: true });
    }
  });

  await t.test('IPv6: added with nodad (usable at once), reached by the client, removed', async () => {
    // Written as ip prints it (no leading zeros), so the output can be matched.
    const prefix = `fd31:${randomInt(0x1000, 0x10000).toString(16)}::`;
    ip('-n', ns.cl, 'addr', 'add', `${prefix}2/64`, 'dev', 'eth0', 'nodad');
    const v6 = { EVENTD_IP_ADDRESS: `${prefix}100`, EVENTD_IP_PREFIX_LENGTH: '64', EVENTD_IP_INTERFACE: 'eth0' };
    const started = script('h1', 'start', v6);
    assert.equal(started.status, 0, started.stderr);
    const line = addresses('h1', '-6').split('\n').find((entry) => entry.includes(`${prefix}100/64`));
    assert.ok(line, 'the address is on h1');
    assert.doesNotMatch(line, /tentative/);
    await pingUntil(`${prefix}100`, '-6');
    assert.equal(script('h1', 'start', v6).status, 0, 'start again');
    assert.equal(script('h1', 'stop', v6).status, 0);
    assert.ok(!addresses('h1', '-6').includes(`${prefix}100/`), 'the address is gone');
    assert.equal(script('h1', 'stop', v6).status, 0, 'stop again');
  });

  await t.test('bad environment: exit 2 with a message naming what is wrong', () => {
    const cases: [Record<string, string>, string, RegExp][] = [
      [v4, 'restart', /unknown action "restart"/],
      [v4, '', /no action/],
      [{ ...v4, EVENTD_IP_ADDRESS: '' }, 'start', /EVENTD_IP_ADDRESS is not set/],
      [{ ...v4, EVENTD_IP_ADDRESS: '10.0.0.300' }, 'start', /not an IPv4 or IPv6 address/],
      [{ ...v4, EVENTD_IP_PREFIX_LENGTH: '33' }, 'start', /more than 32/],
      [{ ...v4, EVENTD_IP_PREFIX_LENGTH: 'x' }, 'stop', /not a number/],
      [{ ...v4, EVENTD_IP_INTERFACE: '' }, 'start', /EVENTD_IP_INTERFACE is not set/],
      [{ ...v4, EVENTD_IP_INTERFACE: 'eth9' }, 'start', /no interface "eth9"/],
    ];
    for (const [env, action, message] of cases) {
      const result = script('h1', action, env);
      assert.equal(result.status, 2, `${action} ${JSON.stringify(env)}: ${result.stderr}`);
      assert.match(result.stderr, message);
    }
  });
});
