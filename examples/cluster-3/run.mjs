#!/usr/bin/env node
// npm run demo: three eventd nodes on loopback forming one cluster, with a
// generated key, each with its own data folder and a recorded proc root so
// you can move one node's paging space by hand. Ctrl-C stops them all.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, openSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
const work = join(here, 'run');
mkdirSync(work, { recursive: true });

const keyFile = join(work, 'cluster.key');
if (!existsSync(keyFile)) writeFileSync(keyFile, randomBytes(32).toString('base64') + '\n', { mode: 0o600 });
const key = readFileSync(keyFile, 'utf8').trim();

const nodes = ['n1', 'n2', 'n3'].map((name, index) => ({ name, api: 7101 + index, udp: 7201 + index }));
const peers = nodes.map((node) => `127.0.0.1:${node.udp}`);

function setSwap(procRoot, percent) {
  const size = 1048576;
  const used = Math.round((size * percent) / 100);
  mkdirSync(procRoot, { recursive: true });
  writeFileSync(join(procRoot, 'swaps.tmp'), `Filename Type Size Used Priority\n/swapfile file ${size} ${used} -2\n`);
  renameSync(join(procRoot, 'swaps.tmp'), join(procRoot, 'swaps'));
  writeFileSync(join(procRoot, 'meminfo.tmp'), `SwapTotal: ${size} kB\nSwapFree: ${size - used} kB\n`);
  renameSync(join(procRoot, 'meminfo.tmp'), join(procRoot, 'meminfo'));
}

// A failover group for the demo: its script marks where it runs (run/holder-<node>).
const groupScript = join(work, 'group.sh');
writeFileSync(groupScript, `#!/bin/sh\ncase "$EVENTD_ACTION" in\n  start) date > "${work}/holder-$EVENTD_NODE" ;;\n  stop) rm -f "${work}/holder-$EVENTD_NODE" ;;\nesac\n`, { mode: 0o755 });

const children = [];
for (const node of nodes) {
  const procRoot = join(work, node.name, 'proc');
  if (!existsSync(join(procRoot, 'swaps'))) setSwap(procRoot, 20);
  const config = {
    node: node.name,
    dataDir: join(work, node.name, 'data'),
    procRoot,
    api: { port: node.api },
    producers: { PagingSpace: { periodMs: 500 } },
    cluster: { name: 'demo', bind: { host: '127.0.0.1', port: node.udp }, keys: [key], peers },
    failover: { groups: [{ name: 'demo-service', start: groupScript, stop: groupScript, timeout: '10s' }] },
    // Messaging: a declared class to raise, tags (n1 and n2 are web, n3 is db), a query handler.
    events: { classes: { Deploy: { attributes: { version: { type: 'number' }, by: { type: 'string' } } } } },
    tags: { role: node.name === 'n3' ? 'db' : 'web' },
    queries: { uptime: { run: '/usr/bin/uptime', timeout: '2s' } },
  };
  const configFile = join(work, `${node.name}.json`);
  writeFileSync(configFile, JSON.stringify(config, null, 2));
  const log = openSync(join(work, `${node.name}.log`), 'a');
  const child = spawn(process.execPath, [join(root, 'bin', 'eventd'), '--config', configFile], { stdio: ['ignore', log, log] });
  writeFileSync(join(work, `${node.name}.pid`), `${child.pid}\n`);
  child.on('exit', (code, signal) => process.stdout.write(`${node.name} exited (${signal ?? code})\n`));
  children.push(child);
}

const rel = (path) => relative(process.cwd(), path) || '.';
const ctl = `${rel(join(root, 'bin', 'eventctl'))} --api http://127.0.0.1:`;
process.stdout.write(`three eventd nodes on loopback, cluster "demo" (key in ${rel(keyFile)}, logs in ${rel(work)}/*.log):
${nodes.map((n) => `  ${n.name}  api http://127.0.0.1:${n.api}  cluster udp 127.0.0.1:${n.udp}`).join('\n')}

try, in another terminal:
  ${ctl}7101 members
  ${ctl}7101 subscribe --name swap-high --class PagingSpace --scope cluster \\
      --where '$resource = "total"' --expr 'percentUsed > 75' --rearm 'percentUsed < 60'
  ${ctl}7103 events --follow                 # every node sees every event
  ${rel(join(here, 'set-swap.sh'))} n2 90       # fires on n2
  ${rel(join(here, 'set-swap.sh'))} n2 40       # rearms
  ${ctl}7102 event raise Deploy web --attr version=42 --order agreed --scope cluster
                                              # in every node's events --follow, at the same POSITION
  ${ctl}7103 query uptime --tag role=web       # one answer from each web node (n1, n2)
  ${ctl}7101 monitor                         # membership, events, queries, warnings, live
  kill -9 $(cat ${rel(join(work, 'n3.pid'))})              # n1 and n2 record "n3 down" within a second
  ${ctl}7101 events --class Node
  ${ctl}7101 groups                          # the failover group "demo-service": one holder (run/holder-<node>)
  kill -9 $(cat ${rel(join(work, 'n1.pid'))})              # if n1 holds it: a survivor starts it in about 1.1 s
Ctrl-C here stops the cluster (data stays in ${rel(work)}; delete it to start afresh).
`);

const stop = () => {
  for (const child of children) child.kill('SIGTERM');
  setTimeout(() => process.exit(0), 2000).unref();
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
