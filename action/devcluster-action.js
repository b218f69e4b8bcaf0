#!/usr/bin/env node
// The steps of the devcluster GitHub Action that need more than a line of
// shell: the command lines built from the inputs (never through a shell),
// the outputs, and the clusters the job brought up, which the `down` use and
// the post step delete. Node's built-in modules only: no npm dependencies.
//
//   node devcluster-action.js prepare | up | diagnose | down | post
//
// Inputs arrive as INPUT_<NAME> environment variables set by action.yml's
// `env:` (names upper-cased, dashes as underscores). Everything this writes
// goes under $RUNNER_TEMP/devcluster-action, never into the workspace.
'use strict';

const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');
const { spawnSync } = require('node:child_process');

const BOOLEAN_INPUTS = ['registry', 'load-balancer', 'samples', 'install-only', 'dashboard'];

// A problem with the inputs: the message and exit code 2, as devcluster's
// own usage errors.
class InputError extends Error {}

function input(env, name) {
  const v = env['INPUT_' + name.toUpperCase().replace(/-/g, '_')];
  return v === undefined ? '' : v.trim();
}

function bool(env, name) {
  const v = input(env, name).toLowerCase();
  if (v === '' || v === 'true' || v === 'false') {
    return v;
  }
  throw new InputError(`input ${name}: ${JSON.stringify(input(env, name))} is not true or false (leave it out for the configuration's value)`);
}

// lines splits a multi-line input (start-args, manifests) into its items:
// one per line, and for start-args also by blanks, as a command line would.
function lines(v) {
  return v.split(/\r?\n/).map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#'));
}

function stateDir(env) {
  const base = env.RUNNER_TEMP || env.DEVCLUSTER_ACTION_STATE;
  if (!base) {
    throw new InputError('RUNNER_TEMP is not set: the action runs only in a GitHub Actions job');
  }
  return path.join(base, 'devcluster-action');
}

function workspace(env) {
  return env.GITHUB_WORKSPACE || process.cwd();
}

// configPath is the configuration file to read, as an absolute path, so the
// down use and the post step read the same file wherever they run: the
// config input, else ./devcluster.yaml when the workspace has one, else
// none (devcluster's defaults).
function configPath(env) {
  const c = input(env, 'config');
  if (c === '-') {
    throw new InputError('input config: standard input cannot be read again by the down use and the post step; give a file');
  }
  if (c !== '') {
    const p = path.resolve(workspace(env), c);
    if (!fs.existsSync(p)) {
      throw new InputError(`input config: ${c} does not exist (relative paths are relative to the workspace)`);
    }
    return p;
  }
  const d = path.join(workspace(env), 'devcluster.yaml');
  return fs.existsSync(d) ? d : '';
}

// globalArgs are the flags every command of the cluster takes: the file,
// and the minikube or kind executable the install step placed when a
// version other than devcluster's pinned one was asked for.
function globalArgs(env) {
  const args = [];
  const c = configPath(env);
  if (c) {
    args.push('--config', c);
  }
  if (env.DEVCLUSTER_ACTION_MINIKUBE) {
    args.push('--minikube', env.DEVCLUSTER_ACTION_MINIKUBE);
  }
  if (env.DEVCLUSTER_ACTION_KIND) {
    args.push('--kind', env.DEVCLUSTER_ACTION_KIND);
  }
  return args;
}

// identityArgs name the cluster: only what the inputs give, so the file
// decides the rest.
function identityArgs(env) {
  const args = [];
  for (const [name, flag] of [['name', '--name'], ['provider', '--provider'], ['context', '--context']]) {
    const v = input(env, name);
    if (v !== '') {
      args.push(flag, v);
    }
  }
  return args;
}

