// Tests of the Action's steps: node --test action/*.test.js
'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { main, upArgs, hostURLs, setOutputs, artifactName } = require('./devcluster-action.js');

// A sample of `devcluster up -o json` in localhost mode: a Service with two
// TCP ports, one whose UDP port is not forwarded, and one still pending.
const SAMPLE_UP = {
  cluster: { name: 'ci', provider: 'minikube', state: 'Running', ip: '192.168.49.2', kubeContext: 'ci', nodes: 1 },
  kubernetes: { context: 'ci', server: 'https://192.168.49.2:8443', ready: true, detail: '1 nodes Ready' },
  registry: { host: 'localhost:5001' },
  loadBalancers: [
    { namespace: 'devcluster-samples', name: 'web', ip: '127.0.0.1', state: 'assigned', url: 'http://127.0.0.1:8080', urls: ['http://127.0.0.1:8080', 'https://127.0.0.1:8443'] },
    { namespace: 'apps', name: 'dns', ip: '127.0.0.1', state: 'assigned', url: 'http://127.0.0.1:9053', urls: ['http://127.0.0.1:9053'], notForwarded: ['53/UDP'] },
    { namespace: 'apps', name: 'queue', state: 'pending' },
  ],
  actions: ['created', 'agent started'],
  changed: true,
};

// fakeDevcluster is an executable that logs its arguments (one JSON array
// a line) and answers as devcluster would; FAKE_FAIL names the commands
// that fail, FAKE_UP replaces up's JSON and FAKE_DASHBOARD dashboard's.
function fixture(t) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'devcluster-action-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const ws = path.join(dir, 'workspace');
  const temp = path.join(dir, 'runner-temp');
  fs.mkdirSync(ws);
  fs.mkdirSync(temp);
  const bin = path.join(dir, 'devcluster');
  fs.writeFileSync(bin, `#!${process.execPath}
const fs = require('fs');
const args = process.argv.slice(2);
fs.appendFileSync(process.env.FAKE_LOG, JSON.stringify(args) + '\\n');
const cmd = args.find((a) => ['up', 'down', 'diagnose', 'dashboard'].includes(a));
if ((process.env.FAKE_FAIL || '').split(',').includes(cmd)) { process.stderr.write(cmd + ' failed\\n'); process.exit(6); }
if (cmd === 'up') {
  process.stdout.write(process.env.FAKE_UP || JSON.stringify({ cluster: { name: 'ci', kubeContext: process.env.FAKE_CONTEXT || 'ci', ip: '192.168.49.2' }, registry: { host: 'localhost:5001' } }));
}
if (cmd === 'dashboard') {
  process.stdout.write(process.env.FAKE_DASHBOARD || JSON.stringify({ context: 'ci', namespace: 'devcluster-dashboard', version: 'v0.45.0', url: 'http://127.0.0.1:41321',
    serviceAccount: 'devcluster-dashboard/headlamp-admin', expiresAt: '2026-12-02T03:00:00Z', changed: true }));
}
if (cmd === 'diagnose') {
  const d = args[args.indexOf('--dir') + 1];
  fs.mkdirSync(d, { recursive: true });
  fs.writeFileSync(d + '/summary.md', 'bundle');
}
`, { mode: 0o755 });
  const env = {
    PATH: process.env.PATH,
    HOME: dir,
    RUNNER_TEMP: temp,
    GITHUB_WORKSPACE: ws,
    GITHUB_OUTPUT: path.join(dir, 'output'),
    GITHUB_JOB: 'e2e',
    GITHUB_RUN_ATTEMPT: '2',
    FAKE_LOG: path.join(dir, 'calls'),
    DEVCLUSTER_ACTION_BIN: bin,
  };
  fs.writeFileSync(env.GITHUB_OUTPUT, '');
  const calls = () => (fs.existsSync(env.FAKE_LOG) ? fs.readFileSync(env.FAKE_LOG, 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l)) : []);
  return { dir, ws, temp, env, calls, run: (mode, extra = {}) => captured(() => main([mode], { ...env, ...extra })).result };
}