// upArgs is the `devcluster up` command line of the inputs: a flag for each
// input given, none for an input left empty (the configuration's value, or
// devcluster's default, stands).
function upArgs(env, diagnosticsDir) {
  for (const b of BOOLEAN_INPUTS) {
    bool(env, b);
  }
  const args = [...globalArgs(env), 'up', ...identityArgs(env)];
  const value = (name, flag) => {
    const v = input(env, name);
    if (v !== '') {
      args.push(flag + '=' + v);
    }
  };
  value('cpus', '--cpus');
  value('memory', '--memory');
  value('driver', '--driver');
  value('container-runtime', '--container-runtime');
  value('kubernetes-version', '--kubernetes-version');
  value('wait', '--wait');
  const port = input(env, 'registry-port');
  if (port !== '') {
    if (!/^[0-9]+$/.test(port) || Number(port) < 1 || Number(port) > 65535) {
      throw new InputError(`input registry-port: ${JSON.stringify(port)} is not a port (1-65535)`);
    }
    args.push('--registry-port=' + port);
  }
  for (const l of lines(input(env, 'start-args'))) {
    for (const a of l.split(/\s+/)) {
      args.push('--start-arg=' + a);
    }
  }
  for (const m of lines(input(env, 'manifests'))) {
    args.push('--manifest=' + path.resolve(workspace(env), m));
  }
  const toggles = [['registry', '--registry', '--no-registry'], ['load-balancer', '--lb', '--no-lb'], ['samples', '--samples', '--no-samples']];
  for (const [name, on, off] of toggles) {
    const v = bool(env, name);
    if (v === 'false') {
      args.push(off);
    } else if (v === 'true') {
      args.push(on);
    }
  }
  if (bool(env, 'install-only') === 'true') {
    args.push('--install-only');
  } else {
    args.push('--diagnostics-dir', diagnosticsDir);
  }
  args.push('--output', 'json');
  return args;
}

// dashboardArgs is the `devcluster dashboard` command line of the cluster
// up brought up: the URL as JSON, never the sign-in token (no --token), and
// no browser.
function dashboardArgs(globals, identity) {
  return [...globals, 'dashboard', ...identity, '--url', '--output', 'json'];
}

// hostURL is a URL as devcluster writes them, http(s)://host[:port], in
// printable ASCII without blanks, with no credentials, path, query or
// fragment; anything else is not a URL to pass on.
function hostURL(v) {
  if (typeof v !== 'string' || !/^https?:\/\/[!-~]+$/.test(v)) {
    return false;
  }
  try {
    const u = new URL(v);
    return (u.protocol === 'http:' || u.protocol === 'https:') && u.hostname !== '' && u.username === '' && u.password === '' &&
      u.pathname === '/' && u.search === '' && u.hash === '';
  } catch {
    return false;
  }
}

// hostURLs is the host-urls output: one JSON object on one line, each
// LoadBalancer Service that has host URLs as "namespace/name" with its
// URLs in port order, so that a workflow reads one with
// fromJSON(...)['devcluster-samples/web'][0]. It is {} when there are
// none, so fromJSON never fails. dropped counts the values left out.
function hostURLs(res) {
  const out = {};
  let dropped = 0;
  for (const lb of Array.isArray(res.loadBalancers) ? res.loadBalancers : []) {
    if (!lb || typeof lb.namespace !== 'string' || typeof lb.name !== 'string') {
      continue;
    }
    const given = Array.isArray(lb.urls) && lb.urls.length > 0 ? lb.urls : (lb.url ? [lb.url] : []);
    const urls = given.filter(hostURL);
    dropped += given.length - urls.length;
    if (urls.length > 0) {
      out[lb.namespace + '/' + lb.name] = urls;
    }
  }
  return { json: JSON.stringify(out), dropped };
}

// clusterID names a cluster's record: the same global and identity flags
// are the same cluster.
function clusterID(globals, identity) {
  return crypto.createHash('sha256').update(JSON.stringify([globals, identity])).digest('hex').slice(0, 16);
}

function recordsDir(env) {
  return path.join(stateDir(env), 'clusters');
}