// captured runs fn and returns its result with what it wrote to standard
// output and standard error (the job's log).
function captured(fn) {
  let said = '';
  const w = process.stdout.write;
  const e = process.stderr.write;
  process.stdout.write = process.stderr.write = (s) => {
    said += s;
    return true;
  };
  try {
    return { result: fn(), said };
  } finally {
    process.stdout.write = w;
    process.stderr.write = e;
  }
}

// parseOutputs reads GITHUB_OUTPUT as the runner does: name=value lines and
// name<<delimiter blocks.
function parseOutputs(file) {
  const lines = fs.readFileSync(file, 'utf8').split('\n');
  const out = {};
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i];
    if (l === '') continue;
    const m = /^([^=<]+)<<(.+)$/.exec(l);
    if (!m) {
      const eq = l.indexOf('=');
      assert.ok(eq > 0, `not an output line: ${JSON.stringify(l)}`);
      out[l.slice(0, eq)] = l.slice(eq + 1);
      continue;
    }
    const value = [];
    for (i++; lines[i] !== m[2]; i++) {
      assert.ok(i < lines.length, `no closing delimiter for ${m[1]}`);
      value.push(lines[i]);
    }
    out[m[1]] = value.join('\n');
  }
  return out;
}

test('every input given becomes its flag', (t) => {
  const f = fixture(t);
  fs.writeFileSync(path.join(f.ws, 'ci.yaml'), 'kind: Cluster\n');
  const args = upArgs({
    ...f.env,
    INPUT_CONFIG: 'ci.yaml',
    INPUT_NAME: 'ci',
    INPUT_PROVIDER: 'kind',
    INPUT_CONTEXT: '',
    INPUT_CPUS: '4',
    INPUT_MEMORY: '6g',
    INPUT_DRIVER: 'docker',
    INPUT_CONTAINER_RUNTIME: 'containerd',
    INPUT_KUBERNETES_VERSION: 'v1.35.1',
    INPUT_WAIT: '6m',
    INPUT_REGISTRY_PORT: '5002',
    INPUT_START_ARGS: '--addons=metrics-server --cni=calico\n--extra-config=kubelet.max-pods=200\n',
    INPUT_MANIFESTS: 'deploy/\n\nk8s/app.yaml',
    INPUT_REGISTRY: 'true',
    INPUT_LOAD_BALANCER: 'false',
    INPUT_SAMPLES: 'false',
    DEVCLUSTER_ACTION_KIND: '/cache/kind-v0.30.0',
  }, '/diag');
  assert.deepEqual(args, [
    '--config', path.join(f.ws, 'ci.yaml'), '--kind', '/cache/kind-v0.30.0',
    'up', '--name', 'ci', '--provider', 'kind',
    '--cpus=4', '--memory=6g', '--driver=docker', '--container-runtime=containerd', '--kubernetes-version=v1.35.1', '--wait=6m',
    '--registry-port=5002',
    '--start-arg=--addons=metrics-server', '--start-arg=--cni=calico', '--start-arg=--extra-config=kubelet.max-pods=200',
    '--manifest=' + path.join(f.ws, 'deploy'), '--manifest=' + path.join(f.ws, 'k8s/app.yaml'),
    '--registry', '--no-lb', '--no-samples',
    '--diagnostics-dir', '/diag', '--output', 'json',
  ]);
  assert.deepEqual(upArgs({ ...f.env, INPUT_INSTALL_ONLY: 'true' }, '/diag'), ['up', '--install-only', '--output', 'json']);
});

test('the config input is not overridden: only the inputs given become flags', (t) => {
  const f = fixture(t);
  fs.mkdirSync(path.join(f.ws, 'examples'));
  fs.writeFileSync(path.join(f.ws, 'examples', 'kind.yaml'), 'provider: kind\nworkers: 1\n');
  // The defaults action.yml passes for inputs left out.
  const env = { INPUT_CONFIG: 'examples/kind.yaml', INPUT_INSTALL_ONLY: 'false', INPUT_NAME: '', INPUT_PROVIDER: '', INPUT_SAMPLES: '' };
  assert.equal(f.run('up', env), 0);
  const [up] = f.calls();
  const cfg = path.join(f.ws, 'examples', 'kind.yaml');
  assert.deepEqual(up.slice(0, 3), ['--config', cfg, 'up']);
  for (const flag of ['--name', '--provider', '--cpus', '--memory', '--no-samples', '--samples', '--registry', '--no-registry']) {
    assert.ok(!up.some((a) => a === flag || a.startsWith(flag + '=')), `up got ${flag}: ${up}`);
  }
  // The down use names nothing: it gets the same file, and so does post.
  assert.equal(f.run('down', {}), 0);
  assert.deepEqual(f.calls()[1], ['--config', cfg, 'down']);
});

test('a devcluster.yaml in the workspace is the config of every use', (t) => {
  const f = fixture(t);
  fs.writeFileSync(path.join(f.ws, 'devcluster.yaml'), 'name: ci\n');
  assert.equal(f.run('up'), 0);
  assert.equal(f.run('down'), 0);
  const [up, down] = f.calls();
  assert.deepEqual(up.slice(0, 2), ['--config', path.join(f.ws, 'devcluster.yaml')]);
  assert.deepEqual(down, ['--config', path.join(f.ws, 'devcluster.yaml'), 'down']);
});

test('outputs: random delimiters, no value can add an output', (t) => {
  const f = fixture(t);
  assert.equal(f.run('up', { FAKE_CONTEXT: 'ci\nregistry=evil.example:5000' }), 0);
  const text = fs.readFileSync(f.env.GITHUB_OUTPUT, 'utf8');
  const out = parseOutputs(f.env.GITHUB_OUTPUT);
  assert.equal(out['kube-context'], 'ci\nregistry=evil.example:5000');
  assert.equal(out.registry, 'localhost:5001');
  assert.equal(out['node-ip'], '192.168.49.2');
  assert.equal(out['cluster-name'], 'ci');
  assert.ok(out['diagnostics-dir'].startsWith(path.join(f.temp, 'devcluster-action', 'diagnostics') + path.sep));
  assert.equal(out['host-urls'], '{}');
  assert.equal(out['dashboard-url'], '');
  const delimiters = [...text.matchAll(/<<(ghadelimiter_[0-9a-f-]{36})\n/g)].map((m) => m[1]);
  assert.equal(delimiters.length, 7);
  assert.equal(new Set(delimiters).size, 7, 'a delimiter was used twice');
  // Written as the runner reads them, whatever else is in the file.
  fs.writeFileSync(f.env.GITHUB_OUTPUT, 'before=1\n');
  setOutputs(f.env, { a: 'x', b: '' });
  assert.deepEqual(parseOutputs(f.env.GITHUB_OUTPUT), { before: '1', a: 'x', b: '' });
});

test('nothing is written into the workspace', (t) => {
  const f = fixture(t);
  assert.equal(f.run('prepare'), 0);
  assert.equal(f.run('up', { FAKE_FAIL: 'up' }), 6);
  assert.equal(f.run('diagnose'), 0);
  assert.equal(f.run('down'), 0);
  assert.equal(f.run('post'), 0);
  assert.deepEqual(fs.readdirSync(f.ws), []);
});

test('down runs after a failed diagnose, and post has nothing left to do', (t) => {
  const f = fixture(t);
  assert.equal(f.run('up', { INPUT_NAME: 'ci' }), 0);
  // The diagnose step fails, yet exits 0 (continue-on-error as well in
  // action.yml), with a warning; down deletes the cluster.
  assert.equal(f.run('diagnose', { FAKE_FAIL: 'diagnose' }), 0);
  assert.equal(f.run('down'), 0);
  const cmds = f.calls().map((c) => c.find((a) => ['up', 'diagnose', 'down'].includes(a)));
  assert.deepEqual(cmds, ['up', 'diagnose', 'down']);
  assert.deepEqual(f.calls()[2], ['down', '--name', 'ci']);
  assert.equal(f.run('post'), 0);
  assert.equal(f.calls().length, 3, 'post ran devcluster after down');
});

test('a failed up keeps its bundle: diagnose does not replace it', (t) => {
  const f = fixture(t);
  assert.equal(f.run('up', { FAKE_FAIL: 'up' }), 6);
  const out = parseOutputs(f.env.GITHUB_OUTPUT);
  fs.mkdirSync(out['diagnostics-dir'], { recursive: true });
  fs.writeFileSync(path.join(out['diagnostics-dir'], 'summary.md'), 'from up');
  assert.equal(f.run('diagnose'), 0);
  assert.equal(f.calls().filter((c) => c.includes('diagnose')).length, 0);
  assert.equal(parseOutputs(f.env.GITHUB_OUTPUT)['artifact-name'], 'devcluster-diagnostics-e2e-attempt2');
});