function writeRecord(env, rec) {
  const dir = recordsDir(env);
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const tmp = path.join(dir, rec.id + '.json.tmp');
  fs.writeFileSync(tmp, JSON.stringify(rec, null, 2) + '\n', { mode: 0o600 });
  fs.renameSync(tmp, path.join(dir, rec.id + '.json'));
}

function readRecords(env) {
  let names;
  try {
    names = fs.readdirSync(recordsDir(env));
  } catch {
    return [];
  }
  return names.filter((n) => n.endsWith('.json')).sort().map((n) => JSON.parse(fs.readFileSync(path.join(recordsDir(env), n), 'utf8')));
}

// targets are the clusters a down use or the post step acts on: the one
// its inputs name, or, when it names none (no config, name, provider or
// context input), every cluster the job's up uses recorded.
function targets(env) {
  const explicit = input(env, 'config') !== '' || identityArgs(env).length > 0;
  const records = readRecords(env);
  if (!explicit && records.length > 0) {
    return records;
  }
  const globals = globalArgs(env);
  const identity = identityArgs(env);
  const id = clusterID(globals, identity);
  return [records.find((r) => r.id === id) || { id, globals, identity, diagnosticsDir: path.join(stateDir(env), 'diagnostics', id) }];
}

// setOutputs appends name<<delimiter blocks to $GITHUB_OUTPUT, with a
// random delimiter, so that no value (a newline in it included) can add an
// output of its own.
function setOutputs(env, outputs) {
  const file = env.GITHUB_OUTPUT;
  if (!file) {
    return;
  }
  let text = '';
  for (const [name, value] of Object.entries(outputs)) {
    const v = String(value ?? '');
    let delimiter;
    do {
      delimiter = 'ghadelimiter_' + crypto.randomUUID();
    } while (v.includes(delimiter));
    text += `${name}<<${delimiter}\n${v}\n${delimiter}\n`;
  }
  fs.appendFileSync(file, text);
}

function devcluster(env) {
  return env.DEVCLUSTER_ACTION_BIN || 'devcluster';
}

// run runs devcluster with args and no shell; standard error (progress,
// problems) goes to the job's log. Every command is bounded by devcluster's
// own waits; the outer bound is a backstop.
function run(env, args, { capture = false, timeoutMs = 60 * 60 * 1000 } = {}) {
  const r = spawnSync(devcluster(env), args, {
    env,
    stdio: ['ignore', capture ? 'pipe' : 'inherit', 'inherit'],
    maxBuffer: 64 << 20,
    timeout: timeoutMs,
    encoding: 'utf8',
  });
  if (r.error) {
    return { code: 1, stdout: '', error: `${devcluster(env)}: ${r.error.message}` };
  }
  return { code: r.status === null ? 1 : r.status, stdout: r.stdout || '' };
}

function log(msg) {
  process.stderr.write(msg + '\n');
}

// result parses the JSON a devcluster command printed; what it printed
// otherwise is not repeated in the log.
function result(what, stdout) {
  try {
    const v = JSON.parse(stdout);
    if (v !== null && typeof v === 'object') {
      return v;
    }
  } catch {
    // reported below
  }
  log(`devcluster ${what} printed no JSON result`);
  return null;
}

// GitHub's workflow commands: a value in them is escaped so it cannot end
// the command.
function annotate(kind, msg) {
  const esc = String(msg).replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
  process.stdout.write(`::${kind}::${esc}\n`);
}