test('post deletes what no down use deleted, even after a failed up', (t) => {
  const f = fixture(t);
  assert.equal(f.run('up', { INPUT_NAME: 'a', FAKE_FAIL: 'up' }), 6);
  assert.equal(f.run('up', { INPUT_NAME: 'b' }), 0);
  assert.equal(f.run('post', { FAKE_FAIL: '' }), 0);
  const downs = f.calls().filter((c) => c.includes('down'));
  assert.deepEqual(downs.map((c) => c.slice(-1)[0]).sort(), ['a', 'b']);
  assert.equal(f.run('post'), 0);
  assert.equal(f.calls().filter((c) => c.includes('down')).length, 2, 'a second post deleted again');
});

test('a failed down is left to the post step', (t) => {
  const f = fixture(t);
  assert.equal(f.run('up'), 0);
  assert.equal(f.run('down', { FAKE_FAIL: 'down' }), 6);
  assert.equal(f.run('post'), 0);
  assert.equal(f.calls().filter((c) => c.includes('down')).length, 2);
});

test('install-only records no cluster for post to delete', (t) => {
  const f = fixture(t);
  assert.equal(f.run('up', { INPUT_INSTALL_ONLY: 'true' }), 0);
  assert.equal(f.run('post'), 0);
  assert.equal(f.calls().length, 1);
});

test('artifact names: unique to job, matrix entry and attempt, without refused characters', () => {
  assert.equal(artifactName({ GITHUB_JOB: 'e2e', GITHUB_RUN_ATTEMPT: '1' }), 'devcluster-diagnostics-e2e-attempt1');
  assert.equal(artifactName({ GITHUB_JOB: 'e2e', GITHUB_RUN_ATTEMPT: '3', DEVCLUSTER_ACTION_JOB_INDEX: '2', DEVCLUSTER_ACTION_JOB_TOTAL: '4' }),
    'devcluster-diagnostics-e2e-2-attempt3');
  assert.equal(artifactName({ INPUT_ARTIFACT_NAME: 'diag: "a/b"' }), 'diag_ _a_b_');
});

test('bad input: exit 2 with the input named, devcluster not run', (t) => {
  const f = fixture(t);
  const { said } = captured(() => {
    assert.equal(main(['up'], { ...f.env, INPUT_REGISTRY: 'yes' }), 2);
    assert.equal(main(['up'], { ...f.env, INPUT_REGISTRY_PORT: '70000' }), 2);
    assert.equal(main(['up'], { ...f.env, INPUT_CONFIG: 'missing.yaml' }), 2);
    assert.equal(main(['up'], { ...f.env, INPUT_DASHBOARD: 'yes' }), 2);
    assert.equal(main(['up'], { ...f.env, INPUT_DASHBOARD: 'true', INPUT_INSTALL_ONLY: 'true' }), 2);
  });
  assert.match(said, /::error::input registry: "yes" is not true or false/);
  assert.match(said, /::error::input registry-port/);
  assert.match(said, /::error::input config: missing.yaml does not exist/);
  assert.match(said, /::error::input dashboard: "yes" is not true or false/);
  assert.match(said, /::error::input dashboard: install-only creates no cluster/);
  assert.equal(f.calls().length, 0);
});

test('prepare: state outside the workspace, cache keys shared by jobs', (t) => {
  const f = fixture(t);
  assert.equal(f.run('prepare', { RUNNER_OS: 'Linux', RUNNER_ARCH: 'X64', GITHUB_RUN_ID: '77', XDG_CACHE_HOME: '/c' }), 0);
  const out = parseOutputs(f.env.GITHUB_OUTPUT);
  assert.equal(out['state-dir'], path.join(f.temp, 'devcluster-action'));
  assert.equal(out['tools-dir'], path.join('/c', 'devcluster', 'bin'));
  assert.equal(out['mirrors-dir'], path.join('/c', 'devcluster', 'mirrors'));
  assert.match(out['tools-key'], /^devcluster-tools-linux-x64-[0-9a-f]{12}$/);
  assert.ok(out['mirrors-key'].startsWith(out['mirrors-restore-key']));
  assert.equal(out['mirrors-restore-key'], 'devcluster-mirrors-linux-x64-');
  assert.ok(fs.existsSync(path.join(out['state-dir'], 'devcluster-action.js')), 'the post step has no copy to run');
});