function modeUp(env) {
  const globals = globalArgs(env);
  const identity = identityArgs(env);
  const id = clusterID(globals, identity);
  const diagnosticsDir = path.join(stateDir(env), 'diagnostics', id);
  const args = upArgs(env, diagnosticsDir);
  const installOnly = args.includes('--install-only');
  const dashboard = bool(env, 'dashboard') === 'true';
  if (dashboard && installOnly) {
    throw new InputError('input dashboard: install-only creates no cluster to install the dashboard into');
  }
  if (!installOnly) {
    // Recorded before up runs: a failed up can leave a cluster behind.
    writeRecord(env, { id, globals, identity, diagnosticsDir });
  }
  const r = run(env, args, { capture: true });
  let code = r.code;
  let res = {};
  if (r.code === 0) {
    res = result('up', r.stdout);
    if (res === null) {
      return 1;
    }
  } else if (r.error) {
    log(r.error);
  }
  let dashboardURL = '';
  if (dashboard && code === 0) {
    // Standard output is captured and only its url read: the token is not
    // asked for, and would go nowhere if it came.
    const d = run(env, dashboardArgs(globals, identity), { capture: true, timeoutMs: 15 * 60 * 1000 });
    if (d.code !== 0) {
      if (d.error) {
        log(d.error);
      }
      code = d.code;
    } else {
      const dres = result('dashboard', d.stdout);
      if (dres === null) {
        code = 1;
      } else if (hostURL(dres.url)) {
        dashboardURL = dres.url;
      } else {
        annotate('warning', 'devcluster dashboard printed no http(s) URL; the dashboard-url output is empty');
        code = 1;
      }
    }
  }
  const lbs = hostURLs(res);
  if (lbs.dropped > 0) {
    annotate('warning', `${lbs.dropped} host URL(s) of LoadBalancer Services are not http(s) URLs and are left out of host-urls`);
  }
  const cluster = res.cluster || {};
  setOutputs(env, {
    'kube-context': cluster.kubeContext || '',
    registry: (res.registry || {}).host || '',
    'node-ip': cluster.ip || '',
    'cluster-name': cluster.name || '',
    'host-urls': lbs.json,
    'dashboard-url': dashboardURL,
    'diagnostics-dir': installOnly ? '' : diagnosticsDir,
  });
  return code;
}