test('host-urls: the LoadBalancer Services of up -o json, one JSON line for fromJSON', (t) => {
  const f = fixture(t);
  assert.equal(f.run('up', { FAKE_UP: JSON.stringify(SAMPLE_UP) }), 0);
  const out = parseOutputs(f.env.GITHUB_OUTPUT);
  assert.ok(!out['host-urls'].includes('\n'));
  // As a workflow reads it: fromJSON(...)['devcluster-samples/web'][0].
  assert.deepEqual(JSON.parse(out['host-urls']), {
    'devcluster-samples/web': ['http://127.0.0.1:8080', 'https://127.0.0.1:8443'],
    'apps/dns': ['http://127.0.0.1:9053'],
  });
  assert.equal(JSON.parse(out['host-urls'])['devcluster-samples/web'][0], 'http://127.0.0.1:8080');
  assert.equal(out['node-ip'], '192.168.49.2');
  assert.equal(out['dashboard-url'], '', 'no dashboard asked for');
  assert.equal(f.calls().length, 1);
  // Only url, as an older result has it; no loadBalancers at all.
  assert.deepEqual(JSON.parse(hostURLs({ loadBalancers: [{ namespace: 'a', name: 'b', url: 'http://10.0.0.2:80' }] }).json), { 'a/b': ['http://10.0.0.2:80'] });
  assert.equal(hostURLs({ cluster: {} }).json, '{}');
  // Only scheme://host:port, as devcluster writes them.
  const odd = ['http://user:secret@127.0.0.1:8080', 'http://127.0.0.1:8080/x', 'http://127.0.0.1:8080?a=b', 'ftp://127.0.0.1:21', 'http://127.0.0.1 :80', 'javascript:alert(1)'];
  assert.deepEqual(hostURLs({ loadBalancers: [{ namespace: 'a', name: 'b', urls: [...odd, 'https://[::1]:8443/'] }] }),
    { json: '{"a/b":["https://[::1]:8443/"]}', dropped: odd.length });
});

test('host-urls is {} when up fails or installs only, so fromJSON never fails', (t) => {
  const f = fixture(t);
  assert.equal(f.run('up', { FAKE_FAIL: 'up' }), 6);
  assert.equal(parseOutputs(f.env.GITHUB_OUTPUT)['host-urls'], '{}');
  fs.writeFileSync(f.env.GITHUB_OUTPUT, '');
  assert.equal(f.run('up', { INPUT_INSTALL_ONLY: 'true' }), 0);
  assert.equal(parseOutputs(f.env.GITHUB_OUTPUT)['host-urls'], '{}');
});

test('a URL with a newline cannot add an output or a line', (t) => {
  const f = fixture(t);
  const evil = structuredClone(SAMPLE_UP);
  evil.loadBalancers[0].urls = ['http://127.0.0.1:8080\nregistry=evil.example:5000', 'http://127.0.0.1:8081'];
  evil.loadBalancers[1].url = 'http://127.0.0.1:9053\r\ndashboard-url<<EOF';
  evil.loadBalancers[1].urls = [];
  const { result, said } = captured(() => main(['up'], {
    ...f.env,
    INPUT_DASHBOARD: 'true',
    FAKE_UP: JSON.stringify(evil),
    FAKE_DASHBOARD: JSON.stringify({ url: 'http://127.0.0.1:41321\nregistry=evil.example:5000' }),
  }));
  assert.equal(result, 1, 'a dashboard that gives no URL fails the step');
  const out = parseOutputs(f.env.GITHUB_OUTPUT);
  assert.equal(out.registry, 'localhost:5001');
  assert.deepEqual(JSON.parse(out['host-urls']), { 'devcluster-samples/web': ['http://127.0.0.1:8081'] });
  assert.equal(out['dashboard-url'], '');
  assert.deepEqual(Object.keys(out).sort(), ['cluster-name', 'dashboard-url', 'diagnostics-dir', 'host-urls', 'kube-context', 'node-ip', 'registry']);
  assert.ok(!fs.readFileSync(f.env.GITHUB_OUTPUT, 'utf8').includes('evil'), 'a value that is not a URL reached the output file');
  // Warnings, each one line, that repeat none of the values.
  const warnings = said.split('\n').filter(Boolean);
  assert.equal(warnings.length, 2);
  for (const l of warnings) {
    assert.match(l, /^::warning::/);
    assert.ok(!l.includes('evil') && !l.includes('EOF'), l);
  }
});