// artifactName is unique to the job, its matrix entry and the attempt, and
// holds none of the characters upload-artifact refuses.
function artifactName(env) {
  const given = input(env, 'artifact-name');
  const parts = given !== '' ? [given] : ['devcluster-diagnostics', env.GITHUB_JOB || 'job'];
  if (given === '' && env.DEVCLUSTER_ACTION_JOB_INDEX && env.DEVCLUSTER_ACTION_JOB_TOTAL && env.DEVCLUSTER_ACTION_JOB_TOTAL !== '1') {
    parts.push(env.DEVCLUSTER_ACTION_JOB_INDEX);
  }
  if (given === '') {
    parts.push('attempt' + (env.GITHUB_RUN_ATTEMPT || '1'));
  }
  return parts.join('-').replace(/["':<>|*?\\/\r\n]+/g, '_');
}

function hasBundle(dir) {
  try {
    return fs.readdirSync(dir).length > 0;
  } catch {
    return false;
  }
}

// modeDiagnose collects a bundle of every target cluster that has none yet
// (a failed up wrote its own, which is the one to keep), into one
// directory for one upload. It never fails the step: a bundle that could
// not be collected must not stop the delete that follows.
function modeDiagnose(env) {
  const root = path.join(stateDir(env), 'diagnostics');
  fs.mkdirSync(root, { recursive: true, mode: 0o700 });
  for (const t of targets(env)) {
    if (hasBundle(t.diagnosticsDir)) {
      log(`the bundle of the command that failed is kept: ${t.diagnosticsDir}`);
      continue;
    }
    const r = run(env, [...t.globals, 'diagnose', ...t.identity, '--dir', t.diagnosticsDir], { timeoutMs: 15 * 60 * 1000 });
    if (r.code !== 0) {
      annotate('warning', `devcluster diagnose failed (exit ${r.code})${r.error ? ': ' + r.error : ''}; the cluster is deleted all the same`);
    }
  }
  setOutputs(env, { 'diagnostics-dir': root, 'artifact-name': artifactName(env) });
  return 0;
}

// modeDown deletes every target cluster, each even when another failed,
// and forgets those deleted, so the post step finds nothing left to do.
function modeDown(env) {
  let code = 0;
  for (const t of targets(env)) {
    const r = run(env, [...t.globals, 'down', ...t.identity], { timeoutMs: 30 * 60 * 1000 });
    if (r.code === 0) {
      fs.rmSync(path.join(recordsDir(env), t.id + '.json'), { force: true });
    } else {
      if (r.error) {
        log(r.error);
      }
      code = r.code;
    }
  }
  return code;
}

// modePost runs at the end of the job: a cluster an up use recorded and no
// down use deleted is deleted now.
function modePost(env) {
  const records = readRecords(env);
  if (records.length === 0) {
    log('devcluster: no cluster left to delete');
    return 0;
  }
  let code = 0;
  for (const t of records) {
    log(`devcluster: deleting the cluster the job left (${[...t.identity].join(' ') || 'from its configuration'})`);
    const r = run(env, [...t.globals, 'down', ...t.identity], { timeoutMs: 30 * 60 * 1000 });
    if (r.code === 0) {
      fs.rmSync(path.join(recordsDir(env), t.id + '.json'), { force: true });
    } else {
      annotate('warning', `devcluster down failed at the end of the job (exit ${r.code})`);
      code = r.code;
    }
  }
  return code;
}

// modePrepare computes what the steps around it need: the state directory
// and the cache paths and keys.
function modePrepare(env) {
  const dir = stateDir(env);
  fs.mkdirSync(path.join(dir, 'bin'), { recursive: true, mode: 0o700 });
  // The post step runs this file from here: by then the action's own
  // directory is that of the step that registered it.
  fs.copyFileSync(__filename, path.join(dir, 'devcluster-action.js'));
  const home = env.HOME || env.USERPROFILE || '';
  const cache = env.XDG_CACHE_HOME || path.join(home, '.cache');
  const os = (env.RUNNER_OS || process.platform).toLowerCase();
  const arch = (env.RUNNER_ARCH || process.arch).toLowerCase();
  // The pinned minikube and kind versions are in the action's own source.
  let pins = '';
  try {
    pins = fs.readFileSync(path.join(__dirname, '..', 'install', 'release.go'), 'utf8');
  } catch {
    pins = env.GITHUB_ACTION_REF || '';
  }
  const tools = [pins, input(env, 'minikube-version'), input(env, 'kind-version')].join('\0');
  const toolsHash = crypto.createHash('sha256').update(tools).digest('hex').slice(0, 12);
  setOutputs(env, {
    'state-dir': dir,
    'tools-dir': path.join(cache, 'devcluster', 'bin'),
    'mirrors-dir': path.join(cache, 'devcluster', 'mirrors'),
    'tools-key': `devcluster-tools-${os}-${arch}-${toolsHash}`,
    'mirrors-key': `devcluster-mirrors-${os}-${arch}-${env.GITHUB_RUN_ID || '0'}-${env.GITHUB_RUN_ATTEMPT || '1'}-${env.GITHUB_JOB || 'job'}-${env.DEVCLUSTER_ACTION_JOB_INDEX || '0'}`,
    'mirrors-restore-key': `devcluster-mirrors-${os}-${arch}-`,
    'artifact-name': artifactName(env),
  });
  return 0;
}

const modes = { prepare: modePrepare, up: modeUp, diagnose: modeDiagnose, down: modeDown, post: modePost };

function main(argv, env) {
  const mode = modes[argv[0]];
  if (!mode) {
    log(`usage: devcluster-action.js ${Object.keys(modes).join('|')}`);
    return 2;
  }
  try {
    return mode(env);
  } catch (e) {
    if (e instanceof InputError) {
      annotate('error', e.message);
      return 2;
    }
    throw e;
  }
}

module.exports = { main, upArgs, dashboardArgs, hostURLs, setOutputs, artifactName, targets, clusterID, InputError };

if (require.main === module) {
  process.exitCode = main(process.argv.slice(2), process.env);
}