test('dashboard: run after up only when asked, its URL an output, its token nowhere', (t) => {
  const f = fixture(t);
  assert.equal(f.run('up', { INPUT_DASHBOARD: 'false', INPUT_NAME: 'ci' }), 0);
  assert.equal(f.calls().length, 1, 'dashboard ran without being asked');
  assert.equal(parseOutputs(f.env.GITHUB_OUTPUT)['dashboard-url'], '');
  fs.writeFileSync(f.env.GITHUB_OUTPUT, '');

  // A devcluster that prints the token all the same: it goes nowhere.
  const token = 'eyJhbGciOiJSUzI1NiJ9.c2VjcmV0LXRva2Vu.c2lnbmF0dXJl';
  const dash = JSON.stringify({ context: 'ci', namespace: 'devcluster-dashboard', url: 'http://127.0.0.1:41321', token, changed: true });
  const { result, said } = captured(() => main(['up'], { ...f.env, INPUT_DASHBOARD: 'true', INPUT_NAME: 'ci', FAKE_DASHBOARD: dash }));
  assert.equal(result, 0);
  const [up, dashboard] = f.calls().slice(1);
  assert.equal(up[0], 'up');
  assert.deepEqual(dashboard, ['dashboard', '--name', 'ci', '--url', '--output', 'json']);
  assert.ok(!dashboard.includes('--token'));
  const out = parseOutputs(f.env.GITHUB_OUTPUT);
  assert.equal(out['dashboard-url'], 'http://127.0.0.1:41321');
  assert.ok(!fs.readFileSync(f.env.GITHUB_OUTPUT, 'utf8').includes('c2VjcmV0LXRva2Vu'), 'the token reached an output');
  assert.ok(!said.includes('c2VjcmV0LXRva2Vu'), 'the token reached the log');
  for (const dir of [f.ws, f.temp]) {
    for (const name of fs.readdirSync(dir, { recursive: true })) {
      const p = path.join(dir, name);
      if (fs.statSync(p).isFile()) {
        assert.ok(!fs.readFileSync(p, 'utf8').includes('c2VjcmV0LXRva2Vu'), `the token reached ${p}`);
      }
    }
  }
});

test('dashboard: not after a failed up; a failed dashboard fails the step with up\'s outputs set', (t) => {
  const f = fixture(t);
  assert.equal(f.run('up', { INPUT_DASHBOARD: 'true', FAKE_FAIL: 'up' }), 6);
  assert.deepEqual(f.calls().map((c) => c[0]), ['up']);
  fs.writeFileSync(f.env.GITHUB_OUTPUT, '');
  assert.equal(f.run('up', { INPUT_DASHBOARD: 'true', FAKE_FAIL: 'dashboard', FAKE_UP: JSON.stringify(SAMPLE_UP) }), 6);
  const out = parseOutputs(f.env.GITHUB_OUTPUT);
  assert.equal(out['kube-context'], 'ci');
  assert.equal(JSON.parse(out['host-urls'])['apps/dns'][0], 'http://127.0.0.1:9053');
  assert.equal(out['dashboard-url'], '');
  fs.writeFileSync(f.env.GITHUB_OUTPUT, '');
  assert.equal(f.run('up', { INPUT_DASHBOARD: 'true', FAKE_DASHBOARD: 'Dashboard: not JSON' }), 1);
  assert.equal(parseOutputs(f.env.GITHUB_OUTPUT)['dashboard-url'], '');
  // Recorded all the same: the post step deletes the cluster.
  assert.equal(f.run('post'), 0);
  assert.ok(f.calls().some((c) => c.includes('down')));
});
